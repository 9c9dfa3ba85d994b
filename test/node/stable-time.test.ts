/**
 * The stable time on a node's main thread (src/node/stable-time.ts, docs/causal-stability.md
 * §6, §7): the node's bound is the least of its actors' in its epoch, none until each has
 * reported one there; the cluster's is the least of its members' in that epoch, none until
 * each reports one there, rising within an epoch and starting anew in the next.
 */
import { NodeStableTime } from "../../src/node/stable-time";

const EPOCH = 41;

describe("the node's bound", () => {
  it("is none until every actor has reported one in the epoch, then the least of theirs", () => {
    const stable = new NodeStableTime(3);
    stable.noteHeld(0, { micros: 500, epoch: EPOCH });
    stable.noteHeld(1, { micros: 400, epoch: EPOCH });
    expect(stable.nodeHeldIn(EPOCH)).toBe(0);
    stable.noteHeld(2, { micros: 450, epoch: EPOCH });
    expect(stable.nodeHeldIn(EPOCH)).toBe(400);
    stable.noteHeld(1, { micros: 700, epoch: EPOCH });
    expect(stable.nodeHeldIn(EPOCH)).toBe(450);
  });

  it("counts an actor only in the epoch it reported, and never lowers one for a late report", () => {
    const stable = new NodeStableTime(2);
    stable.noteHeld(0, { micros: 900, epoch: EPOCH });
    stable.noteHeld(1, { micros: 800, epoch: EPOCH });
    stable.noteHeld(1, { micros: 700, epoch: EPOCH });
    expect(stable.nodeHeldIn(EPOCH)).toBe(800);
    stable.noteHeld(0, { micros: 950, epoch: EPOCH + 1 });
    expect(stable.nodeHeldIn(EPOCH + 1)).toBe(0);
    expect(stable.nodeHeldIn(EPOCH)).toBe(0);
    stable.noteHeld(1, { micros: 960, epoch: EPOCH + 1 });
    expect(stable.nodeHeldIn(EPOCH + 1)).toBe(950);
  });

  it("refuses a report from an actor it does not have", () => {
    expect(() => new NodeStableTime(2).noteHeld(2, { micros: 1, epoch: EPOCH })).toThrow(RangeError);
  });
});

describe("the cluster's stable time", () => {
  it("is the least bound of the epoch's members, none while one has no bound in that epoch", () => {
    const stable = new NodeStableTime(1);
    const inEpoch = (micros: number) => ({ micros, epoch: EPOCH });
    expect(stable.update(EPOCH, [inEpoch(900), undefined])).toEqual({ micros: 0, epoch: EPOCH });
    expect(stable.update(EPOCH, [inEpoch(900), { micros: 800, epoch: EPOCH - 1 }])).toBeUndefined();
    expect(stable.update(EPOCH, [inEpoch(900), inEpoch(800)])).toEqual(inEpoch(800));
    // Unchanged: nothing new to post to the actors.
    expect(stable.update(EPOCH, [inEpoch(900), inEpoch(800)])).toBeUndefined();
    expect(stable.update(EPOCH, [inEpoch(990), inEpoch(950)])).toEqual(inEpoch(950));
  });

  it("only rises within an epoch, and starts anew (none) in the next", () => {
    const stable = new NodeStableTime(1);
    stable.update(EPOCH, [{ micros: 900, epoch: EPOCH }]);
    // A member's older heartbeat, or one not yet in the epoch, does not take it back.
    expect(stable.update(EPOCH, [{ micros: 850, epoch: EPOCH }])).toBeUndefined();
    expect(stable.update(EPOCH, [undefined])).toBeUndefined();
    expect(stable.update(EPOCH + 1, [{ micros: 990, epoch: EPOCH }])).toEqual({ micros: 0, epoch: EPOCH + 1 });
    expect(stable.update(EPOCH + 1, [{ micros: 700, epoch: EPOCH + 1 }])).toEqual({ micros: 700, epoch: EPOCH + 1 });
  });
});
