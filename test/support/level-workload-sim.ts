/**
 * The workload on the simulated cluster (sim-cluster.ts): a seeded scheduler of turns picks
 * which process makes the next call, so transactions interleave op by op; the sessions'
 * wall clocks are simulated time (a fixed step per turn) plus a skew per process. A run is
 * a function of its seed: a failing seed replays.
 */
import type { SessionContext } from "../../src/consistency/session";
import { TransactionNumbers } from "../../src/consistency/write-id";
import { HistoryRecorder } from "./history/recorder";
import { runLevelWorkload, type WorkloadEnvironment, type WorkloadResult } from "./level-workload";
import type { LevelRow } from "./level-workload-levels";
import { Random } from "./random";
import { SimCluster, type SimFaults, type SimStableTime } from "./sim-cluster";

export interface SimRunOptions {
  readonly seed: number;
  readonly transactions: number;
  readonly faults: SimFaults;
  /** Per process, cycled: how far its wall clock is off, in microseconds. */
  readonly clockSkewsMicros: readonly bigint[];
  readonly processCount?: number;
  readonly keyCount?: number;
  /** Swaps a piece of the replicas before the run (a broken variant's). */
  readonly adaptCluster?: (cluster: SimCluster) => void;
  /** Whether replicas keep a stable time and accept floor, as nodes do (docs/causal-stability.md); none by default. */
  readonly stableTime?: SimStableTime;
}

export interface SimRunResult extends WorkloadResult {
  readonly cluster: SimCluster;
}

const SIM_PROCESS_COUNT = 8;
/** Few keys, so that sessions meet on them: conflicts are where anomalies live. */
const SIM_KEY_COUNT = 5;
/** Two sessions per client, as on real nodes: they share its tag and transaction numbers. */
const SESSIONS_PER_CLIENT = 2;
const START_MICROS = 1_700_000_000_000_000n;
/** Simulated time per call: a few milliseconds per transaction, as on a busy 2-core machine. */
const MICROS_PER_TURN = 500n;
const TURNS_SEED_MIX = 0x7f4a7c15;
/** How far the accept floor trails simulated time, where it follows it: 20 turns. */
const ACCEPT_LAG_MICROS = 10_000;

/** Releases one waiting process at a time, chosen by seed, once every live process waits. */
class SeededTurns {
  private readonly waiting = new Map<number, () => void>();
  private live: number;
  taken = 0;

  constructor(
    private readonly random: Random,
    processCount: number,
  ) {
    this.live = processCount;
  }

  turn(process: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.set(process, resolve);
      this.release();
    });
  }

  finished(): void {
    this.live--;
    this.release();
  }

  /** The simulator answers within microtasks, so a process not waiting here is about to: wait for all. */
  private release(): void {
    if (this.waiting.size === 0 || this.waiting.size < this.live) return;
    const ready = [...this.waiting.keys()].sort((a, b) => a - b);
    const chosen = ready[this.random.int(ready.length)];
    const resolve = this.waiting.get(chosen)!;
    this.waiting.delete(chosen);
    this.taken++;
    resolve();
  }
}

class SimEnvironment implements WorkloadEnvironment {
  readonly rowEnvironment = { settleWaitMs: 0 };
  private readonly turns: SeededTurns;
  private readonly transactionNumbers: TransactionNumbers[] = [];

  constructor(
    readonly transport: SimCluster,
    private readonly options: SimRunOptions,
    turns: SeededTurns,
    random: Random,
    processCount: number,
  ) {
    this.turns = turns;
    for (let client = 0; client < Math.ceil(processCount / SESSIONS_PER_CLIENT); client++) {
      // Seeded client tags: write ids, and so the version order of equal stamps, replay too.
      this.transactionNumbers.push(new TransactionNumbers(() => random.bytes(8)));
    }
  }

  sessionContext(process: number): SessionContext {
    const skews = this.options.clockSkewsMicros;
    const skew = skews[process % skews.length];
    return {
      transport: this.transport,
      transactionNumbers: this.transactionNumbers[Math.floor(process / SESSIONS_PER_CLIENT)],
      nowMicros: () => simulatedMicros(this.turns) + skew,
    };
  }

  turn(process: number): Promise<void> {
    return this.turns.turn(process);
  }

  finished(): void {
    this.turns.finished();
  }

  async heal(): Promise<void> {
    this.transport.heal();
  }
}

/** Simulated time: a fixed step per turn taken. */
function simulatedMicros(turns: SeededTurns): bigint {
  return START_MICROS + BigInt(turns.taken) * MICROS_PER_TURN;
}

/**
 * Runs `row` on a fresh simulated cluster and checks its history. Where the run names no
 * stable time and the row does, the replicas keep the row's, and their accept floor follows
 * simulated time ACCEPT_LAG_MICROS behind.
 */
export async function runOnSim(row: LevelRow, options: SimRunOptions): Promise<SimRunResult> {
  const processCount = options.processCount ?? SIM_PROCESS_COUNT;
  // Not the cluster's own stream (SimCluster draws from Random(seed)): the two must not move in step.
  const random = new Random((options.seed ^ TURNS_SEED_MIX) >>> 0);
  const turns = new SeededTurns(random, processCount);
  const acceptClock =
    options.stableTime === undefined && row.simStableTime !== undefined
      ? { nowMicros: () => Number(simulatedMicros(turns)), acceptLagMicros: ACCEPT_LAG_MICROS }
      : undefined;
  const cluster = new SimCluster(options.seed, options.faults, options.stableTime ?? row.simStableTime, acceptClock);
  options.adaptCluster?.(cluster);
  let nowNs = 0n;
  const result = await runLevelWorkload({
    row,
    environment: new SimEnvironment(cluster, options, turns, random, processCount),
    // Counted time, so that the history replays byte for byte.
    recorder: new HistoryRecorder({ output: { kind: "memory" }, nowNs: () => (nowNs += 1000n) }),
    seed: options.seed,
    processCount,
    keys: Array.from({ length: options.keyCount ?? SIM_KEY_COUNT }, (_, index) => `k${index}`),
    transactionsMax: options.transactions,
    // A crash loses what a replica had not gossiped, as a node killed with put acks 1 does.
    allowLostWrites: options.faults.crash > 0,
  });
  return { ...result, cluster };
}
