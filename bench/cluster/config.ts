/** What the cluster benchmark measures, at full size and CI size (`--quick`). */
import type { NodeOptions } from "./nodes";

export interface ClusterBenchConfig {
  /**
   * First port offset; each measurement takes its own, PORT_OFFSET_STEP apart. A node uses
   * ports 6200+offset to 6451+offset: from 10000 on they lie between the default ports, the
   * server bench's (3100) and dev-cluster's (0, 1000, ...) below and the tests' (offsets
   * 15300-26100, ports 21500-32551) above, and below Linux's ephemeral range (32768-60999),
   * where a client's outgoing connection may hold a port (a run at offset 40000 met EADDRINUSE so).
   */
  portOffset: number;
  valueBytes: number;
  seed: number;
  /** `--failure-timeout-ms` of every node; undefined: the node's default (5000). */
  failureTimeoutMs: number | undefined;
  failureDetection: {
    trials: number;
    pollMs: number;
  };
  handoff: {
    keyCount: number;
    loaderProcesses: number;
    batchKeys: number;
    callsInFlight: number;
    /** Deadline of each step (load, re-replication, join, leave). */
    stepTimeoutMs: number;
  };
  joinThroughput: {
    keyCount: number;
    clientProcesses: number;
    callsInFlight: number;
    keysPerRequest: number;
    putFraction: number;
    /** Load before the measured windows, not counted: the client processes' JIT warms up. */
    warmupSeconds: number;
    beforeSeconds: number;
    afterReadySeconds: number;
    /** Windows counted once the join is over (balanced copies): three nodes serving, nothing moving. */
    settledSeconds: number;
    clientTimeoutMs: number;
  };
  gossipCost: {
    keyCount: number;
    writeSeconds: number;
    writeConcurrency: number;
    keysPerRequest: number;
    idleSeconds: number;
    /**
     * How long to wait, before the idle window, for anti-entropy to stop repairing what the
     * preload left (two periods without a repair); a period longer than this is not waited for.
     */
    idleSettleTimeoutMs: number;
    /** Idle traffic is measured once per period: the default and a short one that shows the digests' cost. */
    antiEntropyPeriodsMs: number[];
  };
  nodeCount: {
    keyCount: number;
    rounds: number;
    keysPerRequest: number;
    concurrency: number;
    warmupMs: number;
    durationMs: number;
  };
}

export const PORT_OFFSET_STEP = 300;
/** Measurements that start clusters, each at its own offset. */
export const PORT_OFFSET_SLOTS = 7;
/** The highest offset whose ports (up to 6451 + offset) stay below the ephemeral range. */
export const PORT_OFFSET_MAX = 32_767 - 6451;

export const FULL_CONFIG: ClusterBenchConfig = {
  portOffset: 10_000,
  valueBytes: 64,
  seed: 20240601,
  failureTimeoutMs: undefined,
  failureDetection: { trials: 3, pollMs: 50 },
  handoff: { keyCount: 1_000_000, loaderProcesses: 2, batchKeys: 1000, callsInFlight: 2, stepTimeoutMs: 300_000 },
  joinThroughput: {
    keyCount: 200_000,
    clientProcesses: 2,
    callsInFlight: 8,
    keysPerRequest: 16,
    putFraction: 0.5,
    warmupSeconds: 3,
    beforeSeconds: 5,
    afterReadySeconds: 2,
    settledSeconds: 5,
    clientTimeoutMs: 2000,
  },
  gossipCost: {
    keyCount: 100_000,
    writeSeconds: 5,
    writeConcurrency: 20,
    keysPerRequest: 16,
    idleSeconds: 10,
    idleSettleTimeoutMs: 70_000,
    antiEntropyPeriodsMs: [30_000, 1000],
  },
  nodeCount: { keyCount: 100_000, rounds: 3, keysPerRequest: 16, concurrency: 50, warmupMs: 1000, durationMs: 5000 },
};

/** A few seconds per measurement: checks that every part runs and reports, not what it measures. */
export const QUICK_CONFIG: ClusterBenchConfig = {
  ...FULL_CONFIG,
  portOffset: 12_000,
  failureTimeoutMs: 2000,
  failureDetection: { trials: 1, pollMs: 50 },
  handoff: { ...FULL_CONFIG.handoff, keyCount: 5000, loaderProcesses: 1, stepTimeoutMs: 60_000 },
  joinThroughput: {
    ...FULL_CONFIG.joinThroughput,
    keyCount: 2000,
    clientProcesses: 1,
    callsInFlight: 2,
    warmupSeconds: 1,
    beforeSeconds: 2,
    afterReadySeconds: 1,
    settledSeconds: 1,
  },
  // The default period's settle (two 30-s periods) would be most of the run: only the 1-s period is settled.
  gossipCost: {
    ...FULL_CONFIG.gossipCost,
    keyCount: 2000,
    writeSeconds: 1,
    writeConcurrency: 4,
    idleSeconds: 2,
    idleSettleTimeoutMs: 5000,
  },
  nodeCount: { ...FULL_CONFIG.nodeCount, keyCount: 2000, rounds: 1, concurrency: 8, warmupMs: 200, durationMs: 1000 },
};

/** Node flags every cluster of the run shares: the defaults, but for a shorter failure timeout in quick runs. */
export function commonNodeArgs(config: ClusterBenchConfig): string[] {
  return config.failureTimeoutMs === undefined ? [] : [`--failure-timeout-ms=${config.failureTimeoutMs}`];
}

/** Options of a cluster's nodes at a port offset: the shared flags plus `args`. */
export function clusterOptions(
  config: ClusterBenchConfig,
  portOffset: number,
  threads: number,
  globalReplication: number,
  args: readonly string[] = [],
): Omit<NodeOptions, "index" | "joinIndex"> {
  return { portOffset, threads, globalReplication, args: [...commonNodeArgs(config), ...args] };
}
