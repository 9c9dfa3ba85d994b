/**
 * An actor's part of the stable time (src/actor/causal-stability.ts, docs/causal-stability.md
 * §6): the accept floor follows the clock; each complete round moves the held bound to the
 * floor at the round's start; a round waits for its handoffs, for those a placement change
 * started, and for a rebalance; replicated causal keys written (MULTI_CAUSAL or stamped
 * LWW) go out in the next round, to every other replica, acknowledged, as the store holds
 * them.
 */
import {
  enterEpoch,
  extendRound,
  newStabilityState,
  StabilityState,
  stabilityTick,
} from "../../src/actor/causal-stability";
import type { GossipContext } from "../../src/actor/gossip-context";
import { decodeGossipFrame, GossipFrameKind } from "../../src/actor/gossip-frame";
import { acknowledgeHandoff, sendHandoff } from "../../src/actor/handlers/replication";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeCausalLww } from "../../src/lattices/causal-lww";
import { encodeMultiCausal } from "../../src/lattices/values";
import { LocalPlacement } from "../../src/routing/placement";
import { gossipActor } from "../support/gossip-actor";

const LAG_MS = 100;
const LAG_MICROS = LAG_MS * 1000;
const EPOCH = 7;

/** One tick's held bound in µs (its epoch checked by the epoch test). */
function tick(state: StabilityState, context: GossipContext, nowMicros: number, moving: boolean): number {
  return stabilityTick(state, context, nowMicros, moving).micros;
}

/** Actor 0 of two, every key on both. */
function harness(): { context: GossipContext; outbox: Map<number, Uint8Array[]> } {
  const outbox = new Map<number, Uint8Array[]>([
    [0, []],
    [1, []],
  ]);
  return { context: gossipActor(0, new LocalPlacement(2, 2), outbox), outbox };
}

function handoffIds(frames: readonly Uint8Array[]): number[] {
  return frames
    .map(decodeGossipFrame)
    .flatMap((frame) => (frame.kind === GossipFrameKind.HANDOFF ? [frame.handoffId] : []));
}

