/**
 * A hot key gains nodes (real processes on 127.0.0.1-2, one actor each, global
 * replication 1): under a load it dominates, the node that serves it asks for more replicas
 * than it has actors, so the key is placed on both nodes (routing lists both) and every
 * write stays readable; once the load stops and the cooldown passes, it is back on one.
 * The key is one the first node serves: the node that started the cluster (no --join), which
 * once ran no hot-key monitor with one actor, so a key hot there never spread.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { decodeSet } from "../../src/lattices";
import { ClusterNode, startClusterNode, waitForCluster } from "../support/cluster";
import { waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clusterHotKeys;
/** Names tried, in order, for a key the first node serves. */
const HOT_KEY_CANDIDATES_MAX = 64;
const WRITERS = 4;

describe("a hot key in a cluster", () => {
  const nodes: ClusterNode[] = [];

  beforeAll(async () => {
    const args = [
      "--hot-key-replication=on",
      "--hot-key-window-ms=300",
      "--hot-key-min-ops-per-sec=50",
      "--hot-key-cooldown-windows=3",
    ];
    // The harness turns hot keys off by default; the last flag given wins.
    nodes.push(await startClusterNode({ portOffset, index: 1, globalReplication: 1, args }));
    nodes.push(await startClusterNode({ portOffset, index: 2, joinIndex: 1, globalReplication: 1, args }));
    await waitForCluster(nodes, 2);
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes.reverse()) await node.process.stop("SIGKILL");
  });

  it("spreads over both nodes under load and returns to one when it cools, losing no write", async () => {
    const clients = Array.from(
      { length: WRITERS },
      () =>
        new AnnaClient({
          routingAddresses: nodes.map((node) => node.routingAddress),
          timeoutMs: 2000,
          maxAttempts: 10,
        }),
    );
    const observer = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    const written: string[] = [];
    let running = true;
    const hostOf = (address: string) => new URL(address.replace("tcp", "http")).hostname;
    const hostsOf = async (key: string) => {
      const fresh = new AnnaClient({ routingAddress: nodes[1].routingAddress, timeoutMs: 2000 });
      try {
        return new Set((await fresh.addressesOf([key])).get(key)!.map(hostOf));
      } finally {
        await fresh.close();
      }
    };
    const candidates = Array.from({ length: HOT_KEY_CANDIDATES_MAX }, (_, index) => `the-hot-one-${index}`);
    const candidateHosts = (await observer.addressesOf(candidates)).entries();
    const hotKey = [...candidateHosts].find(([, addresses]) =>
      addresses.every((address) => hostOf(address) === "127.0.0.1"),
    )?.[0];
    if (hotKey === undefined) throw new Error(`none of ${HOT_KEY_CANDIDATES_MAX} keys is served by the first node`);
    const hostsOfHotKey = () => hostsOf(hotKey);
    try {
      expect((await hostsOfHotKey()).size).toBe(1);
      const writers = clients.map(async (client, writer) => {
        for (let i = 0; running; i++) {
          await client.addToSet(hotKey, [`w${writer}-${i}`]);
          written.push(`w${writer}-${i}`);
        }
      });
      await waitFor(
        async () => (await hostsOfHotKey()).size === 2,
        30_000,
        () => "the hot key never gained a second node",
      );
      const hot = (await nodes[0].status()).hotKeys.concat((await nodes[1].status()).hotKeys);
      expect(hot.some((entry: { key: string; nodes: number }) => entry.key === hotKey && entry.nodes === 2)).toBe(true);
      running = false;
      await Promise.all(writers);
      await waitFor(
        async () => (await hostsOfHotKey()).size === 1,
        30_000,
        () => "the hot key never went back to one node",
      );
      await waitFor(
        async () => {
          const elements = new Set(
            decodeSet((await observer.get(hotKey))!.payload).map((element) => Buffer.from(element).toString()),
          );
          return written.every((element) => elements.has(element));
        },
        10_000,
        () => "some acknowledged writes of the hot key are missing",
      );
    } finally {
      running = false;
      await Promise.all([...clients, observer].map((client) => client.close()));
    }
  }, 90_000);
});
