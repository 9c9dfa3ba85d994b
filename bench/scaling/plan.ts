/**
 * What one invocation of the scaling benchmark runs: options and their profiles, the
 * worker groups in order (one per system and thread count, each serving several runs on
 * one preload), and a time model for the ETA and the deadline.
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { QUICK_RESULTS_DIR, RESULTS_DIR } from "../report";
import { Workload, WORKLOADS } from "./requests";
import { isShared, placementFor, SYSTEMS, SystemSpec } from "./systems";

export type ProfileName = "full" | "quick" | "device";

export interface Options {
  profile: ProfileName;
  /** Names the output files: scaling-<machine>.json and .svg. */
  machine: string;
  outDir: string;
  threadCounts: number[];
  workloads: Workload[];
  /** Skews of the update-only workload. */
  zipfs: number[];
  /** Skews and thread counts of the 50/50 get/put mix. */
  mixZipfs: number[];
  mixThreadCounts: number[];
  seconds: number;
  /** Timed runs per case; the record is the median run, with every run's opsPerSec beside it. */
  repeats: number;
  /**
   * Times the whole plan this many times over, fresh workers each round, and keeps each
   * case's median round: a comparison of systems then spans the machine's drift between
   * minutes instead of putting one system in a fast minute and another in a slow one.
   */
  rounds: number;
  keyCount: number;
  /** Requests in each global stream (every worker keeps its routed part). */
  draws: number;
  /** Seconds after start past which no run starts; runs that would not fit are skipped, low priority first. */
  deadlineSeconds: number;
  /** Print the plan and its ETA, run nothing. */
  dryRun: boolean;
  /** The systems to run (names from systems.ts), in SYSTEMS order. */
  systems: SystemSpec[];
}

export interface RunCase {
  workload: Workload;
  zipf: number;
  /** 1: update-only at the low and high contention skews; 2: the other skews; 3: the mix. */
  priority: number;
}

export interface Group {
  system: SystemSpec;
  threads: number;
  cases: RunCase[];
  /** 1..options.rounds. */
  round: number;
}

/** Update-only at these skews comes first (the paper's low and high contention). */
const PRIORITY_ZIPFS = [0.5, 4];
const DRAWS_PER_KEY = 4;

interface Profile {
  threadCounts: number[];
  zipfs: number[];
  mixZipfs: number[];
  /** Undefined: the same as threadCounts. */
  mixThreadCounts?: number[];
  seconds: number;
  keyCount: number;
  deadlineSeconds: number;
}

/**
 * device: a 16-core machine, one command of about 7 minutes in all. Every system at every
 * thread count and every skew, one second a run, the mix at 16 threads only; see
 * README.md for the time estimate behind it.
 */
const PROFILES: Record<ProfileName, Profile> = {
  full: {
    threadCounts: defaultThreadCounts(),
    zipfs: [0, 0.5, 1, 2, 4],
    mixZipfs: [0.5, 4],
    seconds: 5,
    keyCount: 1_000_000,
    deadlineSeconds: Infinity,
  },
  quick: {
    threadCounts: defaultThreadCounts(),
    zipfs: [0.5, 4],
    mixZipfs: [0.5, 4],
    seconds: 1,
    keyCount: 100_000,
    deadlineSeconds: Infinity,
  },
  device: {
    threadCounts: [1, 2, 4, 8, 16],
    zipfs: [0, 0.5, 1, 2, 4],
    mixZipfs: [0.5, 4],
    mixThreadCounts: [16],
    seconds: 1,
    keyCount: 1_000_000,
    deadlineSeconds: 370,
  },
};

