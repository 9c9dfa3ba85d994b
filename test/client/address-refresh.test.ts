/**
 * The client's address cache: looked up in pages (a lookup of more keys than one
 * KeyAddressRequest may carry still works), bounded (the oldest entry goes first), and
 * made stale as a whole by a WRONG_THREAD: a node restarted with more actors moves many
 * keys at once, and each is then looked up with its next call rather than first sent to
 * its old actor and refused.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import { startNodeProcess } from "../support/node-process";
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

  it("looks every cached key up again after a WRONG_THREAD, instead of sending it to its old actor", async () => {
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
});
