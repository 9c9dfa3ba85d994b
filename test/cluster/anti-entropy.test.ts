/**
 * Anti-entropy between nodes (real processes on 127.0.0.1-2, global replication 2): while
 * the fault hook drops every gossip frame between the nodes (ANNAKV_FAULT_FILE, see
 * src/actor/faults.ts), writes land on one replica or the other and the nodes diverge;
 * once the frames flow again, digests are compared and the differing buckets exchanged
 * until both nodes hold every key, with no write needed to trigger it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnnaClient } from "../../src/client/anna-client";
import { ClusterNode, keyCount, startClusterNode, waitForCluster } from "../support/cluster";
import { waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clusterAntiEntropy;
const KEY_COUNT = 200;

describe("anti-entropy between nodes", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-fault-"));
  const faultFile = path.join(dir, "fault");
  const nodes: ClusterNode[] = [];

  beforeAll(async () => {
    // Gossip between the nodes is lost from the start (the file is read every gossip tick).
    writeFileSync(faultFile, "drop-remote-records");
    const options = { portOffset, env: { ANNAKV_FAULT_FILE: faultFile }, args: ["--anti-entropy-period-ms=1000"] };
    nodes.push(await startClusterNode({ ...options, index: 1 }));
    nodes.push(await startClusterNode({ ...options, index: 2, joinIndex: 1 }));
    await waitForCluster(nodes, 2);
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes.reverse()) await node.process.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("heals replicas that diverged while gossip between them was lost", async () => {
    const client = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    try {
      for (let i = 0; i < KEY_COUNT; i++) await client.putLww(`ae-${i}`, `v${i}`);
    } finally {
      await client.close();
    }
    // Each write reached one replica only (the client spreads keys over both).
    await waitFor(
      async () => (await keyCount(nodes[0])) + (await keyCount(nodes[1])) === KEY_COUNT,
      10_000,
      () => "the writes did not land",
    );
    const [first, second] = await Promise.all(nodes.map(keyCount));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(0);
    expect(first).toBeLessThan(KEY_COUNT);
    rmSync(faultFile);
    await waitFor(
      async () => (await keyCount(nodes[0])) === KEY_COUNT && (await keyCount(nodes[1])) === KEY_COUNT,
      20_000,
      () => "anti-entropy did not converge",
    );
    const repaired = (await Promise.all(nodes.map((node) => node.status()))).flatMap((status) =>
      status.actors.map((actor: any) => actor.counters.antiEntropyKeysRepaired),
    );
    expect(repaired.reduce((sum: number, count: number) => sum + count, 0)).toBeGreaterThanOrEqual(KEY_COUNT);
  }, 60_000);
});
