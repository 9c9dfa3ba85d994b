/**
 * The workload that proves a consistency level by its recorded history (docs/consistency.md
 * §4, §5): N sessions (processes) of one level take seeded steps against a KeyTransport,
 * one call at a time each. A step is one read or write for eventual and the session
 * guarantees, a transaction of a few reads and writes (some aborted) for the isolation
 * levels, causal sessions' reads and writes for the causal ones. Every written value is
 * unique (`writtenValue`), and each step is recorded as invoke, then ok, fail or info, with
 * what its reads returned and the version (LWW stamp and write id, or causal clock) of each
 * write as it left for the cluster. Then the environment heals, every replica's value of
 * every key is recorded (`final`), and the checker judges the history by the row's level. What is level-specific is a row (level-workload-levels.ts); where the
 * sessions run is an environment (level-workload-sim.ts, level-workload-cluster.ts).
 */
import type { SessionContext } from "../../src/consistency/session";
import type { KeyTransport } from "../../src/consistency/transport";
import { checkHistory } from "./history/checker";
import {
  transactionName,
  writtenValue,
  type HistoryEvent,
  type Op,
  type Stamp,
  type VectorClock,
  type WriteVersions,
} from "./history/events";
import type { HistoryRecorder } from "./history/recorder";
import type { Verdict } from "./history/verdict";
import { finalPayload, SentVersions } from "./level-workload-versions";
import type { LevelRow, LevelSession, RowEnvironment, StepHandle } from "./level-workload-levels";
import { Random } from "./random";

/** Where the sessions run: the simulated cluster or real nodes. */
export interface WorkloadEnvironment {
  /** Process `process`'s transport, its client's transaction numbers, its wall clock. */
  sessionContext(process: number): SessionContext;
  /** Resolves when `process` may make its next call: the simulator interleaves processes by seed; real nodes run them freely. */
  turn(process: number): Promise<void>;
  /** `process` makes no more calls. */
  finished(process: number): void;
  /** Ends every fault; resolves once the replicas of `keys` are quiet and may be read for `final` events. */
  heal(keys: readonly string[]): Promise<void>;
  /** Where the final reads go (replicasOf, getFromReplica). */
  readonly transport: KeyTransport;
  /** What the rows' sessions are tuned to here. */
  readonly rowEnvironment: RowEnvironment;
}

export interface WorkloadOptions {
  readonly row: LevelRow;
  readonly environment: WorkloadEnvironment;
  readonly recorder: HistoryRecorder;
  readonly seed: number;
  readonly processCount: number;
  readonly keys: readonly string[];
  /** Steps begun by all processes together, at most. */
  readonly transactionsMax: number;
  /** No step begins past this `performance.now()`; without it only `transactionsMax` ends the run. */
  readonly deadlineMs?: number;
  /**
   * Sessions take at most `stepsPerSession` steps a round, then wait for the next round
   * (real nodes only: the simulator has no timers). All start a round together, so their
   * transactions overlap as unpaced ones do, while the steps spread over the run.
   */
  readonly rounds?: { readonly periodMs: number; readonly stepsPerSession: number };
  /** The run may lose acknowledged writes (a crash with put acks 1): LW is counted, not failed. */
  readonly allowLostWrites: boolean;
}

export interface WorkloadResult {
  readonly verdict: Verdict;
  readonly events: readonly HistoryEvent[];
}

/**
 * Per process, cycled: wall clocks up to 2 s apart, for the built levels' runs. The hybrid
 * clock must still order each session's writes after what it read (writes follow reads,
 * read committed's stamps above every stamp read).
 */
export const SKEWED_CLOCKS_MICROS: readonly bigint[] = [0n, 2_000_000n, -2_000_000n, 700n];

/** Ops in a transaction step: enough to read a key twice and write two keys, few enough to interleave often. */
const OPS_PER_TRANSACTION_MAX = 4;
const WRITE_SHARE = 0.5;
const ABORT_SHARE = 0.1;
/**
 * Errors that end a step before its commit: a transport that could not reach a replica (the
 * call's effect is unknown; a read's, none), a replica refusing a write (LATTICE: a causal
 * value past the size limit; STALE_STAMP: a multi-key causal write whose stamp every
 * attempt found below the accept floor or of another epoch, as while nodes disagree on the
 * membership), and a read the level could not answer without breaking its promise
 * (docs/consistency.md §3).
 */
