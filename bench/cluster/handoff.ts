/**
 * Re-replication and handoff of many keys: three nodes of one actor, global replication
 * 2, loaded with `keyCount` keys; then (a) `kill -9` of node 3 and the time until the two
 * survivors hold every key (2 copies each: both hold all); (b) node 3 started again, until
 * it serves and the three hold 2 copies of every key between them, the joiner its share;
 * (c) SIGTERM to node 2 (a graceful leave), until it exits and nodes 1 and 3 hold
 * every key. Key counts reach /status once a second: the times are good to about a second.
 */
import { ClusterBenchConfig, clusterOptions } from "./config";
import { BenchNode, counterOf, killNodes, keyCountOf, memberState, NodeExit, NodeStatus, startCluster } from "./nodes";
import { sleep, waitUntil } from "./wait";
import { preloadKeys, PreloadResult, STATS_INTERVAL_MS, waitForCopies } from "./preload";
import { KEY_BYTES } from "./keys";
import { sum } from "./stats";

const GLOBAL_REPLICATION = 2;

/** Rebalance counters summed over the nodes given, for the keys a step moved. */
interface RebalanceCounters {
  rebalanceKeysSent: number;
  rebalanceKeysMovedOut: number;
}

export interface FailureStep extends RebalanceCounters {
  /** Copies the killed node held: what the survivors had to make again. */
  keysLost: number;
  killToDeadMs: number;
  /** From the later survivor's detection until both hold every key. */
  deadToReplicatedMs: number;
  keysPerSecond: number;
}

export interface JoinStep extends RebalanceCounters {
  startToReadyMs: number;
  /** From starting the joiner until the three hold 2 copies of every key (the old replicas' extra copies dropped). */
  startToBalancedMs: number;
  joinerKeys: number;
  /** joinerKeys / keys: with three nodes and 2 copies, an even share is 2/3. */
  joinerShare: number;
  /** Keys the joiner received per second between its start and its readiness. */
  keysPerSecondToReady: number;
}

export interface LeaveStep {
  leaverKeys: number;
  exit: NodeExit;
  sigtermToExitMs: number;
  /** From SIGTERM until the two left hold every key. */
  sigtermToReplicatedMs: number;
  /** What the two that stay sent each other (the leaver's own sends die with its /status). */
  stayers: RebalanceCounters;
}

export interface HandoffResult {
  nodes: number;
  globalReplication: number;
  keys: number;
  keyBytes: number;
  valueBytes: number;
  load: PreloadResult & { loadToReplicatedMs: number };
  failure: FailureStep;
  join: JoinStep;
  leave: LeaveStep;
}

function rebalanceCounters(statuses: NodeStatus[]): RebalanceCounters {
  return {
    rebalanceKeysSent: sum(statuses.map((status) => counterOf(status, "rebalanceKeysSent"))),
    rebalanceKeysMovedOut: sum(statuses.map((status) => counterOf(status, "rebalanceKeysMovedOut"))),
  };
}

/** Counter deltas between two reads of the same nodes (a restarted node's counters start at 0). */
function countersSince(before: RebalanceCounters, after: RebalanceCounters): RebalanceCounters {
  return {
    rebalanceKeysSent: after.rebalanceKeysSent - before.rebalanceKeysSent,
    rebalanceKeysMovedOut: after.rebalanceKeysMovedOut - before.rebalanceKeysMovedOut,
  };
}

async function statuses(nodes: readonly BenchNode[]): Promise<NodeStatus[]> {
  return Promise.all(nodes.map((node) => node.status()));
}

/** Counters posted a second late: wait for one more report before reading what a step moved. */
async function settledCounters(nodes: readonly BenchNode[]): Promise<RebalanceCounters> {
  await sleep(STATS_INTERVAL_MS + 200);
  return rebalanceCounters(await statuses(nodes));
}

async function killStep(config: ClusterBenchConfig, nodes: BenchNode[], keys: number): Promise<FailureStep> {
  const [first, second, victim] = nodes;
  const survivors = [first, second];
  const before = rebalanceCounters(await statuses(survivors));
  const keysLost = keyCountOf(await victim.status());
  const killedAtMs = performance.now();
  victim.child.kill("SIGKILL");
  await waitUntil(
    async () => (await statuses(survivors)).every((status) => memberState(status, victim.host) === "dead"),
    {
      timeoutMs: config.handoff.stepTimeoutMs,
      pollMs: 50,
      what: () => `both survivors to call ${victim.host} dead`,
    },
  );
  const deadAtMs = performance.now();
  const deadToReplicatedMs = await waitForCopies(
    survivors,
    GLOBAL_REPLICATION * keys,
    deadAtMs,
    config.handoff.stepTimeoutMs,
  );
  await victim.exited;
  return {
    keysLost,
    killToDeadMs: Math.round(deadAtMs - killedAtMs),
    deadToReplicatedMs: Math.round(deadToReplicatedMs),
    keysPerSecond: Math.round(keysLost / (deadToReplicatedMs / 1000)),
    ...countersSince(before, await settledCounters(survivors)),
  };
}

