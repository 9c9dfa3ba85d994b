/**
 * Authenticated cluster links: two nodes (real processes on 127.0.0.1-2) with credentials
 * from `generateClusterCredentials` form a cluster over mutual TLS. Frames from peers
 * without the cluster's certificate — plain ZMTP, or TLS with another CA's — are refused
 * before they are acted on: a forged handoff acknowledgement or membership gossip changes
 * nothing, and a node without credentials cannot join.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as zmq from "zeromq";
import { handoffAckFrame } from "../../src/actor/gossip-frame";
import { AnnaClient } from "../../src/client/anna-client";
import { Lifecycle, Suspicion } from "../../src/cluster/member";
import { encodeMembershipMessage } from "../../src/cluster/messages";
import { generateClusterCredentials } from "../../src/protocol/zmtp/credentials";
import { ZmtpPushPool } from "../../src/protocol/zmtp/push-pool";
import { ClusterNode, memberStates, startClusterNode, waitForCluster } from "../support/cluster";
import { startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clusterTls;
const gossipPort = 6250 + portOffset;
const membershipPort = 6350 + portOffset;

function writeCredentials(dir: string, credentials: { caCert: string; nodeCert: string; nodeKey: string }): string[] {
  writeFileSync(path.join(dir, "ca.crt"), credentials.caCert);
  writeFileSync(path.join(dir, "node.crt"), credentials.nodeCert);
  writeFileSync(path.join(dir, "node.key"), credentials.nodeKey);
  return [
    `--cluster-tls-ca=${path.join(dir, "ca.crt")}`,
    `--cluster-tls-cert=${path.join(dir, "node.crt")}`,
    `--cluster-tls-key=${path.join(dir, "node.key")}`,
  ];
}

describe("a cluster over mutual TLS", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-tls-"));
  let nodes: ClusterNode[] = [];
  let tlsArgs: string[];
  let strangerCredentials: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    tlsArgs = writeCredentials(dir, await generateClusterCredentials());
    const stranger = await generateClusterCredentials();
    strangerCredentials = { ca: stranger.caCert, cert: stranger.nodeCert, key: stranger.nodeKey };
    nodes.push(await startClusterNode({ portOffset, index: 1, args: tlsArgs }));
    nodes.push(await startClusterNode({ portOffset, index: 2, joinIndex: 1, args: tlsArgs }));
    await waitForCluster(nodes, 2);
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes.reverse()) await node.process.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("replicates between the nodes", async () => {
    const client = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    const reader = new AnnaClient({ routingAddress: nodes[1].routingAddress, timeoutMs: 2000 });
    try {
      await client.putLww("secret", "kept");
      // Global replication 2 of 2 nodes: the value reaches node 2 by gossip over TLS.
      await waitFor(
        async () => (await nodes[1].status()).actors[0].store.keyCount === 1,
        10_000,
        () => "the value did not reach node 2",
      );
      expect(Buffer.from((await reader.getLww("secret"))!.value).toString()).toBe("kept");
    } finally {
      await client.close();
      await reader.close();
    }
  });

  it("refuses plain ZMTP peers on the gossip and membership ports: forged frames change nothing", async () => {
    const before = await nodes[0].status();
    const forger = new zmq.Push({ linger: 0 });
    try {
      forger.connect(`tcp://127.0.0.1:${gossipPort}`);
      forger.connect(`tcp://127.0.0.1:${membershipPort}`);
      // An acknowledgement that would let a handoff drop a key, and gossip declaring node 2 dead.
      await forger.send(handoffAckFrame("tcp://127.0.0.2:" + gossipPort, 1));
      const forgedEntry = {
        id: `127.0.0.2:${membershipPort}`,
        incarnation: Number.MAX_SAFE_INTEGER,
        lifecycle: Lifecycle.LEFT,
        suspicion: Suspicion.DEAD,
        heartbeat: 1,
        data: {
          host: "127.0.0.2",
          portOffset,
          threads: 1,
          localReplication: 1,
          keyCount: 0,
          synced: {},
          factors: { version: 0, factors: [] },
          stability: { heldMicros: 0, epoch: 0 },
        },
      };
      await forger.send(
        encodeMembershipMessage({ kind: "gossip", from: "127.0.0.9:1", clusterName: "annakv", members: [forgedEntry] }),
      );
    } finally {
      forger.close();
    }
    await waitFor(
      async () => {
        const now = await nodes[0].status();
        return (
          now.actors[0].counters.badFrames > before.actors[0].counters.badFrames &&
          now.cluster.membershipBadFrames > before.cluster.membershipBadFrames
        );
      },
      10_000,
      () => "the plain peers were not refused",
    );
    expect((await memberStates(nodes[0]))["127.0.0.2"]).toBe("alive");
    const client = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    try {
      expect(Buffer.from((await client.getLww("secret"))!.value).toString()).toBe("kept");
    } finally {
      await client.close();
    }
  });

  it("refuses a TLS peer whose certificate is from another CA", async () => {
    const before = (await nodes[0].status()).cluster.membershipBadFrames;
    const pool = new ZmtpPushPool({
      maxSockets: 1,
      idleCloseMs: 10_000,
      maxQueuedBytes: 1 << 20,
      lingerMs: 100,
      handshakeTimeoutMs: 5000,
      tls: strangerCredentials,
    });
    try {
      pool.send(
        `tcp://127.0.0.1:${membershipPort}`,
        encodeMembershipMessage({ kind: "gossip", from: "127.0.0.9:1", clusterName: "annakv", members: [] }),
      );
      await waitFor(
        async () => (await nodes[0].status()).cluster.membershipBadFrames > before,
        10_000,
        () => "the stranger was not refused",
      );
    } finally {
      pool.close();
    }
  });

  it("does not let a node without credentials join", async () => {
    const outsider = await startNodeProcess({
      portOffset,
      host: "127.0.0.3",
      threads: 1,
      extraArgs: ["--join=127.0.0.1", "--join-timeout-ms=2000"],
      startTimeoutMs: 15_000,
    }).catch((error: Error) => error);
    expect(outsider).toBeInstanceOf(Error);
    expect(String(outsider)).toContain("no seed answered");
  });
});
