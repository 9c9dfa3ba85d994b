/**
 * The node's stable time (src/node/stable-time.ts, docs/causal-stability.md §6): the least
 * held bound of its actors, none until each has reported, and none while the cluster has
 * other members.
 */
import { NodeStableTime } from "../../src/node/stable-time";

describe("the node's stable time", () => {
  it("is none until every actor has reported, then the least held bound, posted when it changes", () => {
    const stable = new NodeStableTime(3);
    expect(stable.noteHeld(0, 500, 1)).toBeUndefined();
    expect(stable.noteHeld(1, 400, 1)).toBeUndefined();
    expect(stable.noteHeld(2, 450, 1)).toBe(400);
    expect(stable.noteHeld(2, 460, 1)).toBeUndefined();
    expect(stable.noteHeld(1, 700, 1)).toBe(460);
  });

  it("never goes back for a report that arrives out of order", () => {
    const stable = new NodeStableTime(1);
    expect(stable.noteHeld(0, 900, 1)).toBe(900);
    expect(stable.noteHeld(0, 800, 1)).toBeUndefined();
    expect(stable.noteHeld(0, 1000, 1)).toBe(1000);
  });

  it("is none (0) while the cluster has other members, and comes back when it has none", () => {
    const stable = new NodeStableTime(1);
    expect(stable.noteHeld(0, 900, 1)).toBe(900);
    expect(stable.noteHeld(0, 950, 2)).toBe(0);
    expect(stable.noteHeld(0, 990, 2)).toBeUndefined();
    expect(stable.noteHeld(0, 1000, 1)).toBe(1000);
  });

  it("refuses a report from an actor it does not have", () => {
    expect(() => new NodeStableTime(2).noteHeld(2, 1, 1)).toThrow(RangeError);
  });
});
