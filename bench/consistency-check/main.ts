/**
 * The long form of the consistency proof (docs/consistency.md §5): every built level and
 * every deliberately broken variant (test/support/consistency-broken.ts), each for the
 * given duration on three real nodes under the cycling nemesis of
 * test/support/level-workload-cluster.ts (records, then all gossip, between nodes dropped, a node stopped for
 * 1 s, every 5 s). A variant that swaps a piece of the replicas themselves runs in the
 * simulator instead: real nodes merge with the store's own lattice. The built levels run
 * with session clocks up to 2 s apart. A run takes at most 2 000 transactions, so that each
 * history file stays small enough to commit, in rounds of 0.5 s spread over its duration.
 *
 *   npm run test:consistency -- [--levels all|NAME,NAME...] [--duration-s N] [--seed N] [--out DIR] [--port-offset N]
 *
 * Writes DIR/<name>.history.jsonl per run (a variant's `/` becomes `.`) and DIR/verdicts.json.
 * DIR defaults to bench/results/tmp/consistency-check, which git ignores; the record to
 * commit is written with `--out bench/results/consistency-check`. Exits 1 when a built level's
 * history holds an anomaly it forbids, or a broken variant's lacks one it must show.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { BROKEN_VARIANTS, type BrokenVariant } from "../../test/support/consistency-broken";
import type { AnomalyClass } from "../../test/support/history/anomalies";
import { encodeEvent } from "../../test/support/history/event-codec";
import { classesFound, forbiddenFound } from "../../test/support/history/hand-history";
import type { Verdict } from "../../test/support/history/verdict";
import { SKEWED_CLOCKS_MICROS, type WorkloadResult } from "../../test/support/level-workload";
import {
  CLUSTER_PROCESS_COUNT,
  runOnCluster,
  startConsistencyCluster,
  type ConsistencyCluster,
} from "../../test/support/level-workload-cluster";
import { LEVEL_ROWS, type LevelRow } from "../../test/support/level-workload-levels";
import { runOnSim } from "../../test/support/level-workload-sim";
import { ALL_FAULTS } from "../../test/support/sim-cluster";
import { positiveInteger } from "../options";
import { machineInfo, QUICK_RESULTS_DIR } from "../report";

const DEFAULTS = {
  durationS: 60,
  seed: 1,
  // Clear of the other benchmarks' offsets (bench:fuzz 14400, bench:soak 14700) and the tests' (15300 up).
  portOffset: 15_000,
};
/** Per run: what keeps a history file small enough to commit. */
const TRANSACTIONS_MAX = 2000;
/**
 * The sessions run in rounds this long, all starting together, each taking its share of the
 * transactions: they overlap as much as unpaced ones, and every fault window holds rounds.
 */
const ROUND_MS = 500;

/** One run of the long form: a built level (must hold) or a broken variant (must be caught). */
interface Subject {
  readonly row: LevelRow;
  readonly variant?: BrokenVariant;
}

interface Options {
  readonly subjects: readonly Subject[];
  readonly durationMs: number;
  readonly seed: number;
  readonly portOffset: number;
  readonly outDir: string;
}

interface RunReport {
  readonly name: string;
  readonly level: string;
  readonly environment: "cluster" | "simulator";
  /** A broken variant's piece swapped, in words. */
  readonly swapped?: string;
  /** "valid" for a built level; the classes a broken variant must show. */
  readonly expected: "valid" | readonly AnomalyClass[];
  /** Every class found, with its count. */
  readonly found: Readonly<Partial<Record<AnomalyClass, number>>>;
  readonly passed: boolean;
  readonly history: string;
  readonly verdict: Verdict;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["levels", "duration-s", "seed", "out", "port-offset"].map((name) => [name, { type: "string" as const }]),
    ),
  });
  const all: Subject[] = [
    ...LEVEL_ROWS.map((row) => ({ row })),
    ...BROKEN_VARIANTS.map((variant) => ({ row: variant.row, variant })),
  ];
  const names = values.levels === undefined || values.levels === "all" ? undefined : values.levels.split(",");
  const unknown = names?.filter((name) => !all.some((subject) => subject.row.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new RangeError(
      `--levels: unknown ${unknown.join(", ")}; choose "all" or from ${all.map((s) => s.row.name).join(", ")}`,
    );
  }
  return {
    subjects: names === undefined ? all : all.filter((subject) => names.includes(subject.row.name)),
    durationMs: 1000 * positiveInteger(values["duration-s"], DEFAULTS.durationS, "--duration-s"),
    seed: positiveInteger(values.seed, DEFAULTS.seed, "--seed"),
    portOffset: positiveInteger(values["port-offset"], DEFAULTS.portOffset, "--port-offset"),
    outDir: path.resolve(values.out ?? path.join(QUICK_RESULTS_DIR, "consistency-check")),
  };
}

