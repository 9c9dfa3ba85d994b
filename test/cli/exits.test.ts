/**
 * `annakv start` options and exit codes that only show on a real process's stop or ports
 * (docs/operations.md, "annakv start options" and "CLI"): `--no-metrics` leaves the HTTP port closed
 * while the node serves; an unfinished /metrics request does not hold up a stop;
 * `--shutdown-timeout-ms` is how long a stop waits for replies a client does not take;
 * exit code 5 when the stop overruns its deadline (an actor hung by the fault file,
 * src/actor/faults.ts), and when a
 * member's leave cannot hand its keys over within `--leave-timeout-ms`.
 *
 * One node at a time on PORT_OFFSETS.cliExits, except the leave, which needs a cluster:
 * its two nodes share that offset on 127.0.0.1 and 127.0.0.2, as in test/support/cluster.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { AnnaClient } from "../../src/client/anna-client";
import { encodeKeyRequest, RequestType } from "../../src/protocol/anna";
import { DEFAULT_NODE_OPTIONS } from "../../src/node/options";
import { actorRequestAddress, metricsPort } from "../../src/protocol/ports";
import { ClusterNode, keyCount, startCluster } from "../support/cluster";
import { CLI_PATH, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.cliExits;
const EXIT_SHUTDOWN_OVERRAN = 5;

/** A TCP listener that accepts connections and never reads or writes: a peer that stalls. */
async function openSilentListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.pause();
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Resolves with the error code of a TCP connection attempt ("connected" if it succeeds). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Sends SIGTERM and resolves with the exit code and how long the process took to exit. */
async function timedStop(
  stop: (signal?: NodeJS.Signals) => Promise<number | null>,
): Promise<{ code: number | null; elapsedMs: number }> {
  const startedMs = Date.now();
  const code = await stop("SIGTERM");
  return { code, elapsedMs: Date.now() - startedMs };
}

describe("annakv start: --no-metrics", () => {
  it("serves requests while nothing listens on the metrics port", async () => {
    const node = await startNodeProcess({ portOffset, threads: 1, extraArgs: ["--no-metrics"] });
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 2000 });
    try {
      expect(node.output()).toContain("metrics off");
      await client.putLww("with-no-metrics", "served");
      expect(Buffer.from((await client.getLww("with-no-metrics"))!.value).toString()).toBe("served");
      expect(await tryConnect(metricsPort(portOffset))).toBe("ECONNREFUSED");
      // `annakv status` reads /status: with no HTTP port there is no node to ask (exit 4).
      const status = spawnSync(
        process.execPath,
        [CLI_PATH, "status", `--port-offset=${portOffset}`, "--timeout-ms=500"],
        { encoding: "utf8", timeout: 20_000 },
      );
      expect(status.status).toBe(4);
    } finally {
      await client.close();
      expect(await node.stop()).toBe(0);
    }
  }, 40_000);
});

describe("annakv start: the metrics port", () => {
  it("does not hold up the stop for a /metrics request that never finishes", async () => {
    const node = await startNodeProcess({ portOffset, threads: 1 });
    // Headers that never end: an HTTP server's close() alone would wait for this connection.
    const halfRequest = net.connect(metricsPort(portOffset), "127.0.0.1");
    try {
      await new Promise<void>((resolve, reject) => halfRequest.once("connect", resolve).once("error", reject));
      halfRequest.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      const { code, elapsedMs } = await timedStop(node.stop);
      expect(code).toBe(0);
      expect(elapsedMs).toBeLessThan(DEFAULT_NODE_OPTIONS.shutdownTimeoutMs);
    } finally {
      halfRequest.destroy();
      await node.stop("SIGKILL");
    }
  }, 40_000);
});