async function joinStep(config: ClusterBenchConfig, nodes: BenchNode[], keys: number): Promise<JoinStep> {
  const before = rebalanceCounters(await statuses(nodes.slice(0, 2)));
  const startedAtMs = performance.now();
  const joiner = await BenchNode.start({ ...nodes[2].options });
  nodes[2] = joiner;
  await waitUntil(() => joiner.ready(), {
    timeoutMs: config.handoff.stepTimeoutMs,
    pollMs: 50,
    what: () => `${joiner.host} to serve after joining`,
  });
  const startToReadyMs = performance.now() - startedAtMs;
  const joinerKeysAtReady = keyCountOf(await joiner.status());
  const startToBalancedMs = await waitForCopies(
    nodes,
    GLOBAL_REPLICATION * keys,
    startedAtMs,
    config.handoff.stepTimeoutMs,
    (counts) => counts[2] > 0,
  );
  const joinerKeys = keyCountOf(await joiner.status());
  return {
    startToReadyMs: Math.round(startToReadyMs),
    startToBalancedMs: Math.round(startToBalancedMs),
    joinerKeys,
    joinerShare: joinerKeys / keys,
    keysPerSecondToReady: Math.round(joinerKeysAtReady / (startToReadyMs / 1000)),
    // The joiner's counters start at 0, so the old members' "before" is the whole baseline.
    ...countersSince(before, await settledCounters(nodes)),
  };
}

async function leaveStep(config: ClusterBenchConfig, nodes: BenchNode[], keys: number): Promise<LeaveStep> {
  const leaver = nodes[1];
  const stayers = [nodes[0], nodes[2]];
  const before = rebalanceCounters(await statuses(stayers));
  const leaverKeys = keyCountOf(await leaver.status());
  const signalledAtMs = performance.now();
  leaver.child.kill("SIGTERM");
  const exited = leaver.exited.then((exit) => ({ exit, ms: performance.now() - signalledAtMs }));
  const timeout = sleep(config.handoff.stepTimeoutMs).then(() => {
    throw new Error(`${leaver.host} did not exit within ${config.handoff.stepTimeoutMs} ms of SIGTERM`);
  });
  timeout.catch(() => undefined);
  const [replicatedMs, { exit, ms }] = await Promise.all([
    waitForCopies(stayers, GLOBAL_REPLICATION * keys, signalledAtMs, config.handoff.stepTimeoutMs),
    Promise.race([exited, timeout]),
  ]);
  return {
    leaverKeys,
    exit,
    sigtermToExitMs: Math.round(ms),
    sigtermToReplicatedMs: Math.round(replicatedMs),
    stayers: countersSince(before, await settledCounters(stayers)),
  };
}

export async function measureHandoff(config: ClusterBenchConfig, portOffset: number): Promise<HandoffResult> {
  const keys = config.handoff.keyCount;
  const nodes = await startCluster(3, clusterOptions(config, portOffset, 1, GLOBAL_REPLICATION));
  try {
    const load = await preloadKeys(nodes, {
      ...config.handoff,
      keyCount: keys,
      processes: config.handoff.loaderProcesses,
      valueBytes: config.valueBytes,
      seed: config.seed,
      timeoutMs: config.handoff.stepTimeoutMs,
    });
    const loadEndMs = performance.now();
    console.log(
      `handoff: loaded ${keys} keys in ${load.seconds.toFixed(1)} s (${Math.round(load.keysPerSecond)} keys/s), errors ${JSON.stringify(load.errors)}`,
    );
    const loadToReplicatedMs = await waitForCopies(
      nodes,
      GLOBAL_REPLICATION * keys,
      loadEndMs,
      config.handoff.stepTimeoutMs,
    );
    const failure = await killStep(config, nodes, keys);
    console.log(
      `handoff: kill -9 detected in ${failure.killToDeadMs} ms, ${failure.keysLost} copies made again in ${failure.deadToReplicatedMs} ms (${failure.keysPerSecond} keys/s)`,
    );
    const join = await joinStep(config, nodes, keys);
    console.log(
      `handoff: joiner ready in ${join.startToReadyMs} ms, balanced in ${join.startToBalancedMs} ms, holds ${join.joinerKeys} keys`,
    );
    const leave = await leaveStep(config, nodes, keys);
    console.log(
      `handoff: leaver exited ${JSON.stringify(leave.exit)} in ${leave.sigtermToExitMs} ms, its ${leave.leaverKeys} keys held by the others after ${leave.sigtermToReplicatedMs} ms`,
    );
    return {
      nodes: 3,
      globalReplication: GLOBAL_REPLICATION,
      keys,
      keyBytes: KEY_BYTES,
      valueBytes: config.valueBytes,
      load: { ...load, loadToReplicatedMs: Math.round(loadToReplicatedMs) },
      failure,
      join,
      leave,
    };
  } finally {
    await killNodes(nodes);
  }
}
