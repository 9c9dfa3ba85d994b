/**
 * Failures of real node processes (127.0.0.1-3, global replication 2, --put-acks 2):
 * `kill -9` under write load loses no acknowledged write and the survivors restore two
 * copies of every key; the killed node restarts empty, rejoins and is filled again; a node
 * paused past the failure timeout (SIGSTOP) is declared dead, left out of routing answers
 * and its keys re-replicated; resumed (SIGCONT) it comes back under a new incarnation and
 * converges. A client given several routing addresses carries on when the first is down.
 */
import { AnnaClient } from "../../src/client/anna-client";
import {
  ClusterNode,
  keyCount,
  memberStates,
  missingWrites,
  startCluster,
  startClusterNode,
  TEST_FAILURE_TIMEOUT_MS,
  waitForCluster,
} from "../support/cluster";
import { waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clusterFailure;
const DETECTION_BOUND_MS = TEST_FAILURE_TIMEOUT_MS * 4;

interface WriteLoad {
  /** Resolves with key -> value of every write the cluster acknowledged. */
  stop(): Promise<Map<string, string>>;
}

/** Writes unique keys one after another until stopped; failed writes (TIMEOUT) are not counted as acknowledged. */
function startWriteLoad(client: AnnaClient, prefix: string): WriteLoad {
  const acknowledged = new Map<string, string>();
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const key = `${prefix}-${i}`;
      try {
        await client.putLww(key, `v${i}`);
        acknowledged.set(key, `v${i}`);
      } catch {
        // Not acknowledged: it may or may not be stored, and is not counted.
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return acknowledged;
    },
  };
}

async function expectAllReadable(client: AnnaClient, writes: Map<string, string>): Promise<void> {
  expect(await missingWrites(client, writes)).toEqual([]);
}

describe("failures in a cluster of three", () => {
  let nodes: ClusterNode[];

  beforeAll(async () => {
    nodes = await startCluster(3, { portOffset, args: ["--put-acks=2", "--put-ack-timeout-ms=1000"] });
  }, 60_000);

  afterAll(async () => {
    for (const node of [...(nodes ?? [])].reverse()) {
      node.process.child.kill("SIGCONT");
      await node.process.stop("SIGKILL");
    }
  });

  it("loses no acknowledged write to kill -9 under load and restores two copies of every key", async () => {
    const client = new AnnaClient({
      routingAddresses: [nodes[0].routingAddress, nodes[1].routingAddress],
      timeoutMs: 1500,
      maxAttempts: 4,
    });
    try {
      const load = startWriteLoad(client, "kill");
      await waitFor(
        async () => (await keyCount(nodes[2])) > 20,
        10_000,
        () => "no writes reached node 3",
      );
      await nodes[2].process.stop("SIGKILL");
      const killedAt = Date.now();
      await waitFor(
        async () => (await memberStates(nodes[0]))["127.0.0.3"] === "dead",
        DETECTION_BOUND_MS,
        () => "node 3 was not declared dead",
      );
      const detectedMs = Date.now() - killedAt;
      expect(detectedMs).toBeLessThan(DETECTION_BOUND_MS);
      const writes = await load.stop();
      expect(writes.size).toBeGreaterThan(20);
      await expectAllReadable(client, writes);
      // Two survivors, two copies of each key: both hold every key (and the writes that timed out, stored or not).
      await waitFor(
        async () => (await keyCount(nodes[0])) >= writes.size && (await keyCount(nodes[1])) >= writes.size,
        15_000,
        () => "keys were not re-replicated",
      );
    } finally {
      await client.close();
    }
  }, 90_000);

  it("takes the killed node back empty, fills it, and serves through it", async () => {
    nodes[2] = await startClusterNode({
      portOffset,
      index: 3,
      joinIndex: 2,
      args: ["--put-acks=2", "--put-ack-timeout-ms=1000"],
    });
    await waitForCluster(nodes, 3);
    await waitFor(
      async () => (await keyCount(nodes[2])) > 0,
      10_000,
      () => "the restarted node got no keys",
    );
    const client = new AnnaClient({ routingAddress: nodes[2].routingAddress, timeoutMs: 1500 });
    try {
      await client.putLww("after-restart", "fine");
      expect(Buffer.from((await client.getLww("after-restart"))!.value).toString()).toBe("fine");
    } finally {
      await client.close();
    }
  }, 60_000);

  it("declares a paused node dead, routes around it, and converges when it resumes", async () => {
    const client = new AnnaClient({
      routingAddresses: [nodes[1].routingAddress, nodes[0].routingAddress],
      timeoutMs: 1500,
      maxAttempts: 4,
    });
    try {
      nodes[1].process.child.kill("SIGSTOP");
      await waitFor(
        async () => (await memberStates(nodes[0]))["127.0.0.2"] === "dead",
        DETECTION_BOUND_MS,
        () => "the paused node was not declared dead",
      );
      // Routing answers name only the two live nodes, and writes carry on (the client fails over from node 2's routing).
      const writes = new Map<string, string>();
      for (let i = 0; i < 40; i++) {
        await client.putLww(`paused-${i}`, `v${i}`);
        writes.set(`paused-${i}`, `v${i}`);
      }
      const addresses = await client.addressesOf([...writes.keys()]);
      for (const list of addresses.values()) for (const address of list) expect(address).not.toContain("127.0.0.2");
      nodes[1].process.child.kill("SIGCONT");
      // It learns it was declared dead, rejoins under a new incarnation and is filled again.
      await waitForCluster(nodes, 3);
      const reader = new AnnaClient({ routingAddress: nodes[1].routingAddress, timeoutMs: 1500 });
      try {
        await expectAllReadable(reader, writes);
      } finally {
        await reader.close();
      }
    } finally {
      await client.close();
    }
  }, 90_000);
});