async function runSubject(cluster: ConsistencyCluster, subject: Subject, options: Options): Promise<WorkloadResult> {
  const { row, variant } = subject;
  if (variant?.adaptSimCluster !== undefined) {
    return runOnSim(row, {
      seed: options.seed,
      transactions: TRANSACTIONS_MAX,
      faults: variant.simFaults ?? ALL_FAULTS,
      clockSkewsMicros: variant.clockSkewsMicros,
      keyCount: variant.keyCount,
      adaptCluster: variant.adaptSimCluster,
    });
  }
  return runOnCluster(cluster, row, {
    seed: options.seed,
    durationMs: options.durationMs,
    transactionsMax: TRANSACTIONS_MAX,
    rounds: {
      periodMs: ROUND_MS,
      stepsPerSession: Math.ceil(TRANSACTIONS_MAX / (CLUSTER_PROCESS_COUNT * (options.durationMs / ROUND_MS))),
    },
    clockSkewsMicros: variant?.clockSkewsMicros ?? SKEWED_CLOCKS_MICROS,
    keyPrefix: `${row.name}.${options.seed}.`,
    keyCount: variant?.keyCount,
  });
}

function report(subject: Subject, result: WorkloadResult, historyPath: string): RunReport {
  const { row, variant } = subject;
  const { verdict } = result;
  const forbidden = forbiddenFound(verdict);
  const expected = variant === undefined ? ("valid" as const) : variant.mustFind;
  return {
    name: row.name,
    level: row.level,
    environment: variant?.adaptSimCluster !== undefined ? "simulator" : "cluster",
    ...(variant === undefined ? {} : { swapped: variant.swapped }),
    expected,
    found: Object.fromEntries(classesFound(verdict).map((name) => [name, verdict.anomalies[name].count])),
    passed: expected === "valid" ? verdict.valid : expected.every((name) => forbidden.includes(name)),
    history: path.basename(historyPath),
    verdict,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  mkdirSync(options.outDir, { recursive: true });
  const cluster = await startConsistencyCluster(options.portOffset);
  const reports: RunReport[] = [];
  try {
    for (const subject of options.subjects) {
      const result = await runSubject(cluster, subject, options);
      const historyPath = path.join(options.outDir, `${subject.row.name.replaceAll("/", ".")}.history.jsonl`);
      writeFileSync(historyPath, result.events.map((event) => encodeEvent(event) + "\n").join(""));
      const run = report(subject, result, historyPath);
      reports.push(run);
      const { ok, fail, info } = run.verdict.counts;
      console.log(
        `${run.passed ? "pass" : "FAIL"} ${run.name} (${run.environment}): ok ${ok}, fail ${fail}, info ${info}; ` +
          `expected ${JSON.stringify(run.expected)}, found ${JSON.stringify(run.found)}`,
      );
    }
  } finally {
    await cluster.stop();
  }
  const verdictsPath = path.join(options.outDir, "verdicts.json");
  const summary = {
    machine: machineInfo(),
    seed: options.seed,
    durationS: options.durationMs / 1000,
    transactionsMax: TRANSACTIONS_MAX,
    passed: reports.every((run) => run.passed),
    runs: reports,
  };
  writeFileSync(verdictsPath, JSON.stringify(summary, null, 2) + "\n");
  console.log(`wrote ${verdictsPath}`);
  if (!summary.passed) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