export const USAGE = `node -r ./bench/register.js bench/scaling/main.ts [--profile full|quick|device] [--quick]
  [--machine NAME] [--out-dir DIR] [--threads 1,2] [--workload update,mix] [--zipf 0,0.5,1,2,4]
  [--mix-zipf 0.5,4] [--mix-threads 16] [--seconds N] [--repeats N] [--rounds N] [--keys N] [--draws N] [--deadline-s N] [--systems a,b] [--dry-run]`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: "string" },
      quick: { type: "boolean", default: false },
      machine: { type: "string" },
      "out-dir": { type: "string" },
      threads: { type: "string" },
      workload: { type: "string", default: WORKLOADS.join(",") },
      zipf: { type: "string" },
      "mix-zipf": { type: "string" },
      "mix-threads": { type: "string" },
      seconds: { type: "string" },
      repeats: { type: "string" },
      rounds: { type: "string" },
      keys: { type: "string" },
      draws: { type: "string" },
      "deadline-s": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      systems: { type: "string" },
    },
  });
  const profileName = (values.quick ? "quick" : (values.profile ?? "full")) as ProfileName;
  const profile = PROFILES[profileName];
  if (profile === undefined) throw new RangeError(`--profile must be one of ${Object.keys(PROFILES).join(", ")}`);
  const numbers = (text: string | undefined, fallback: number[]) =>
    text === undefined ? fallback : text.split(",").map(Number);
  const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
  const threadCounts = numbers(values.threads, profile.threadCounts);
  const keyCount = number(values.keys, profile.keyCount);
  const options: Options = {
    profile: profileName,
    machine: values.machine ?? `${os.availableParallelism()}core`,
    outDir: path.resolve(values["out-dir"] ?? (profileName === "quick" ? QUICK_RESULTS_DIR : RESULTS_DIR)),
    threadCounts,
    workloads: values.workload!.split(",") as Workload[],
    zipfs: numbers(values.zipf, profile.zipfs),
    mixZipfs: numbers(values["mix-zipf"], profile.mixZipfs),
    mixThreadCounts: numbers(
      values["mix-threads"],
      values.threads === undefined ? (profile.mixThreadCounts ?? threadCounts) : threadCounts,
    ),
    seconds: number(values.seconds, profile.seconds),
    repeats: number(values.repeats, 1),
    rounds: number(values.rounds, 1),
    keyCount,
    draws: number(values.draws, DRAWS_PER_KEY * keyCount),
    deadlineSeconds: number(values["deadline-s"], profile.deadlineSeconds),
    dryRun: values["dry-run"]!,
    systems:
      values.systems === undefined
        ? [...SYSTEMS]
        : SYSTEMS.filter((system) => values.systems!.split(",").includes(system.name)),
  };
  const unknown = (values.systems?.split(",") ?? []).filter((name) => !SYSTEMS.some((system) => system.name === name));
  if (unknown.length > 0)
    throw new RangeError(
      `--systems: unknown ${unknown.join(", ")}; known: ${SYSTEMS.map((system) => system.name).join(", ")}`,
    );
  validate(options);
  return options;
}

function validate(options: Options): void {
  const positiveIntegers = (list: number[]) => list.length > 0 && list.every((n) => Number.isInteger(n) && n >= 1);
  if (!positiveIntegers(options.threadCounts) || !positiveIntegers(options.mixThreadCounts))
    throw new RangeError("--threads and --mix-threads take positive integers");
  if (!options.workloads.every((workload) => WORKLOADS.includes(workload)))
    throw new RangeError(`--workload takes ${WORKLOADS.join(", ")}`);
  if (![...options.zipfs, ...options.mixZipfs].every((s) => s >= 0))
    throw new RangeError("--zipf and --mix-zipf take skews >= 0");
  if (!(options.seconds > 0)) throw new RangeError("--seconds must be positive");
  if (!Number.isInteger(options.repeats) || options.repeats < 1 || options.repeats > 100)
    throw new RangeError("--repeats must be 1..100");
  if (!Number.isInteger(options.rounds) || options.rounds < 1 || options.rounds > 20)
    throw new RangeError("--rounds must be 1..20");
  if (!Number.isInteger(options.keyCount) || options.keyCount < 1 || options.keyCount > 10_000_000)
    throw new RangeError("--keys must be 1..10M");
  if (!Number.isInteger(options.draws) || options.draws < 1 || options.draws > 100_000_000)
    throw new RangeError("--draws must be 1..100M");
  if (!(options.deadlineSeconds > 0)) throw new RangeError("--deadline-s must be positive");
  if (!/^[A-Za-z0-9._-]+$/.test(options.machine))
    throw new RangeError("--machine takes letters, digits, '.', '_' and '-'");
}

