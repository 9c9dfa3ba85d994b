/**
 * Bytes the cluster sends between nodes: three nodes of one actor, global replication 2,
 * `keyCount` keys. Per write: the bench's load generator writes for `writeSeconds` (PUTs
 * only, each to its key's first replica), and the actors' gossipBytesSent (gossip,
 * handoffs, acknowledgements, anti-entropy) plus the nodes' membershipBytesSent grow by
 * so many bytes per PUT tuple answered. Idle: the same counters over `idleSeconds` with no
 * requests, once per anti-entropy period (a fresh cluster each).
 */
import path from "node:path";
import type { LoadResult } from "../load-generator";
import { ClusterBenchConfig, clusterOptions } from "./config";
import { BenchNode, counterOf, killNodes, NodeStatus, startCluster } from "./nodes";
import { sleep } from "./wait";
import { preloadKeys, STATS_INTERVAL_MS, waitForCopies } from "./preload";
import { runJsonProcess } from "../child-processes";
import { lwwPayloadBytes } from "../workload";
import { KEY_BYTES } from "./keys";
import { sum } from "./stats";

const GENERATOR_PATH = path.resolve(__dirname, "../load-generator.ts");
const GLOBAL_REPLICATION = 2;
const STEP_TIMEOUT_MS = 120_000;
/** After a write load, gossip of the last dirty keys and their acknowledgements go out within a few gossip periods (100 ms). */
const QUIESCE_MS = 2000;

interface TrafficCounters {
  /** Per actor (node by node): gossip bytes sent and the actor's uptime when it reported them. */
  actorGossip: Array<{ bytes: number; uptimeMs: number }>;
  gossipBytes: number;
  gossipKeys: number;
  membershipBytes: number;
  putTuples: number;
  antiEntropyRounds: number;
  antiEntropyKeysRepaired: number;
}

export interface PerWriteCost {
  seconds: number;
  putTuples: number;
  putsPerSecond: number;
  gossipBytesPerWrite: number;
  membershipBytesPerWrite: number;
  totalBytesPerWrite: number;
  /** Keys the actors sent in gossip per PUT: below 1 where writes of one key within a gossip period went out once. */
  gossipKeysPerWrite: number;
  /** Key + LWW payload of one write: what a copy to one other replica cannot do without. */
  rawBytesPerWrite: number;
}

export interface IdleCost {
  antiEntropyPeriodMs: number;
  seconds: number;
  gossipBytesPerSecond: number;
  membershipBytesPerSecond: number;
  totalBytesPerSecond: number;
  antiEntropyRounds: number;
  antiEntropyKeysRepaired: number;
  /** Gossip bytes per anti-entropy round of one actor (digests to each replica it shares keys with); null with no round in the window. */
  gossipBytesPerAntiEntropyRound: number | null;
}

export interface GossipCostResult {
  nodes: number;
  globalReplication: number;
  keys: number;
  perWrite: PerWriteCost;
  idle: IdleCost[];
}

async function trafficCounters(nodes: readonly BenchNode[]): Promise<TrafficCounters> {
  const statuses: NodeStatus[] = await Promise.all(nodes.map((node) => node.status()));
  const total = (pick: (status: NodeStatus) => number) => sum(statuses.map(pick));
  return {
    actorGossip: statuses.flatMap((status) =>
      status.actors.map((actor) => ({ bytes: actor.counters.gossipBytesSent, uptimeMs: actor.uptimeMs })),
    ),
    gossipBytes: total((status) => counterOf(status, "gossipBytesSent")),
    gossipKeys: total((status) => counterOf(status, "gossipKeysSent")),
    membershipBytes: total((status) => status.cluster.membershipBytesSent),
    putTuples: total((status) => counterOf(status, "putTuples")),
    antiEntropyRounds: total((status) => counterOf(status, "antiEntropyRounds")),
    antiEntropyKeysRepaired: total((status) => counterOf(status, "antiEntropyKeysRepaired")),
  };
}

/** Actor counters arrive once a second: after a wait for the next report, both reads lag alike. */
async function settledTrafficCounters(nodes: readonly BenchNode[]): Promise<TrafficCounters> {
  await sleep(STATS_INTERVAL_MS + 200);
  return trafficCounters(nodes);
}

