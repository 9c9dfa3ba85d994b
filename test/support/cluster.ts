/**
 * Clusters of real node processes for tests: node i listens on 127.0.0.i (all of
 * 127.0.0.0/8 is loopback on Linux), every node at the same port offset, the first one
 * starting the cluster and the others joining it. No mocks: membership, gossip and
 * handoffs run over real sockets between real processes.
 */
import type { AnnaClient } from "../../src/client/anna-client";
import { metricsPort, routingAddress } from "../../src/protocol/ports";
import { NodeProcess, startNodeProcess, waitFor } from "./node-process";

export interface ClusterNodeOptions {
  portOffset: number;
  /** 1-based: the node's host is 127.0.0.<index>. */
  index: number;
  /** Index of the node to join through; none: start a cluster. */
  joinIndex?: number;
  threads?: number;
  globalReplication?: number;
  /** Further `annakv start` flags. */
  args?: string[];
  env?: Record<string, string>;
}

export interface ClusterNode {
  index: number;
  host: string;
  routingAddress: string;
  process: NodeProcess;
  /** The node's /status JSON. */
  status(): Promise<any>;
  /** True once /ready answers 200: the node serves its keys. */
  ready(): Promise<boolean>;
}

/** Short enough for a test to see a failure detected, long enough not to suspect a busy 2-core machine. */
export const TEST_FAILURE_TIMEOUT_MS = 3000;

export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const host = `127.0.0.${options.index}`;
  const joinArgs = options.joinIndex === undefined ? [] : [`--join=127.0.0.${options.joinIndex}`];
  const process = await startNodeProcess({
    portOffset: options.portOffset,
    host,
    threads: options.threads ?? 1,
    env: options.env,
    extraArgs: [
      ...joinArgs,
      `--global-replication=${options.globalReplication ?? 2}`,
      `--failure-timeout-ms=${TEST_FAILURE_TIMEOUT_MS}`,
      "--hot-key-replication=off",
      ...(options.args ?? []),
    ],
  });
  const metricsUrl = `http://${host}:${metricsPort(options.portOffset)}`;
  return {
    index: options.index,
    host,
    routingAddress: routingAddress(host, options.portOffset),
    process,
    status: async () => (await fetch(`${metricsUrl}/status`)).json(),
    ready: async () => {
      try {
        return (await fetch(`${metricsUrl}/ready`)).status === 200;
      } catch {
        return false;
      }
    },
  };
}

/** Starts `count` nodes, node 1 first and the others joining it, and waits until all serve. */
export async function startCluster(
  count: number,
  options: Omit<ClusterNodeOptions, "index" | "joinIndex">,
): Promise<ClusterNode[]> {
  const nodes: ClusterNode[] = [];
  try {
    for (let index = 1; index <= count; index++)
      nodes.push(await startClusterNode({ ...options, index, joinIndex: index === 1 ? undefined : 1 }));
    await waitForCluster(nodes, count);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.process.stop("SIGKILL")));
    throw error;
  }
  return nodes;
}

/** Waits until every node serves and sees `aliveCount` alive members. */
export async function waitForCluster(
  nodes: readonly ClusterNode[],
  aliveCount: number,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      for (const node of nodes) {
        if (!(await node.ready())) return false;
        const { cluster } = await node.status();
        if (cluster.members.filter((member: { state: string }) => member.state === "alive").length !== aliveCount)
          return false;
      }
      return true;
    },
    timeoutMs,
    () =>
      `the cluster did not settle on ${aliveCount} alive members:\n${nodes.map((node) => node.process.output().slice(-3000)).join("\n----\n")}`,
  );
}

/** Member states as `node`'s table has them, by host. */
export async function memberStates(node: ClusterNode): Promise<Record<string, string>> {
  const { cluster } = await node.status();
  return Object.fromEntries(
    cluster.members.map((member: { host: string; state: string }) => [member.host, member.state]),
  );
}

/** Keys stored on the node's actors together. */
export async function keyCount(node: ClusterNode): Promise<number> {
  const { actors } = await node.status();
  return actors.reduce((sum: number, actor: { store: { keyCount: number } }) => sum + actor.store.keyCount, 0);
}

/** The keys of `writes` (key -> LWW value) that `client` does not read back with at least that value. */
export async function missingWrites(client: AnnaClient, writes: ReadonlyMap<string, string>): Promise<string[]> {
  const keys = [...writes.keys()];
  const missing: string[] = [];
  for (let start = 0; start < keys.length; start += MISSING_BATCH_KEYS) {
    const values = await client.getMany(keys.slice(start, start + MISSING_BATCH_KEYS));
    for (const [key, read] of values)
      if (read === undefined || !Buffer.from(read.payload).toString().includes(writes.get(key)!)) missing.push(key);
  }
  return missing;
}

/** Keys read per request when checking writes. */
const MISSING_BATCH_KEYS = 200;