const STEP_FAILURES: ReadonlySet<string> = new Set([
  "TIMEOUT",
  "NO_SERVERS",
  "WRONG_THREAD",
  "LATTICE",
  "READ_ATOMIC_CONFLICT",
  "VERSION_UNAVAILABLE",
  "CAUSAL_DEPENDENCY_UNAVAILABLE",
  "STALE_STAMP",
]);

export async function runLevelWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const { row, environment, recorder, keys } = options;
  const run: Run = {
    options,
    sent: new SentVersions(options.transactionsMax * OPS_PER_TRANSACTION_MAX),
    stepsBegun: 0,
    startedMs: performance.now(),
  };
  const processes = Array.from({ length: options.processCount }, (_, process) => runProcess(run, process));
  // Every process ends before the cluster heals, even when one fails: the first failure is then thrown.
  const failure = (await Promise.allSettled(processes)).find((result) => result.status === "rejected");
  if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  await environment.heal(keys);
  // Observed: a final value may name the dot of a dot request whose outcome was unknown.
  await recordFinals(
    run.sent.observe(environment.transport),
    keys,
    recorder,
    row.level.startsWith("causal-") && row.level !== "causal-multi-key-lww",
  );
  const events = withVersionsLearnt(run, recorder.events());
  const verdict = checkHistory(events, {
    level: row.level,
    seed: options.seed,
    allowLostWrites: options.allowLostWrites,
  });
  return { verdict, events };
}

interface Run {
  readonly options: WorkloadOptions;
  readonly sent: SentVersions;
  stepsBegun: number;
  /** When the rounds count from. */
  readonly startedMs: number;
}

interface PlannedStep {
  readonly ops: readonly Op[];
  readonly abort: boolean;
}

function takeStep(run: Run): boolean {
  const { transactionsMax, deadlineMs } = run.options;
  if (run.stepsBegun >= transactionsMax || (deadlineMs !== undefined && performance.now() >= deadlineMs)) return false;
  run.stepsBegun++;
  return true;
}

async function runProcess(run: Run, process: number): Promise<void> {
  const { row, environment, seed, rounds } = run.options;
  const random = new Random((seed ^ Math.imul(process + 1, 0x9e3779b1)) >>> 0);
  const context = environment.sessionContext(process);
  const session = row.open(
    { ...context, transport: run.sent.observe(context.transport) },
    random,
    environment.rowEnvironment,
  );
  let round = 0;
  let stepsThisRound = 0;
  try {
    for (let txnNumber = 1; takeStep(run); txnNumber++) {
      await runStep(run, session, process, txnNumber, planStep(run, random, process, txnNumber));
      if (rounds === undefined || ++stepsThisRound < rounds.stepsPerSession) continue;
      // A session slower than a round starts the next one at once.
      round = Math.max(round + 1, Math.floor((performance.now() - run.startedMs) / rounds.periodMs));
      const waitMs = run.startedMs + round * rounds.periodMs - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      stepsThisRound = 0;
    }
  } finally {
    environment.finished(process);
  }
}

function planStep(run: Run, random: Random, process: number, txnNumber: number): PlannedStep {
  const { row, keys } = run.options;
  const transaction = row.shape === "transaction";
  const count = transaction ? 1 + random.int(OPS_PER_TRANSACTION_MAX) : 1;
  let writeNumber = 0;
  const ops = Array.from({ length: count }, (): Op => {
    const key = random.pick(keys);
    if (!random.chance(WRITE_SHARE)) return ["r", key, null];
    return ["w", key, writtenValue(process, txnNumber, writeNumber++)];
  });
  return { ops, abort: transaction && random.chance(ABORT_SHARE) };
}

/** One step, recorded: invoke, each op (the simulator may switch processes between them), then commit or abort. */
async function runStep(
  run: Run,
  session: LevelSession,
  process: number,
  txnNumber: number,
  plan: PlannedStep,
): Promise<void> {
  const { row, environment, recorder } = run.options;
  const name = transactionName(process, txnNumber);
  await environment.turn(process);
  recorder.invoke(process, name, row.level, plan.ops);
  const step = session.begin();
  const done: Op[] = [];
  try {
    for (const [index, op] of plan.ops.entries()) {
      if (index > 0) await environment.turn(process);
      done.push(op[0] === "r" ? ["r", op[1], await step.read(op[1])] : op);
      if (op[0] === "w") await step.write(op[1], op[2] as string);
    }
    if (row.shape === "transaction") await environment.turn(process);
    if (plan.abort) {
      await step.abort();
      recordUnfinished(run, process, name, "ABORTED", done);
      return;
    }
    await step.commit();
    recorder.ok(process, name, done, versionsOf(run.sent, done, true));
  } catch (error) {
    await recordFailure(run, step, process, name, done, error);
  }
}