describe("annakv start: --shutdown-timeout-ms", () => {
  const SHUTDOWN_TIMEOUT_MS = 1500;

  it("waits that long for a client that never takes its reply, then exits 0", async () => {
    const node = await startNodeProcess({
      portOffset,
      threads: 1,
      extraArgs: [`--shutdown-timeout-ms=${SHUTDOWN_TIMEOUT_MS}`],
    });
    const stalled = await openSilentListener();
    const peer = await RawPeer.open();
    try {
      // The actor connects to the reply address and queues the reply behind a ZMTP handshake that never ends.
      const request = encodeKeyRequest({
        type: RequestType.GET,
        tuples: [{ key: "never-read" }],
        response_address: `tcp://127.0.0.1:${stalled.port}`,
        request_id: "1",
      });
      await peer.send(actorRequestAddress("127.0.0.1", portOffset, 0), request);
      await waitFor(
        () => stalled.connections() > 0,
        10_000,
        () => `the node never connected to the reply address:\n${node.output()}`,
      );
      const { code, elapsedMs } = await timedStop(node.stop);
      expect(code).toBe(0);
      // At least the timeout (with no stalled reply the stop takes ~25 ms), and short of the
      // default it would take without the flag. Beyond the timeout, the reply connection's
      // close lingers (~1 s) before the actor's thread can exit.
      expect(elapsedMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS);
      expect(elapsedMs).toBeLessThan(DEFAULT_NODE_OPTIONS.shutdownTimeoutMs);
    } finally {
      peer.close();
      await stalled.close();
      await node.stop("SIGKILL");
    }
  }, 40_000);
});

describe("annakv start: exit code 5", () => {
  it("when an actor hangs and the stop overruns --leave-timeout-ms + --shutdown-timeout-ms + 2 s", async () => {
    const leaveTimeoutMs = 1;
    const shutdownTimeoutMs = 500;
    const overrunAfterMs = leaveTimeoutMs + shutdownTimeoutMs + 2000;
    const faultDir = mkdtempSync(path.join(os.tmpdir(), "annakv-exits-"));
    const faultFile = path.join(faultDir, "fault");
    const node = await startNodeProcess({
      portOffset,
      threads: 1,
      env: { ANNAKV_FAULT_FILE: faultFile },
      extraArgs: [`--leave-timeout-ms=${leaveTimeoutMs}`, `--shutdown-timeout-ms=${shutdownTimeoutMs}`],
    });
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 300, maxAttempts: 1 });
    try {
      await client.putLww("before-the-hang", "served");
      // The actor reads the fault file at each gossip tick, then spins: it answers nothing, not even the stop.
      writeFileSync(faultFile, "hang-actor 0\n");
      await waitFor(
        async () =>
          (await client.getLww("before-the-hang").then(
            () => "answered",
            () => "silent",
          )) === "silent",
        10_000,
        () => `the actor kept answering:\n${node.output()}`,
      );
      const { code, elapsedMs } = await timedStop(node.stop);
      expect(code).toBe(EXIT_SHUTDOWN_OVERRAN);
      expect(node.output()).toContain("shutdown overran its deadline");
      expect(elapsedMs).toBeGreaterThanOrEqual(overrunAfterMs);
      expect(elapsedMs).toBeLessThan(overrunAfterMs + 3000);
    } finally {
      await client.close();
      await node.stop("SIGKILL");
      rmSync(faultDir, { recursive: true, force: true });
    }
  }, 40_000);

  describe("when a member's leave cannot hand its keys over in time", () => {
    const LEAVE_TIMEOUT_MS = 1000;
    let nodes: ClusterNode[] = [];

    afterAll(async () => {
      for (const node of nodes) await node.process.stop("SIGKILL");
    });

    it(`exits 5 past --leave-timeout-ms=${LEAVE_TIMEOUT_MS}, the other owner paused`, async () => {
      // One copy of each key: the leaver's keys must go to the other node, which must
      // acknowledge them (with two copies on two nodes, the other already holds them all).
      nodes = await startCluster(2, {
        portOffset,
        globalReplication: 1,
        args: [`--leave-timeout-ms=${LEAVE_TIMEOUT_MS}`, "--shutdown-timeout-ms=1000"],
      });
      const [other, leaver] = nodes;
      const client = new AnnaClient({ routingAddress: leaver.routingAddress, timeoutMs: 2000 });
      try {
        for (let i = 0; i < 50; i++) await client.putLww(`leave-${i}`, `v${i}`);
      } finally {
        await client.close();
      }
      await waitFor(
        async () => (await keyCount(leaver)) > 0,
        10_000,
        () => "the leaver holds none of the keys",
      );
      // Paused, the other node acknowledges no handoff: the leave can only time out.
      other.process.child.kill("SIGSTOP");
      const { code, elapsedMs } = await timedStop(leaver.process.stop);
      expect(code).toBe(EXIT_SHUTDOWN_OVERRAN);
      expect(elapsedMs).toBeGreaterThanOrEqual(LEAVE_TIMEOUT_MS);
      // The leave's own verdict, not the watchdog's (leave + shutdown timeouts + 2 s).
      expect(leaver.process.output()).toContain("leave timed out");
      expect(leaver.process.output()).not.toContain("shutdown overran");
    }, 60_000);
  });
});
