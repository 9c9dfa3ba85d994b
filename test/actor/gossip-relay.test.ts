/**
 * Writes from another node reach a hot key's extra replicas: the writing node knows only
 * the default replicas of the receiving node, whose primary passes the value on to the
 * actors its own factor adds. Driven through the server's gossip code on real stores in
 * a two-node layout, frames handed over in memory.
 */
import { GossipContext, newGossipState } from "../../src/actor/gossip-context";
import { decodeGossipFrame, GossipFrameKind } from "../../src/actor/gossip-frame";
import { handleGossipFrames, sendDirtyKeys } from "../../src/actor/handlers/gossip";
import { emptyCounters } from "../../src/actor/stats";
import { createStore } from "../../src/core/create-store";
import { decodeLww, encodeLww, LatticeType } from "../../src/lattices";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import type { ClusterLayout } from "../../src/routing/layout";
import { FactorIndex } from "../../src/routing/key-factors";

const node = (id: string, host: string, threads: number) => ({
  id,
  incarnation: 1,
  host,
  portOffset: 0,
  threads,
  localReplication: 1,
  serving: true,
  next: true,
});
const NODES = [node("a", "127.0.0.1", 2), node("b", "127.0.0.2", 1)];

function actor(selfId: string, tid: number, factors: FactorIndex, outbox: Map<string, Uint8Array[]>): GossipContext {
  const layout: ClusterLayout = { version: 1, selfId, globalReplication: 2, nodes: NODES };
  const placement = new ClusterPlacement(layout, factors);
  return {
    tid,
    store: createStore({ engine: "wasm" }),
    placement,
    peers: { send: (address, frame) => outbox.get(address)!.push(frame) },
    counters: emptyCounters(),
    state: newGossipState(),
    gossipPageBytes: 1 << 20,
    gossipAddress: (peer) => placement.gossipAddress(peer),
    selfAddress: placement.gossipAddress(placement.actorIndex(tid)),
    reportBadFrame: (reason) => {
      throw new Error(reason);
    },
  };
}

describe("gossip from another node", () => {
  it("reaches the replicas a hot key has on this node beyond the default", () => {
    // Node a made "hot" a key of both its actors; node b has heard of it, but places by a's default.
    const factors = new FactorIndex({ a: { version: 1, factors: [{ key: "hot", local: 2, global: 2 }] } });
    const outbox = new Map<string, Uint8Array[]>();
    const bView = new FactorIndex({});
    const actors = [actor("a", 0, factors, outbox), actor("a", 1, factors, outbox), actor("b", 0, bView, outbox)];
    for (const context of actors) outbox.set(context.selfAddress, []);
    const writer = actors[2];
    writer.store.put("hot", LatticeType.LWW, encodeLww({ timestamp: 5, value: "from b" }));
    sendDirtyKeys(writer);
    // Node b knows one replica of "hot" on node a (its default), and sends it a REMOTE_RECORDS frame.
    const sentToA = actors.slice(0, 2).filter((context) => outbox.get(context.selfAddress)!.length > 0);
    expect(sentToA).toHaveLength(1);
    expect(decodeGossipFrame(outbox.get(sentToA[0].selfAddress)![0]).kind).toBe(GossipFrameKind.REMOTE_RECORDS);
    for (let round = 0; round < 2; round++) {
      for (const context of actors.slice(0, 2)) handleGossipFrames(context, outbox.get(context.selfAddress)!.splice(0));
    }
    for (const context of actors.slice(0, 2))
      expect(Buffer.from(decodeLww(context.store.get("hot")!.payload).value).toString()).toBe("from b");
  });
});
