/**
 * Placement across nodes: every node computes the same replicas from the same layout;
 * a key lives on `globalReplication` serving nodes × local replicas on each; joiners are
 * written to but do not serve, leavers serve but are not written to; hot-key factors add
 * nodes and actors.
 */
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import { FactorIndex } from "../../src/routing/key-factors";
import type { ClusterLayout, LayoutNode } from "../../src/routing/layout";

const encoder = new TextEncoder();
const KEYS = Array.from({ length: 300 }, (_, i) => encoder.encode(`key-${i}`));

function node(index: number, threads: number, states: Partial<LayoutNode> = {}): LayoutNode {
  return {
    id: `10.0.0.${index}:6350`,
    incarnation: 1,
    host: `10.0.0.${index}`,
    portOffset: 0,
    threads,
    localReplication: 1,
    serving: true,
    next: true,
    ...states,
  };
}

function placementsOf(nodes: LayoutNode[], globalReplication: number, factors?: FactorIndex): ClusterPlacement[] {
  return nodes.map(
    (self) =>
      new ClusterPlacement({ version: 1, selfId: self.id, globalReplication, nodes } satisfies ClusterLayout, factors),
  );
}

const addresses = (placement: ClusterPlacement, actors: number[]) =>
  actors.map((actor) => placement.requestAddress(actor));
const hosts = (placement: ClusterPlacement, actors: number[]) =>
  new Set(actors.map((actor) => new URL(placement.requestAddress(actor).replace("tcp", "http")).hostname));

describe("ClusterPlacement", () => {
  const nodes = [node(1, 2), node(2, 1), node(3, 3)];

  it("gives every node the same serving replicas: two nodes a key, one actor on each", () => {
    const placements = placementsOf(nodes, 2);
    for (const key of KEYS) {
      const answers = placements.map((placement) => addresses(placement, placement.servingReplicas(key)));
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      expect(answers[0]).toHaveLength(2);
      expect(hosts(placements[0], placements[0].servingReplicas(key)).size).toBe(2);
    }
  });

  it("answers the request hot path in agreement with the replica lists", () => {
    const placements = placementsOf(nodes, 2);
    for (const key of KEYS.slice(0, 100)) {
      const serving = addresses(placements[0], placements[0].servingReplicas(key));
      placements.forEach((placement, index) => {
        for (let tid = 0; tid < nodes[index].threads; tid++) {
          const mine = placement.requestAddress(placement.actorIndex(tid));
          expect(placement.replicationAt(key, tid)).toBe(serving.includes(mine) ? 2 : 0);
        }
      });
    }
  });

  it("writes to a joiner without serving from it, and serves from a leaver without writing to it", () => {
    const joining = [node(1, 1), node(2, 1), node(3, 1, { serving: false })];
    const [placement] = placementsOf(joining, 2);
    let toJoiner = 0;
    for (const key of KEYS) {
      const serving = hosts(placement, placement.servingReplicas(key));
      const write = hosts(placement, placement.writeReplicas(key));
      expect(serving.has("10.0.0.3")).toBe(false);
      for (const host of serving) expect(write.has(host)).toBe(true);
      if (write.has("10.0.0.3")) toJoiner++;
    }
    expect(toJoiner).toBeGreaterThan(KEYS.length / 3);
    const leaving = [node(1, 1), node(2, 1, { next: false }), node(3, 1)];
    const [view] = placementsOf(leaving, 1);
    for (const key of KEYS) {
      const serving = hosts(view, view.servingReplicas(key));
      const write = hosts(view, view.writeReplicas(key));
      // With one copy a key, a leaver's keys are written both to it (it still serves) and to their next owner.
      if (serving.has("10.0.0.2")) expect(write.size).toBe(2);
      else expect(write).toEqual(serving);
    }
  });

  it("spreads a hot key over the nodes and actors its factors ask for, keeping its primaries", () => {
    const plain = placementsOf(nodes, 1)[0];
    const factors = new FactorIndex({
      [nodes[2].id]: { version: 1, factors: [{ key: "key-7", local: 3, global: 3 }] },
    });
    const [hot] = placementsOf(nodes, 1, factors);
    const key = KEYS[7];
    expect(hosts(hot, hot.servingReplicas(key)).size).toBe(3);
    // Node 3 asked for all three of its actors; the others place by their default.
    expect(hot.servingReplicas(key)).toHaveLength(1 + 1 + 3);
    expect(hot.servingReplicas(key)[0]).toBe(plain.servingReplicas(key)[0]);
    expect(hot.replicationAt(key, hot.servingReplicas(key).includes(hot.actorIndex(0)) ? 0 : 1)).toBe(5);
    // Other keys keep their one replica.
    expect(hot.servingReplicas(KEYS[8])).toEqual(plain.servingReplicas(KEYS[8]));
  });

  it("numbers actors flat across nodes and tells its own from others'", () => {
    const [first, second] = placementsOf(nodes, 2);
    expect(first.actorCount).toBe(6);
    expect([first.actorIndex(0), second.actorIndex(0)]).toEqual([0, 2]);
    expect(first.gossipAddress(2)).toBe("tcp://10.0.0.2:6250");
    expect(first.actorIdentity(2)).toBe("tcp://10.0.0.2:6250#1");
    expect([first.isRemote(1), first.isRemote(2)]).toEqual([false, true]);
    expect(() => first.gossipAddress(6)).toThrow(RangeError);
  });
});