async function startLoadedCluster(
  config: ClusterBenchConfig,
  portOffset: number,
  antiEntropyPeriodMs: number,
): Promise<BenchNode[]> {
  const keys = config.gossipCost.keyCount;
  const nodes = await startCluster(
    3,
    clusterOptions(config, portOffset, 1, GLOBAL_REPLICATION, [`--anti-entropy-period-ms=${antiEntropyPeriodMs}`]),
  );
  try {
    await preloadKeys(nodes, {
      keyCount: keys,
      processes: 1,
      batchKeys: 1000,
      callsInFlight: 2,
      valueBytes: config.valueBytes,
      seed: config.seed,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await waitForCopies(nodes, GLOBAL_REPLICATION * keys, performance.now(), STEP_TIMEOUT_MS);
    return nodes;
  } catch (error) {
    await killNodes(nodes);
    throw error;
  }
}

async function measurePerWrite(config: ClusterBenchConfig, nodes: readonly BenchNode[]): Promise<PerWriteCost> {
  const options = config.gossipCost;
  const before = await settledTrafficCounters(nodes);
  const startedMs = performance.now();
  await runJsonProcess<LoadResult>(
    GENERATOR_PATH,
    {
      host: nodes[0].host,
      portOffset: nodes[0].options.portOffset,
      concurrency: options.writeConcurrency,
      keysPerRequest: options.keysPerRequest,
      keyCount: options.keyCount,
      valueBytes: config.valueBytes,
      putFraction: 1,
      warmupMs: 0,
      durationMs: options.writeSeconds * 1000,
      seed: config.seed,
    },
    STEP_TIMEOUT_MS,
  );
  const seconds = (performance.now() - startedMs) / 1000;
  await sleep(QUIESCE_MS);
  const after = await settledTrafficCounters(nodes);
  const putTuples = after.putTuples - before.putTuples;
  const gossipBytesPerWrite = (after.gossipBytes - before.gossipBytes) / putTuples;
  const membershipBytesPerWrite = (after.membershipBytes - before.membershipBytes) / putTuples;
  return {
    seconds,
    putTuples,
    putsPerSecond: putTuples / seconds,
    gossipBytesPerWrite,
    membershipBytesPerWrite,
    totalBytesPerWrite: gossipBytesPerWrite + membershipBytesPerWrite,
    gossipKeysPerWrite: (after.gossipKeys - before.gossipKeys) / putTuples,
    // The key and its LWW payload `08 <5-byte timestamp> 12 <len> <value>`.
    rawBytesPerWrite: KEY_BYTES + lwwPayloadBytes(config.valueBytes),
  };
}

/**
 * The counters once anti-entropy has nothing left to repair: rounds that ran during the
 * preload found the buckets its writes had not yet reached on every replica, and their
 * repairs would otherwise be counted as idle traffic. Waits for the repaired-keys count to
 * stay unchanged over two periods (at most `settleTimeoutMs`).
 */
async function idleTrafficCounters(
  nodes: readonly BenchNode[],
  antiEntropyPeriodMs: number,
  settleTimeoutMs: number,
): Promise<TrafficCounters> {
  let counters = await settledTrafficCounters(nodes);
  if (antiEntropyPeriodMs <= 0 || 2 * antiEntropyPeriodMs > settleTimeoutMs) return counters;
  const deadlineMs = performance.now() + settleTimeoutMs;
  for (;;) {
    await sleep(2 * antiEntropyPeriodMs);
    const later = await settledTrafficCounters(nodes);
    if (later.antiEntropyKeysRepaired === counters.antiEntropyKeysRepaired) return later;
    if (performance.now() > deadlineMs)
      throw new Error(
        `anti-entropy still repairing ${settleTimeoutMs} ms after the preload: ${later.antiEntropyKeysRepaired - counters.antiEntropyKeysRepaired} keys in the last check`,
      );
    counters = later;
  }
}

async function measureIdle(
  config: ClusterBenchConfig,
  nodes: readonly BenchNode[],
  antiEntropyPeriodMs: number,
): Promise<IdleCost> {
  await sleep(QUIESCE_MS);
  const before = await idleTrafficCounters(nodes, antiEntropyPeriodMs, config.gossipCost.idleSettleTimeoutMs);
  const startedMs = performance.now();
  await sleep(config.gossipCost.idleSeconds * 1000);
  const after = await trafficCounters(nodes);
  const seconds = (performance.now() - startedMs) / 1000;
  // Each actor's counters over the time between its own two reports, not between our reads.
  const gossipBytesPerSecond = sum(
    after.actorGossip.map(
      (actor, i) =>
        ((actor.bytes - before.actorGossip[i].bytes) * 1000) / (actor.uptimeMs - before.actorGossip[i].uptimeMs),
    ),
  );
  const membershipBytesPerSecond = (after.membershipBytes - before.membershipBytes) / seconds;
  const antiEntropyRounds = after.antiEntropyRounds - before.antiEntropyRounds;
  return {
    antiEntropyPeriodMs,
    seconds,
    gossipBytesPerSecond,
    membershipBytesPerSecond,
    totalBytesPerSecond: gossipBytesPerSecond + membershipBytesPerSecond,
    antiEntropyRounds,
    antiEntropyKeysRepaired: after.antiEntropyKeysRepaired - before.antiEntropyKeysRepaired,
    gossipBytesPerAntiEntropyRound:
      antiEntropyRounds > 0 ? (after.gossipBytes - before.gossipBytes) / antiEntropyRounds : null,
  };
}

/** One cluster per anti-entropy period; the write cost is measured on the first (the default period). */
export async function measureGossipCost(
  config: ClusterBenchConfig,
  portOffsets: readonly number[],
): Promise<GossipCostResult> {
  let perWrite: PerWriteCost | undefined;
  const idle: IdleCost[] = [];
  for (const [index, antiEntropyPeriodMs] of config.gossipCost.antiEntropyPeriodsMs.entries()) {
    const nodes = await startLoadedCluster(config, portOffsets[index], antiEntropyPeriodMs);
    try {
      idle.push(await measureIdle(config, nodes, antiEntropyPeriodMs));
      console.log(
        `idle traffic, anti-entropy every ${antiEntropyPeriodMs} ms: ${JSON.stringify(idle[idle.length - 1])}`,
      );
      if (index === 0) {
        perWrite = await measurePerWrite(config, nodes);
        console.log(`traffic per write: ${JSON.stringify(perWrite)}`);
      }
    } finally {
      await killNodes(nodes);
    }
  }
  return {
    nodes: 3,
    globalReplication: GLOBAL_REPLICATION,
    keys: config.gossipCost.keyCount,
    perWrite: perWrite!,
    idle,
  };
}
