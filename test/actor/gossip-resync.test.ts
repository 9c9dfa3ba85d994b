/**
 * A peer that may have missed gossip is resent every value it replicates: driven through
 * the server's own gossip code (sendDirtyKeys, handleGossipFrames) between two real
 * stores, with the frames handed over in memory instead of over a socket.
 */
import { handleGossipFrames, requestResync, sendDirtyKeys } from "../../src/actor/handlers/gossip";
import { decodeRecords } from "../../src/core/batch";
import type { Store } from "../../src/core/store";
import { encodeLww, LatticeType } from "../../src/lattices";
import { LocalPlacement } from "../../src/routing/placement";
import { gossipActor as actor } from "../support/gossip-actor";

const KEY_COUNT = 300;

function contents(store: Store): string[] {
  return decodeRecords(store.scan(0, 1 << 30).records)
    .map((record) => `${Buffer.from(record.key).toString()}=${Buffer.from(record.payload).toString("hex")}`)
    .sort();
}

describe("gossip resync", () => {
  it.each([
    ["full replication: every key", 2, []],
    ["one replica a key: only the hot key", 1, [{ key: "k7", factor: 2, version: 1 }]],
  ])("%s", (_name, defaultReplication, factors) => {
    const placement = new LocalPlacement(2, defaultReplication);
    placement.mergeFactors(factors);
    const outbox = new Map<number, Uint8Array[]>([[0, []], [1, []]]);
    const [sender, peer] = [actor(0, placement, outbox), actor(1, placement, outbox)];
    // The sender holds what the placement gives it, as in a node.
    for (let i = 0; i < KEY_COUNT; i++) {
      if (placement.isReplica(Buffer.from(`k${i}`), 0)) sender.store.put(`k${i}`, LatticeType.LWW, encodeLww({ timestamp: i + 1, value: "v".repeat(40) }));
    }
    // As if every gossip frame of these writes had been lost.
    sender.store.discardDirty();
    requestResync(sender, "1");
    requestResync(sender, "0"); // itself: nothing to do
    let periods = 0;
    while (sender.state.resyncCursors.size > 0) {
      sendDirtyKeys(sender);
      periods++;
      expect(periods).toBeLessThan(100);
    }
    // Full replication scans the store a page a period; with one replica a key only the
    // keys with a factor of their own can be shared, and they go at once.
    if (defaultReplication === 2) expect(periods).toBeGreaterThan(1);
    else expect(periods).toBe(1);
    expect(outbox.get(0)).toEqual([]);
    handleGossipFrames(peer, outbox.get(1)!);
    const expected = contents(sender.store).filter((entry) => placement.isReplica(Buffer.from(entry.split("=")[0]), 1));
    expect(expected.length).toBe(defaultReplication === 2 ? KEY_COUNT : 1);
    expect(contents(peer.store)).toEqual(expected);
    expect(sender.counters.gossipResyncs).toBe(1);
    expect(peer.counters.gossipMergeErrors).toBe(0);
  });
});