/** What the level's API says became of a step that threw; anything but a step failure or a commit verdict is a bug, and is thrown. */
async function recordFailure(
  run: Run,
  step: StepHandle,
  process: number,
  name: string,
  done: readonly Op[],
  error: unknown,
): Promise<void> {
  const { row, recorder } = run.options;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "COMMIT_FAILED") {
    recorder.fail(process, name, code);
  } else if (code === "COMMIT_UNKNOWN") {
    recorder.info(process, name, code, unknownVersionsOf(run, done), done);
  } else if (typeof code === "string" && STEP_FAILURES.has(code)) {
    // A read or write failed before the commit: the step ends there, as an abort would.
    await step.abort();
    recordUnfinished(run, process, name, code, done);
  } else {
    throw new Error(`${row.name}, seed ${run.options.seed}: ${name} failed unexpectedly: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * A step that ends without a commit. Where the level takes back what an abort leaves
 * (buffered writes), nothing happened: fail. Where writes already sent stay (read
 * uncommitted, a session's put), they may have happened: info.
 */
function recordUnfinished(run: Run, process: number, name: string, error: string, done: readonly Op[]): void {
  const { row, recorder } = run.options;
  if (row.abortKeepsWrites && done.some(([kind]) => kind === "w")) {
    recorder.info(process, name, error, unknownVersionsOf(run, done), done);
  } else {
    recorder.fail(process, name, error);
  }
}

/** The versions an `info` step records: those sent, unless the level may send its writes again under new ones. */
function unknownVersionsOf(run: Run, done: readonly Op[]): WriteVersions {
  return run.options.row.unknownWritesRestamped === true ? {} : versionsOf(run.sent, done, false);
}

/**
 * `events` with each `info` step's versions as known now: a dot request's version (its
 * context and the dot a replica named) is known only once a replica names the dot, which
 * for a request of unknown outcome happens in a later read, if ever. Learnt late, it is
 * still the version the write left with.
 */
function withVersionsLearnt(run: Run, events: readonly HistoryEvent[]): readonly HistoryEvent[] {
  if (run.options.row.unknownWritesRestamped === true) return events;
  const invokedOps = new Map<string, readonly Op[]>();
  return events.map((event) => {
    if (event.type === "invoke") invokedOps.set(event.txn, event.ops);
    if (event.type !== "info") return event;
    const versions = versionsOf(run.sent, event.ops ?? invokedOps.get(event.txn) ?? [], false);
    return { ...event, ...versions };
  });
}

/** The version of each key's last write among `ops`, as sent; `required` (an ok step): every one was sent. */
function versionsOf(sent: SentVersions, ops: readonly Op[], required: boolean): WriteVersions {
  const lastWrites = new Map<string, string>();
  for (const [kind, key, value] of ops) if (kind === "w") lastWrites.set(key, value);
  const stamps: Record<string, Stamp> = {};
  const clocks: Record<string, VectorClock> = {};
  for (const [key, value] of lastWrites) {
    const version = sent.versionOf(value);
    if (version === undefined) {
      if (required) throw new Error(`invariant: committed write ${value} of ${key} was never sent`);
    } else if ("stamp" in version) stamps[key] = version.stamp;
    else clocks[key] = version.clock;
  }
  return {
    ...(Object.keys(stamps).length === 0 ? {} : { stamps }),
    ...(Object.keys(clocks).length === 0 ? {} : { clocks }),
  };
}

/** Every replica's value of every key, one request per replica; `causal`: the keys hold causal values. */
async function recordFinals(
  transport: KeyTransport,
  keys: readonly string[],
  recorder: HistoryRecorder,
  causal: boolean,
): Promise<void> {
  const keysByReplica = new Map<string, string[]>();
  for (const key of keys) {
    for (const replica of await transport.replicasOf(key)) {
      const replicaKeys = keysByReplica.get(replica);
      if (replicaKeys === undefined) keysByReplica.set(replica, [key]);
      else replicaKeys.push(key);
    }
  }
  for (const [replica, replicaKeys] of keysByReplica) {
    const values = await transport.getFromReplica(replica, replicaKeys);
    for (const key of replicaKeys) recorder.final(key, replica, finalPayload(key, values.get(key), causal));
  }
}
