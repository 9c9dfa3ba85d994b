/**
 * The client's address cache: looked up in pages (a lookup of more keys than one
 * KeyAddressRequest may carry still works), bounded (the oldest entry goes first), made
 * stale as a whole by a WRONG_THREAD for a key that moved to another primary (a node
 * restarted with more actors moves many keys at once, and each is then looked up with its
 * next call rather than first sent to its old actor and refused), and refreshed one key
 * at a time by a WRONG_THREAD for a key whose primary stayed (a hot key's extra replicas gone).
 */
import { AnnaClient } from "../../src/client/anna-client";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import { decodeKeyAddressResponse, encodeKeyAddressRequest } from "../../src/protocol/anna";
import { startNodeProcess, waitFor } from "../support/node-process";
import { RawPeer } from "../support/raw-socket";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clientAddressRefresh;
const routingAddress = `tcp://127.0.0.1:${6450 + portOffset}`;
/** More than the node takes in one KeyAddressRequest (10,000) and than the client's page (1024). */
const MANY_KEYS = 12_000;
const keysNamed = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe("client address cache", () => {
  it("looks up more keys than one request may carry, a page at a time", async () => {
    const node = await startNodeProcess({ portOffset, threads: 2 });
    const client = new AnnaClient({ routingAddress, timeoutMs: 2000 });
    try {
      const keys = keysNamed(MANY_KEYS, "many");
      const addresses = await client.addressesOf(keys);
      expect(addresses.size).toBe(MANY_KEYS);
      for (const key of keys) expect(addresses.get(key)).toHaveLength(1);
      expect(client.counters.routingRequests).toBe(Math.ceil(MANY_KEYS / 1024));
    } finally {
      await client.close();
      await node.stop();
    }
  });

  it("drops the oldest entry past addressCacheMaxKeys", async () => {
    const node = await startNodeProcess({ portOffset, threads: 2 });
    const client = new AnnaClient({ routingAddress, timeoutMs: 2000, addressCacheMaxKeys: 10 });
    try {
      const keys = keysNamed(25, "bounded");
      await client.addressesOf(keys);
      expect(client.counters.routingRequests).toBe(1);
      // The last ten are cached; the first was dropped and is looked up again.
      await client.addressesOf(keys.slice(15));
      expect(client.counters.routingRequests).toBe(1);
      await client.addressesOf([keys[0]]);
      expect(client.counters.routingRequests).toBe(2);
    } finally {
      await client.close();
      await node.stop();
    }
  });

  it("says so when the routing service refuses a lookup (a key over the node's limit)", async () => {
    const node = await startNodeProcess({ portOffset, threads: 2 });
    const client = new AnnaClient({ routingAddress, timeoutMs: 2000 });
    try {
      const tooLong = "k".repeat(DEFAULT_LIMITS.maxKeyBytes + 1);
      await expect(client.getMany(["short", tooLong])).rejects.toMatchObject({
        code: "LATTICE",
        message: expect.stringMatching(/routing service refused a lookup of 2 key/),
      });
      // The node goes on serving: the same client reads a key within the limit.
      expect(await client.get("short")).toBeUndefined();
    } finally {
      await client.close();
      await node.stop();
    }
  });

  it("refuses an addressCacheMaxKeys that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      expect(() => new AnnaClient({ routingAddress, addressCacheMaxKeys: bad })).toThrow(/addressCacheMaxKeys/);
    }
  });

  it("looks every cached key up again after a WRONG_THREAD for a moved key, instead of sending it to its old actor", async () => {
    const keys = keysNamed(3000, "moving");
    const client = new AnnaClient({ routingAddress, timeoutMs: 2000 });
    let node = await startNodeProcess({ portOffset, threads: 2 });
    try {
      const before = await client.addressesOf(keys);
      expect(await node.stop()).toBe(0);
      // Three actors on the ring: about a third of the keys now live on another actor.
      node = await startNodeProcess({ portOffset, threads: 3 });
      const fresh = new AnnaClient({ routingAddress, timeoutMs: 2000 });
      const current = await fresh.addressesOf(keys);
      await fresh.close();
      const moved = keys.filter((key) => current.get(key)![0] !== before.get(key)![0]);
      expect(moved.length).toBeGreaterThan(keys.length / 5);

      // One moved key: WRONG_THREAD, looked up and resent; every other cached address is now stale.
      await client.getMany([moved[0]]);
      expect(client.counters).toMatchObject({ tuplesResent: 1, addressCacheInvalidations: 1, routingRequests: 4 });
      // The other moved keys are looked up with their call and read from the new actor at the first try.
      const rest = keys.filter((key) => key !== moved[0]);
      for (let start = 0; start < rest.length; start += 500) await client.getMany(rest.slice(start, start + 500));
      expect(client.counters).toMatchObject({ tuplesResent: 1, addressCacheInvalidations: 1 });
      expect(client.counters.routingRequests).toBe(4 + Math.ceil(rest.length / 500));
      const cached = await client.addressesOf(keys);
      expect(keys.filter((key) => cached.get(key)![0] !== current.get(key)![0])).toEqual([]);
    } finally {
      await client.close();
      await node.stop();
    }
  });

  it("refreshes only the key a WRONG_THREAD names when its primary stayed (a hot key cooled)", async () => {
    const threads = 3;
    const hotKey = "cooling";
    const others = keysNamed(200, "bystander");
    const node = await startNodeProcess({
      portOffset,
      threads,
      extraArgs: [
        "--hot-key-window-ms=200",
        "--hot-key-min-ops-per-sec=100",
        "--hot-key-threshold=0.5",
        "--hot-key-cooldown-windows=2",
      ],
    });
    const peer = await RawPeer.open();
    let lookups = 0;
    /** The hot key's replicas by the routing service now (a raw lookup: no client cache in between). */
    const replicasNow = async (): Promise<number> => {
      const requestId = `lookup-${++lookups}`;
      const request = { response_address: peer.replyAddress, keys: [hotKey], request_id: requestId };
      await peer.send(routingAddress, encodeKeyAddressRequest(request));
      for (;;) {
        const response = decodeKeyAddressResponse(await peer.receive());
        if (response.response_id === requestId) return response.addresses[0].ips.length;
      }
    };
    const writers = Array.from({ length: 4 }, () => new AnnaClient({ routingAddress, timeoutMs: 2000 }));
    // A dozen clients, each with its own replica choice: with three cached replicas, each picks a gone one with odds 2/3.
    const cached = Array.from({ length: 12 }, () => new AnnaClient({ routingAddress, timeoutMs: 2000 }));
    let writing = true;
    const load = writers.map(async (writer) => {
      while (writing) await writer.putLww(hotKey, "hot");
    });
    try {
      await waitFor(
        async () => (await replicasNow()) === threads,
        20_000,
        () => "the key never got hot",
      );
      for (const client of cached) {
        const addresses = await client.addressesOf([hotKey, ...others]);
        expect(addresses.get(hotKey)).toHaveLength(threads);
      }
      writing = false;
      await Promise.all(load);
      // The routing service lists one replica only once every actor has applied the change.
      await waitFor(
        async () => (await replicasNow()) === 1,
        20_000,
        () => "the key never cooled",
      );
      let refused = 0;
      for (const client of cached) {
        const before = { ...client.counters };
        expect(await client.getLww(hotKey)).toBeDefined();
        const resent = client.counters.tuplesResent - before.tuplesResent;
        refused += resent;
        // Refused by a replica that is gone: that key alone is looked up again, and read.
        expect(client.counters.routingRequests - before.routingRequests).toBe(resent);
        await client.getMany(others);
        expect(client.counters.routingRequests - before.routingRequests).toBe(resent);
        expect(client.counters.addressCacheInvalidations).toBe(0);
      }
      expect(refused).toBeGreaterThan(0);
    } finally {
      writing = false;
      await Promise.allSettled(load);
      await Promise.all([...writers, ...cached].map((client) => client.close()));
      peer.close();
      await node.stop();
    }
  }, 60_000);
});
