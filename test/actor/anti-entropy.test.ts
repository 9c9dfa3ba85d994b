/**
 * Anti-entropy between two replicas, driven through the server's own code
 * (continueAntiEntropy, handleGossipFrames) on two real stores, the frames handed over in
 * memory: replicas that diverged (gossip lost both ways) exchange only the buckets whose
 * digests differ and end up equal; replicas that agree send digests and nothing else.
 */
import {
  antiEntropyTickBudgetMs,
  BUCKETS,
  continueAntiEntropy,
  newAntiEntropyState,
} from "../../src/actor/anti-entropy";
import type { GossipContext } from "../../src/actor/gossip-context";
import { decodeGossipFrame, GossipFrameKind } from "../../src/actor/gossip-frame";
import { handleGossipFrames } from "../../src/actor/handlers/gossip";
import { decodeRecords } from "../../src/core/batch";
import type { Store } from "../../src/core/store";
import { encodeLww, LatticeType } from "../../src/lattices";
import { LocalPlacement } from "../../src/routing/placement";
import { gossipActor } from "../support/gossip-actor";

const KEY_COUNT = 2000;
const PERIOD_MS = 1000;

function contents(store: Store): string[] {
  return decodeRecords(store.scan(0, 1 << 30).records)
    .map((record) => `${Buffer.from(record.key).toString()}=${Buffer.from(record.payload).toString("hex")}`)
    .sort();
}

function actor(tid: number, placement: LocalPlacement, outbox: Map<number, Uint8Array[]>): GossipContext {
  const context = gossipActor(tid, placement, outbox);
  context.antiEntropy = newAntiEntropyState(PERIOD_MS);
  return context;
}

/** Runs ticks on both actors, delivering frames, until neither sends anything (bounded). */
function runRounds(
  actors: GossipContext[],
  outbox: Map<number, Uint8Array[]>,
  startMs: number,
): { frames: Map<GossipFrameKind, number>; ticks: number } {
  const frames = new Map<GossipFrameKind, number>();
  let now = startMs;
  for (let tick = 0; tick < 200; tick++) {
    for (const context of actors)
      continueAntiEntropy(
        context,
        context.antiEntropy!,
        now,
        performance.now() + antiEntropyTickBudgetMs(context.antiEntropy!),
      );
    let delivered = 0;
    for (const [tid, queue] of outbox) {
      if (queue.length === 0) continue;
      for (const frame of queue)
        frames.set(decodeGossipFrame(frame).kind, (frames.get(decodeGossipFrame(frame).kind) ?? 0) + 1);
      handleGossipFrames(actors[tid], queue.splice(0));
      delivered++;
    }
    const busy = actors.some(
      (context) =>
        context.antiEntropy!.round !== undefined ||
        context.antiEntropy!.repair !== undefined ||
        context.antiEntropy!.repairs.size > 0,
    );
    if (delivered === 0 && !busy) return { frames, ticks: tick };
    now += 10;
  }
  throw new Error("anti-entropy did not settle in 200 ticks");
}

describe("anti-entropy", () => {
  it("repairs replicas that diverged both ways, sending only differing buckets", () => {
    const placement = new LocalPlacement(2, 2);
    const outbox = new Map<number, Uint8Array[]>([
      [0, []],
      [1, []],
    ]);
    const actors = [actor(0, placement, outbox), actor(1, placement, outbox)];
    for (let i = 0; i < KEY_COUNT; i++) {
      const payload = encodeLww({ timestamp: 1, value: `v${i}` });
      for (const context of actors) context.store.put(`k${i}`, LatticeType.LWW, payload);
    }
    // Writes whose gossip was lost: a few keys newer on each side, one key only on each.
    actors[0].store.put("k5", LatticeType.LWW, encodeLww({ timestamp: 2, value: "newer on 0" }));
    actors[1].store.put("k77", LatticeType.LWW, encodeLww({ timestamp: 2, value: "newer on 1" }));
    actors[0].store.put("only-0", LatticeType.LWW, encodeLww({ timestamp: 1, value: "a" }));
    actors[1].store.put("only-1", LatticeType.LWW, encodeLww({ timestamp: 1, value: "b" }));
    expect(contents(actors[0].store)).not.toEqual(contents(actors[1].store));
    // Two rounds: the first gives each side the other's digest, the repairs follow.
    runRounds(actors, outbox, PERIOD_MS);
    runRounds(actors, outbox, 3 * PERIOD_MS);
    expect(contents(actors[0].store)).toEqual(contents(actors[1].store));
    expect(actors[0].store.size).toBe(KEY_COUNT + 2);
    // Four differing keys fall into at most four buckets on each side: far fewer keys than the store sent.
    for (const context of actors) {
      expect(context.antiEntropy!.bucketsRepaired).toBeLessThanOrEqual(4);
      expect(context.antiEntropy!.keysRepaired).toBeLessThan(((4 * KEY_COUNT) / BUCKETS) * 3);
      expect(context.counters.gossipMergeErrors).toBe(0);
    }
  });

  it("sends only digests between replicas that agree", () => {
    const placement = new LocalPlacement(2, 2);
    const outbox = new Map<number, Uint8Array[]>([
      [0, []],
      [1, []],
    ]);
    const actors = [actor(0, placement, outbox), actor(1, placement, outbox)];
    for (let i = 0; i < KEY_COUNT; i++)
      for (const context of actors)
        context.store.put(`k${i}`, LatticeType.LWW, encodeLww({ timestamp: 1, value: `v${i}` }));
    runRounds(actors, outbox, PERIOD_MS);
    const { frames } = runRounds(actors, outbox, 3 * PERIOD_MS);
    expect([...frames.keys()]).toEqual([GossipFrameKind.DIGESTS]);
    for (const context of actors) expect(context.antiEntropy!.keysRepaired).toBe(0);
  });
});