describe("an actor's stable time", () => {
  it("holds what it accepted before the last complete round started: the floor then", () => {
    const { context } = harness();
    const state = newStabilityState(LAG_MS, EPOCH);
    // The first round starts at the first tick; nothing is held before it completes.
    expect(tick(state, context, 1_000_000, false)).toBe(0);
    expect(state.acceptFloorMicros).toBe(1_000_000 - LAG_MICROS);
    expect(tick(state, context, 1_020_000, false)).toBe(1_000_000 - LAG_MICROS);
    expect(tick(state, context, 1_040_000, false)).toBe(1_020_000 - LAG_MICROS);
    // The floor never goes back, even when the clock does.
    tick(state, context, 900_000, false);
    expect(state.acceptFloorMicros).toBe(1_040_000 - LAG_MICROS);
  });

  it("hands replicated causal writes to the other replica, and holds them only once acknowledged", () => {
    const { context, outbox } = harness();
    const state = newStabilityState(LAG_MS, EPOCH);
    tick(state, context, 1_000_000, false);
    tick(state, context, 1_020_000, false);
    const key = new TextEncoder().encode("k");
    context.store.put(
      key,
      LatticeType.MULTI_CAUSAL,
      encodeMultiCausal({ vectorClock: { w: 1 }, dependencies: [], values: ["v"] }),
    );
    state.causalWrites.add("k");
    const held = tick(state, context, 1_040_000, false);
    const [handoffId] = handoffIds(outbox.get(1)!);
    expect(handoffId).toBeDefined();
    expect(state.causalWrites.size).toBe(0);
    // Unacknowledged: the round that sent it does not complete, and the held bound waits.
    expect(tick(state, context, 1_060_000, false)).toBe(held);
    expect(tick(state, context, 1_080_000, false)).toBe(held);
    acknowledgeHandoff(context, "1", handoffId);
    expect(tick(state, context, 1_100_000, false)).toBe(1_040_000 - LAG_MICROS);
  });

  it("hands a stamped LWW key off as the store holds it: its lattice type and current value", () => {
    const { context, outbox } = harness();
    const state = newStabilityState(LAG_MS, EPOCH);
    tick(state, context, 1_000_000, false);
    const key = new TextEncoder().encode("k");
    const stamped = (stampMicros: number) =>
      encodeCausalLww({
        stampMicros,
        baseMicros: 0,
        writer: key,
        dependencyStamps: [],
        value: key,
        epoch: EPOCH,
        baseEpoch: 0,
      });
    context.store.put(key, LatticeType.LWW, stamped(950_000));
    context.store.put(key, LatticeType.LWW, stamped(960_000));
    state.causalWrites.add("k");
    tick(state, context, 1_020_000, false);
    const records = outbox
      .get(1)!
      .map(decodeGossipFrame)
      .flatMap((frame) => (frame.kind === GossipFrameKind.HANDOFF ? frame.records : []));
    expect(records.map(({ type, key }) => [type, Buffer.from(key).toString()])).toEqual([[LatticeType.LWW, "k"]]);
    expect(Buffer.from(records[0].payload).equals(Buffer.from(stamped(960_000)))).toBe(true);
  });

  it("waits for the handoffs a placement change started, and for a rebalance", () => {
    const { context } = harness();
    const state = newStabilityState(LAG_MS, EPOCH);
    tick(state, context, 1_000_000, false);
    tick(state, context, 1_020_000, false);
    const seeded = sendHandoff(context, [Uint8Array.of(1)], ["1"], undefined, () => {});
    extendRound(state, context);
    const held = tick(state, context, 1_040_000, false);
    expect(tick(state, context, 1_060_000, false)).toBe(held);
    acknowledgeHandoff(context, "1", seeded);
    // A rebalance under way holds it too, whatever the handoffs.
    expect(tick(state, context, 1_080_000, true)).toBe(held);
    expect(tick(state, context, 1_100_000, false)).toBeGreaterThan(held);
  });

  it("does not wait for a handoff to an actor gone from the layout (a dead member's)", () => {
    const { context, outbox } = harness();
    outbox.set(9, []);
    const state = newStabilityState(LAG_MS, EPOCH);
    stabilityTick(state, context, 1_000_000, false);
    stabilityTick(state, context, 1_020_000, false);
    // Sent to actor 1 and to "9", which no actor of the layout is: only actor 1's acknowledgement is awaited.
    const handoffId = sendHandoff(context, [Uint8Array.of(1)], ["1", "9"], undefined, () => {});
    extendRound(state, context);
    const held = tick(state, context, 1_040_000, false);
    expect(tick(state, context, 1_060_000, false)).toBe(held);
    acknowledgeHandoff(context, "1", handoffId);
    expect(context.state.handoffs.has(handoffId)).toBe(true);
    expect(tick(state, context, 1_080_000, false)).toBeGreaterThan(held);
  });

  it("reports its bound in the epoch it was reached in: a new epoch's first comes from a round past the rebalance", () => {
    const { context } = harness();
    const state = newStabilityState(LAG_MS, EPOCH);
    stabilityTick(state, context, 1_000_000, false);
    expect(stabilityTick(state, context, 1_020_000, false)).toEqual({ micros: 1_000_000 - LAG_MICROS, epoch: EPOCH });
    state.nodeStableMicros = 500_000;
    // A layout with other members: its epoch from now on, no stable time of the old one on responses,
    // and the bound stays the old epoch's while the rebalance it started runs.
    enterEpoch(state, EPOCH + 1);
    extendRound(state, context);
    expect(state.epoch).toBe(EPOCH + 1);
    expect(state.nodeStableMicros).toBe(0);
    expect(stabilityTick(state, context, 1_040_000, true)).toEqual({ micros: 1_000_000 - LAG_MICROS, epoch: EPOCH });
    expect(stabilityTick(state, context, 1_060_000, false)).toEqual({
      micros: 1_020_000 - LAG_MICROS,
      epoch: EPOCH + 1,
    });
  });

  it("refuses an accept lag that is not a whole number of milliseconds", () => {
    expect(() => newStabilityState(-1, EPOCH)).toThrow(RangeError);
    expect(() => newStabilityState(0.5, EPOCH)).toThrow(RangeError);
  });
});
