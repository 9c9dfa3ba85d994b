/**
 * Rebalancing through a leave, driven through the server's rebalance and gossip code on
 * real stores, frames handed over in memory. Three nodes, two copies of each key; node b
 * leaves (serving still, off the next ring). The race these tests pin down was seen in
 * test/cluster/join-leave: a write gossiped to b under the layout before the leave reached
 * b after b's scan had passed the key, the other holder left seeding to b, and b exited:
 * the key's new replica never got the write.
 */
import { GossipContext, newGossipState } from "../../src/actor/gossip-context";
import { decodeGossipFrame, GossipFrameKind, handoffAckFrame, recordsFrame } from "../../src/actor/gossip-frame";
import { handleGossipFrames } from "../../src/actor/handlers/gossip";
import {
  continueRebalance,
  handOffDirtyKeys,
  newRebalanceState,
  rebalanceTickBudgetMs,
  startRebalance,
} from "../../src/actor/rebalance";
import { emptyCounters } from "../../src/actor/stats";
import { RECORD_HEADER_BYTES, writeRecord } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { encodeLww, LatticeType } from "../../src/lattices";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import type { ClusterLayout, LayoutNode } from "../../src/routing/layout";
import { keyBytes } from "../../src/wire/key";

const node = (host: string, next = true): LayoutNode => ({
  id: `${host}:6350`,
  incarnation: 1,
  host,
  portOffset: 0,
  threads: 1,
  localReplication: 1,
  serving: true,
  next,
});

const layoutOf = (selfHost: string, leaving: boolean): ClusterLayout => ({
  version: leaving ? 2 : 1,
  selfId: `${selfHost}:6350`,
  globalReplication: 2,
  nodes: [node("127.0.0.1"), node("127.0.0.2", !leaving), node("127.0.0.3")],
});

type Outbox = Map<string, Uint8Array[]>;

function actorOn(host: string, leaving: boolean, outbox: Outbox): GossipContext {
  const placement = new ClusterPlacement(layoutOf(host, leaving));
  return {
    tid: 0,
    store: createStore({ engine: "wasm" }),
    placement,
    peers: {
      send: (address, frame) => {
        if (!outbox.has(address)) outbox.set(address, []);
        outbox.get(address)!.push(frame);
      },
    },
    counters: emptyCounters(),
    state: newGossipState(),
    gossipPageBytes: 1 << 20,
    gossipAddress: (actor) => placement.gossipAddress(actor),
    selfAddress: placement.gossipAddress(placement.actorIndex(0)),
    reportBadFrame: (reason) => {
      throw new Error(reason);
    },
  };
}

function addressOf(host: string): string {
  const placement = new ClusterPlacement(layoutOf(host, false));
  return placement.gossipAddress(placement.actorIndex(0));
}
const A = addressOf("127.0.0.1");
const B = addressOf("127.0.0.2");
const C = addressOf("127.0.0.3");

/** A key whose replicas before the leave are `before` (in placement order) and after it `after` (as a set). */
function keyPlaced(before: string[], after: string[]): string {
  const old = new ClusterPlacement(layoutOf("127.0.0.1", false));
  const next = new ClusterPlacement(layoutOf("127.0.0.1", true));
  const addresses = (placement: ClusterPlacement, key: string, ring: "write" | "next") =>
    placement
      .writeReplicas(keyBytes(key))
      .filter((actor) => ring === "write" || placement.isOnNextRing(actor))
      .map((actor) => placement.gossipAddress(actor));
  for (let i = 0; i < 10_000; i++) {
    const key = `key-${i}`;
    const nextReplicas = addresses(next, key, "next");
    if (
      JSON.stringify(addresses(old, key, "write")) === JSON.stringify(before) &&
      nextReplicas.length === after.length &&
      after.every((address) => nextReplicas.includes(address))
    )
      return key;
  }
  throw new Error(`no key placed ${before} then ${after}`);
}

function lwwRecord(key: string, value: string): Uint8Array {
  const keyEncoded = keyBytes(key);
  const payload = encodeLww({ timestamp: 7, value });
  const record = new Uint8Array(RECORD_HEADER_BYTES + keyEncoded.length + payload.length);
  writeRecord(record, 0, LatticeType.LWW, keyEncoded, payload);
  return record;
}

