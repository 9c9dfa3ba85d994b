/**
 * Timeouts and retries: the routing service (the real RoutingService class) lists two
 * replicas for every key, a real node's actor and a socket that swallows requests like a
 * hung actor. The client must time out on the silent replica and retry on the other, so
 * every operation still succeeds.
 */
import * as zmq from "zeromq";
import { AnnaClient } from "../../src/client/anna-client";
import { RoutingService } from "../../src/node/routing-service";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import { NodeProcess, startNodeProcess } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clientRetry;
const TIMEOUT_MS = 300;

describe("AnnaClient retries", () => {
  let node: NodeProcess;
  let silentReplica: zmq.Pull;
  let routing: RoutingService;
  let swallowed = 0;
  // Two nodes of one actor each, both holding every key: the silent one and the real one.
  const layoutNode = (id: string, offset: number) => ({
    id,
    incarnation: 1,
    host: "127.0.0.1",
    portOffset: offset,
    threads: 1,
    localReplication: 1,
    serving: true,
    next: true,
  });
  const placement = new ClusterPlacement({
    version: 1,
    selfId: "real",
    globalReplication: 2,
    nodes: [layoutNode("real", portOffset), layoutNode("silent", portOffset + 1)],
  });

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, threads: 1 });
    silentReplica = new zmq.Pull({ linger: 0 });
    // A one-actor "node" at the next port offset, whose actor port is free (the real node has one actor).
    await silentReplica.bind(`tcp://127.0.0.1:${6200 + portOffset + 1}`);
    void (async () => {
      for await (const _ of silentReplica) swallowed++;
    })();
    routing = new RoutingService({
      bindAddress: "tcp://127.0.0.1:*",
      placement: () => placement,
      maxFrameBytes: 1 << 20,
      maxKeyBytes: 64 * 1024,
      maxConnections: 64,
      idleTimeoutMs: 0,
      onBadFrame: () => undefined,
      onConnectionRefused: () => undefined,
    });
    await routing.start();
  });

  afterAll(async () => {
    await routing?.stop(Date.now() + 1000);
    silentReplica?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("times out on a silent replica and succeeds on another", async () => {
    const client = new AnnaClient({ routingAddress: routing.boundAddress!, timeoutMs: TIMEOUT_MS, maxAttempts: 3 });
    try {
      const keys = Array.from({ length: 8 }, (_, i) => `retry-${i}`);
      const started = Date.now();
      for (const key of keys) await client.putLww(key, key);
      for (const key of keys) expect(new TextDecoder().decode((await client.getLww(key))!.value)).toBe(key);
      expect(swallowed).toBeGreaterThan(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
    } finally {
      await client.close();
    }
  });

  it("gives up with TIMEOUT when no replica answers", async () => {
    const client = new AnnaClient({
      routingAddress: `tcp://127.0.0.1:${6450 + PORT_OFFSETS.scratch}`,
      timeoutMs: 100,
      maxAttempts: 2,
    });
    try {
      await expect(client.get("anything")).rejects.toMatchObject({ code: "TIMEOUT" });
    } finally {
      await client.close();
    }
  });
});
