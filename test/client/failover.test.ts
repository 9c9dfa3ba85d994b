/**
 * AnnaClient when a node is down, against a real node started in this process: lookups
 * given several routing addresses move past a dead one (one timeout, then the live one
 * is kept), a client with only dead ones fails naming them, and a key none of whose
 * replicas answered is looked up again (a scripted routing service first lists a silent
 * replica, then the real node's actor); putToReplica tries the replica it names and no
 * other; and a write sent once is left unknown where its replica is silent.
 */
import pino from "pino";
import { AnnaClient } from "../../src/client/anna-client";
import { decodeLww, encodeLww } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import { RunningNode, startNode } from "../../src/node/node";
import { AnnaError } from "../../src/protocol/anna";
import { PORT_OFFSETS } from "../support/ports";
import { ScriptedActor, ScriptedRouting } from "../support/scripted-services";

const TIMEOUT_MS = 300;
/** Nothing listens there: the scratch offset never has a node. */
const deadRouting = (index: number) => `tcp://127.0.0.1:${6450 + PORT_OFFSETS.scratch + index}`;
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describe("AnnaClient failover", () => {
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode(
      { portOffset: PORT_OFFSETS.clientFailover, threads: 1, metrics: false, hotKeyReplication: false },
      pino({ level: "silent" }),
    );
  });

  afterAll(async () => {
    await node?.stop();
  });

  it("moves past a dead routing address to a live one, and keeps asking the live one", async () => {
    const client = new AnnaClient({ routingAddresses: [deadRouting(0), node.routingAddress], timeoutMs: TIMEOUT_MS });
    try {
      let started = Date.now();
      await client.putLww("failover-a", "1");
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
      started = Date.now();
      // A key not cached yet: a new lookup, which goes straight to the routing address that answered.
      await client.putLww("failover-b", "2");
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect(text((await client.getLww("failover-a"))?.value)).toBe("1");
      expect(text((await client.getLww("failover-b"))?.value)).toBe("2");
    } finally {
      await client.close();
    }
  });

  it("fails with TIMEOUT naming every routing address when none answers, each tried even with one attempt", async () => {
    const client = new AnnaClient({
      routingAddresses: [deadRouting(0), deadRouting(1)],
      timeoutMs: 100,
      maxAttempts: 1,
    });
    try {
      const failure = client.get("anything");
      await expect(failure).rejects.toMatchObject({ code: "TIMEOUT" });
      await expect(failure).rejects.toThrow(`${deadRouting(0)}, ${deadRouting(1)}`);
    } finally {
      await client.close();
    }
  });

  it("looks a key up again once every replica it had for the key timed out", async () => {
    const silent = await ScriptedActor.start(() => undefined);
    const routing = await ScriptedRouting.start((lookup) =>
      lookup === 0 ? [silent.address] : [node.actorAddresses[0]],
    );
    const client = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, maxAttempts: 2 });
    try {
      await client.putLww("relookup", "v");
      expect(silent.received).toHaveLength(1);
      expect(routing.lookups).toBe(2);
      expect(text((await client.getLww("relookup"))?.value)).toBe("v");
      expect(routing.lookups).toBe(2);
    } finally {
      await client.close();
      routing.close();
      silent.close();
    }
  });

  it("sends putToReplica to the replica named alone, with no lookup and no other replica tried", async () => {
    const silent = await ScriptedActor.start(() => undefined);
    const elsewhere = await ScriptedActor.start(() => AnnaError.WRONG_THREAD);
    const live = node.actorAddresses[0];
    const routing = await ScriptedRouting.start(() => [silent.address, elsewhere.address, live]);
    const client = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, maxAttempts: 3 });
    const put = { key: "pinned", type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) };
    try {
      expect((await client.putToReplica(silent.address, [put])).get("pinned")).toMatchObject({
        status: "unknown",
        error: { code: "TIMEOUT" },
      });
      expect((await client.putToReplica(elsewhere.address, [put])).get("pinned")).toMatchObject({
        status: "refused",
        error: { code: "WRONG_THREAD" },
        replica: elsewhere.address,
        notHeld: true,
      });
      expect((await client.putToReplica(live, [put])).get("pinned")).toMatchObject({ status: "applied" });
      expect([silent.received.length, elsewhere.received.length, routing.lookups]).toEqual([1, 1, 0]);
      const stored = (await client.getFromReplica(live, ["pinned"])).get("pinned");
      expect(text(stored === undefined ? undefined : decodeLww(stored.payload).value)).toBe("v");
    } finally {
      await client.close();
      routing.close();
      elsewhere.close();
      silent.close();
    }
  });

  it("with sendOnce, leaves a write a silent replica may have applied unknown instead of sending it to the next", async () => {
    const silent = await ScriptedActor.start(() => undefined);
    const routing = await ScriptedRouting.start(() => [silent.address, node.actorAddresses[0]]);
    const client = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, maxAttempts: 3 });
    try {
      // Keys spread over both replicas (all on one: a chance of 2^-19).
      const keys = Array.from({ length: 20 }, (_, i) => `once-${i}`);
      const outcomes = await client.putManySettled(
        keys.map((key) => ({ key, type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: key }) })),
        { sendOnce: true },
      );
      const sentToSilent = new Set(silent.received.flatMap(({ request }) => request.tuples.map(({ key }) => key)));
      expect(sentToSilent.size).toBeGreaterThan(0);
      expect(sentToSilent.size).toBeLessThan(keys.length);
      for (const key of keys) {
        const outcome = outcomes.get(key)!;
        expect({ key, status: outcome.status }).toEqual({ key, status: sentToSilent.has(key) ? "unknown" : "applied" });
        // Never sent on: the live replica holds only what it was sent first.
        const stored = (await client.getFromReplica(node.actorAddresses[0], [key])).get(key);
        expect({ key, stored: stored !== undefined }).toEqual({ key, stored: !sentToSilent.has(key) });
      }
      expect(silent.received).toHaveLength(1);
    } finally {
      await client.close();
      routing.close();
      silent.close();
    }
  });

  it("keeps a key's addresses while one of its replicas still answers", async () => {
    const silent = await ScriptedActor.start(() => undefined);
    const routing = await ScriptedRouting.start(() => [silent.address, node.actorAddresses[0]]);
    const client = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, maxAttempts: 2 });
    try {
      // Keys spread over both replicas (all on the live one: a chance of 2^-20): those sent to the silent one are retried on the other.
      const keys = Array.from({ length: 20 }, (_, i) => `kept-${i}`);
      await client.putMany(
        keys.map((key) => ({ key, type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: key }) })),
      );
      expect(silent.received).toHaveLength(1);
      expect(routing.lookups).toBe(1);
    } finally {
      await client.close();
      routing.close();
      silent.close();
    }
  });
});