/** Keys in the HANDOFF frames of `frames`. */
function handedOffKeys(frames: readonly Uint8Array[] | undefined): string[] {
  const keys: string[] = [];
  for (const bytes of frames ?? []) {
    const frame = decodeGossipFrame(bytes);
    if (frame.kind !== GossipFrameKind.HANDOFF) continue;
    for (const record of frame.records) keys.push(Buffer.from(record.key).toString());
  }
  return keys;
}

/** Runs a whole rebalance of `context` from the layout before the leave. */
function rebalanceFromBeforeLeave(context: GossipContext, host: string): void {
  const state = newRebalanceState();
  startRebalance(state, new ClusterPlacement(layoutOf(host, false)), 2);
  continueRebalance(context, state, () => undefined, performance.now() + 1000);
}

describe("rebalancing through a leave", () => {
  /** The keys `host`'s actor hands to a (new to the key) after rebalancing a key it holds, placed `before` the leave. */
  function handedToA(host: string, before: string[]): { key: string; sent: string[] } {
    const key = keyPlaced(before, [C, A]);
    const outbox: Outbox = new Map();
    const actor = actorOn(host, true, outbox);
    actor.store.put(key, LatticeType.LWW, encodeLww({ timestamp: 1, value: "v" }));
    rebalanceFromBeforeLeave(actor, host);
    return { key, sent: handedOffKeys(outbox.get(A)) };
  }

  it("the holder that stays seeds a key's new replica, not the leaving node listed before it", () => {
    const { key, sent } = handedToA("127.0.0.3", [B, C]);
    expect(sent).toEqual([key]);
  });

  it("the leaving actor sends every key it holds to the key's new replicas", () => {
    const { key, sent } = handedToA("127.0.0.2", [C, B]);
    expect(sent).toEqual([key]);
  });

  it("a value gossiped to the leaving actor after its scan goes on to the replicas that stay, acknowledged", async () => {
    const key = keyPlaced([B, C], [C, A]);
    const outbox: Outbox = new Map();
    const leaver = actorOn("127.0.0.2", true, outbox);
    rebalanceFromBeforeLeave(leaver, "127.0.0.2");
    // c wrote the key under the old layout, whose replicas were b and c: b alone heard of it.
    handleGossipFrames(leaver, [recordsFrame([lwwRecord(key, "late")], GossipFrameKind.REMOTE_RECORDS)]);
    expect(handedOffKeys(outbox.get(A))).toEqual([key]);
    expect(handedOffKeys(outbox.get(C))).toEqual([key]);
    // The stop waits for both acknowledgements (one handoff per destination).
    expect(await handOffDirtyKeys(leaver, Date.now() + 50)).toBe(2);
    for (const address of [A, C]) {
      const handoff = decodeGossipFrame(outbox.get(address)!.at(-1)!);
      if (handoff.kind !== GossipFrameKind.HANDOFF) throw new Error("expected a HANDOFF frame");
      handleGossipFrames(leaver, [handoffAckFrame(address, handoff.handoffId)]);
    }
    expect(await handOffDirtyKeys(leaver, Date.now() + 50)).toBe(0);
  });

  it("an actor that stays does not pass on what it merges", () => {
    const key = keyPlaced([B, C], [C, A]);
    const outbox: Outbox = new Map();
    const holder = actorOn("127.0.0.3", true, outbox);
    handleGossipFrames(holder, [recordsFrame([lwwRecord(key, "v")], GossipFrameKind.REMOTE_RECORDS)]);
    expect(outbox.size).toBe(0);
  });
});

describe("rebalance budget", () => {
  it("is the configured share of the gossip period, and the whole period for an actor that leaves", () => {
    const config = { rebalanceShare: 0.1, gossipPeriodMs: 100 };
    expect(rebalanceTickBudgetMs(config, false)).toBeCloseTo(10);
    expect(rebalanceTickBudgetMs({ ...config, rebalanceShare: 0.25 }, false)).toBeCloseTo(25);
    expect(rebalanceTickBudgetMs(config, true)).toBe(100);
  });
});
