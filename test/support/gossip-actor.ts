/**
 * One actor's gossip state around a real Wasm store, for driving the server's gossip
 * handlers without sockets: frames it sends to peer `tid` are appended to `outbox.get(tid)`.
 */
import { GossipContext, newGossipState } from "../../src/actor/gossip-context";
import { emptyCounters } from "../../src/actor/stats";
import { createStore } from "../../src/core/create-store";
import type { LocalPlacement } from "../../src/routing/placement";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import { singleNodeLayout } from "../../src/routing/layout";

export function gossipActor(tid: number, placement: LocalPlacement, outbox: Map<number, Uint8Array[]>): GossipContext {
  return {
    tid,
    store: createStore({ engine: "wasm" }),
    placement: new ClusterPlacement(
      singleNodeLayout("127.0.0.1", 0, placement.threadCount, placement.defaultReplication),
    ),
    peers: { send: (address, frame) => outbox.get(Number(address))!.push(frame) },
    counters: emptyCounters(),
    state: newGossipState(),
    // Small pages: a store scan takes several periods.
    gossipPageBytes: 4096,
    gossipAddress: (peer) => String(peer),
    selfAddress: String(tid),
    reportBadFrame: (reason) => {
      throw new Error(reason);
    },
  };
}
