/**
 * An actor's side of replication factor updates, through the server's gossip handler:
 * frames from the node's monitor (FACTORS, FACTORS_SNAPSHOT, FACTORS_SETTLED), one lost.
 */
import { factorsFrame, factorsSettledFrame, factorsSnapshotFrame } from "../../src/actor/gossip-frame";
import { handleGossipFrames } from "../../src/actor/handlers/gossip";
import { LocalPlacement } from "../../src/routing/placement";
import { gossipActor } from "../support/gossip-actor";

describe("factor frames at an actor", () => {
  it("notices a lost frame, catches up from a snapshot, then settles cooled keys away", () => {
    const placement = new LocalPlacement(4, 1);
    const actor = gossipActor(0, placement, new Map([[1, []], [2, []], [3, []]]));
    handleGossipFrames(actor, [factorsFrame([{ key: "a", factor: 4, version: 1 }, { key: "b", factor: 4, version: 2 }])]);
    expect(actor.state.factorsSeenVersion).toBe(2);
    // The frame with version 3 (a cools down) is lost; version 4 arrives.
    handleGossipFrames(actor, [factorsFrame([{ key: "c", factor: 2, version: 4 }])]);
    expect(actor.state.factorsSeenVersion).toBe(2);
    expect(placement.replicationOfName("a")).toBe(4); // still the stale factor
    handleGossipFrames(actor, [
      factorsSnapshotFrame(4, [
        { key: "a", factor: 1, version: 3 },
        { key: "b", factor: 4, version: 2 },
        { key: "c", factor: 2, version: 4 },
      ]),
    ]);
    expect(actor.state.factorsSeenVersion).toBe(4);
    expect(placement.replicationOfName("a")).toBe(1);
    // The next frame continues from the snapshot.
    handleGossipFrames(actor, [factorsFrame([{ key: "b", factor: 1, version: 5 }])]);
    expect(actor.state.factorsSeenVersion).toBe(5);
    // Every actor has seen 5: a and b (at the default) go, c (hot) stays; stale copies stay out.
    handleGossipFrames(actor, [factorsSettledFrame(5)]);
    expect([...placement.keyFactors()].map(({ key }) => key)).toEqual(["c"]);
    handleGossipFrames(actor, [factorsFrame([{ key: "a", factor: 4, version: 1 }])]);
    expect(placement.replicationOfName("a")).toBe(1);
    expect(actor.state.factorsSeenVersion).toBe(5);
    expect(actor.counters.badFrames).toBe(0);
  });
});