/** 1, 2, 4, ... up to the core count, and the core count itself. */
function defaultThreadCounts(): number[] {
  const cores = os.availableParallelism();
  const counts: number[] = [];
  for (let n = 1; n <= cores; n *= 2) counts.push(n);
  if (counts[counts.length - 1] !== cores) counts.push(cores);
  return counts;
}

/** Round by round; in a round system-major, thread counts ascending; each group's cases by priority. */
export function planGroups(options: Options): Group[] {
  const round = planRound(options);
  const groups: Group[] = [];
  for (let number = 1; number <= options.rounds; number++)
    groups.push(...round.map((group) => ({ ...group, round: number })));
  return groups;
}

function planRound(options: Options): Omit<Group, "round">[] {
  const groups: Omit<Group, "round">[] = [];
  const threadCounts = [
    ...new Set([...options.threadCounts, ...(options.workloads.includes("mix") ? options.mixThreadCounts : [])]),
  ].sort((a, b) => a - b);
  for (const system of options.systems) {
    for (const threads of threadCounts) {
      const cases: RunCase[] = [];
      if (options.workloads.includes("update") && options.threadCounts.includes(threads)) {
        for (const zipf of options.zipfs)
          cases.push({ workload: "update", zipf, priority: PRIORITY_ZIPFS.includes(zipf) ? 1 : 2 });
      }
      if (options.workloads.includes("mix") && options.mixThreadCounts.includes(threads)) {
        for (const zipf of options.mixZipfs) cases.push({ workload: "mix", zipf, priority: 3 });
      }
      cases.sort((a, b) => a.priority - b.priority);
      if (cases.length > 0) groups.push({ system, threads, cases });
    }
  }
  return groups;
}

/**
 * Time model, measured on the 2-core machine (bench/scaling/README.md): a worker's setup
 * is a fixed start (loading the modules: ~1 s when register.js transpiles them, ~0.1 s
 * compiled) plus hashing every key for the replica table plus preloading the keys it
 * holds (the TS engine is ~4x slower to preload); a run costs its seconds plus a fixed
 * overhead (routing the stream, the gossip flush, messages).
 */
const WORKER_START_SECONDS = __filename.endsWith(".ts") ? 1 : 0.2;
const REPLICA_TABLE_SECONDS_PER_KEY = 0.7e-6;
const PRELOAD_SECONDS_PER_KEY = { wasm: 2.5e-6, ts: 9e-6 };
/** Preloads on every core at once run this much slower (memory bandwidth, GC helper threads). */
const PRELOAD_CONTENTION = 1.5;
const RUN_OVERHEAD_SECONDS = 0.3;
const STREAM_SECONDS_PER_DRAW = 0.28e-6;

export function groupSetupSeconds(group: Group, keyCount: number): number {
  if (isShared(group.system.kind)) return WORKER_START_SECONDS;
  // Every worker hashes every key unless all hold all; selective placements hold about as
  // much as partitioned ones.
  const everyKeyEverywhere = placementFor(group.system.kind, group.threads).fullyReplicated;
  const table = everyKeyEverywhere ? 0 : REPLICA_TABLE_SECONDS_PER_KEY * keyCount;
  const keysPerWorker = everyKeyEverywhere ? keyCount : keyCount / group.threads;
  const contention = group.threads > 1 ? PRELOAD_CONTENTION : 1;
  return WORKER_START_SECONDS + table + PRELOAD_SECONDS_PER_KEY[group.system.engine] * contention * keysPerWorker;
}

export function runSeconds(options: Options): number {
  return options.repeats * (options.seconds + RUN_OVERHEAD_SECONDS);
}

export function streamSeconds(options: Options, streamCount: number): number {
  return STREAM_SECONDS_PER_DRAW * options.draws * streamCount;
}

/** Seconds the groups would take from here, counting only cases of priority <= maxPriority. */
export function remainingSeconds(groups: readonly Group[], options: Options, maxPriority: number): number {
  let seconds = 0;
  for (const group of groups) {
    const runs = group.cases.filter((one) => one.priority <= maxPriority).length;
    if (runs > 0) seconds += groupSetupSeconds(group, options.keyCount) + runs * runSeconds(options);
  }
  return seconds;
}
