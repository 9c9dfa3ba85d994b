/**
 * From what the workers of one run counted to the run's record, and from all records to
 * the charts. One rule for every system: each request of the global stream is routed to
 * one replica of its key, so worker i serves share_i of the stream, and the system
 * sustains the stream at min_i(rate_i / share_i), the rate at which its most loaded
 * worker (relative to its share) keeps up.
 */
import type { Chart } from "../chart";
import { round } from "../report";
import type { Workload } from "./requests";
import type { SystemSpec } from "./systems";
import type { WorkerResult } from "./worker";

export interface TimeSplit {
  /** Fractions of the worker's time in the run; they sum to 1. */
  serve: number;
  merge: number;
  gossip: number;
  idle: number;
}

export type WorkerSummary = Pick<
  WorkerResult,
  | "tid"
  | "kept"
  | "serveMs"
  | "mergeMs"
  | "gossipMs"
  | "idleMs"
  | "gossipKeysSent"
  | "gossipKeysReceived"
  | "opErrors"
  | "storeKeyCount"
> & {
  /** kept / draws: this worker's part of the routed stream. */
  share: number;
  /** Ops/s the worker served on its own requests. */
  opsPerSec: number;
};

export interface RunRecord {
  system: string;
  kind: string;
  engine?: string;
  /** annakv: how the worker's requests reached its store (bench/scaling/request-feeds.ts). */
  feed?: string;
  workload: Workload;
  zipf: number;
  threads: number;
  /** The routed stream's rate: min over workers with a share of opsPerSec_i / share_i. */
  opsPerSec: number;
  /** Sum of the workers' own rates (what they did, whether or not the stream could use it). */
  workerOpsPerSec: number;
  /** With --repeats: every run's opsPerSec, in run order (the record is the median run). */
  repeatOpsPerSec?: number[];
  /** With --rounds: every round's opsPerSec, in round order (the record is the median round's). */
  roundOpsPerSec?: number[];
  /** opsPerSec over the same system, workload and skew on one thread. */
  speedup?: number;
  draws: number;
  timeSplit: {
    meanOverWorkers: TimeSplit;
    /** The worker that sets opsPerSec: at that rate it is the one busy all the time. */
    busiestWorker: TimeSplit & { tid: number };
  };
  opErrors: number;
  /** Process RSS now minus before this worker group started (stores, tables excepted). */
  rssDeltaBytes: number;
  storeBytesUsed: number;
  storeMemoryReservedBytes: number;
  workers: WorkerSummary[];
}

export interface RunContext {
  system: SystemSpec;
  workload: Workload;
  zipf: number;
  threads: number;
  draws: number;
  rssDeltaBytes: number;
}

/** The run with the median opsPerSec (the lower middle of an even count), with every run's opsPerSec. */
export function medianRun(repeated: readonly RunRecord[]): RunRecord {
  const median = medianByRate(repeated);
  return repeated.length === 1 ? median : { ...median, repeatOpsPerSec: repeated.map((run) => run.opsPerSec) };
}

/**
 * One record per case from the records of every round so far (in round order): the
 * median round's, with every round's opsPerSec beside it.
 */
export function medianRounds(records: readonly RunRecord[]): RunRecord[] {
  const byCase = new Map<string, RunRecord[]>();
  for (const record of records) {
    const key = `${record.system} ${record.threads} ${record.workload} ${record.zipf}`;
    const rounds = byCase.get(key);
    if (rounds === undefined) byCase.set(key, [record]);
    else rounds.push(record);
  }
  return [...byCase.values()].map((rounds) =>
    rounds.length === 1 ? rounds[0] : { ...medianByRate(rounds), roundOpsPerSec: rounds.map((run) => run.opsPerSec) },
  );
}

/** The record with the median opsPerSec (the lower middle of an even count). */
function medianByRate(records: readonly RunRecord[]): RunRecord {
  if (records.length === 0) throw new Error("no run to take the median of");
  const sorted = [...records].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function summariseRun(context: RunContext, results: readonly WorkerResult[]): RunRecord {
  const sorted = [...results].sort((a, b) => a.tid - b.tid);
  const rates = sorted.map((r) => (r.ops / r.elapsedMs) * 1000);
  let busiest = -1;
  let streamRate = Infinity;
  sorted.forEach((r, i) => {
    if (r.kept === 0) return;
    const rate = rates[i] / (r.kept / context.draws);
    if (rate < streamRate) ((streamRate = rate), (busiest = i));
  });
  if (busiest < 0) throw new Error("no worker was routed any request");
  const splits = sorted.map(timeSplitOf);
  const kept = sorted.reduce((sum, r) => sum + r.kept, 0);
  if (kept !== context.draws)
    throw new Error(`workers kept ${kept} requests of ${context.draws}: routing must keep each exactly once`);
  const { system } = context;
  return {
    system: system.name,
    kind: system.kind,
    engine: system.kind.startsWith("annakv") ? system.engine : undefined,
    feed: system.feed,
    workload: context.workload,
    zipf: context.zipf,
    threads: context.threads,
    opsPerSec: round(streamRate),
    workerOpsPerSec: round(rates.reduce((sum, rate) => sum + rate, 0)),
    draws: context.draws,
    timeSplit: {
      meanOverWorkers: roundSplit(meanSplit(splits)),
      busiestWorker: { tid: sorted[busiest].tid, ...roundSplit(splits[busiest]) },
    },
    opErrors: sorted.reduce((sum, r) => sum + r.opErrors, 0),
    rssDeltaBytes: context.rssDeltaBytes,
    storeBytesUsed: sorted.reduce((sum, r) => sum + r.storeBytesUsed, 0),
    storeMemoryReservedBytes: sorted.reduce((sum, r) => sum + r.storeMemoryReservedBytes, 0),
    workers: sorted.map((r, i) => ({
      tid: r.tid,
      kept: r.kept,
      share: round(r.kept / context.draws),
      opsPerSec: round(rates[i]),
      serveMs: round(r.serveMs),
      mergeMs: round(r.mergeMs),
      gossipMs: round(r.gossipMs),
      idleMs: round(r.idleMs),
      gossipKeysSent: r.gossipKeysSent,
      gossipKeysReceived: r.gossipKeysReceived,
      opErrors: r.opErrors,
      storeKeyCount: r.storeKeyCount,
    })),
  };
}

function timeSplitOf(result: WorkerResult): TimeSplit {
  const total = result.serveMs + result.mergeMs + result.gossipMs + result.idleMs;
  if (!(total > 0)) throw new Error(`worker ${result.tid} accounted no time`);
  return {
    serve: result.serveMs / total,
    merge: result.mergeMs / total,
    gossip: result.gossipMs / total,
    idle: result.idleMs / total,
  };
}

function meanSplit(splits: readonly TimeSplit[]): TimeSplit {
  const mean = (pick: (split: TimeSplit) => number) =>
    splits.reduce((sum, split) => sum + pick(split), 0) / splits.length;
  return {
    serve: mean((s) => s.serve),
    merge: mean((s) => s.merge),
    gossip: mean((s) => s.gossip),
    idle: mean((s) => s.idle),
  };
}

function roundSplit(split: TimeSplit): TimeSplit {
  return { serve: round(split.serve), merge: round(split.merge), gossip: round(split.gossip), idle: round(split.idle) };
}

export function addSpeedups(runs: RunRecord[]): void {
  for (const run of runs) {
    const base = runs.find(
      (other) =>
        other.system === run.system &&
        other.workload === run.workload &&
        other.zipf === run.zipf &&
        other.threads === 1,
    );
    if (base !== undefined && base.opsPerSec > 0) run.speedup = round(run.opsPerSec / base.opsPerSec);
  }
}

const WORKLOAD_TITLES: Record<Workload, string> = { update: "Update-only", mix: "50/50 get/put" };
const SPLIT_PARTS: readonly (keyof TimeSplit)[] = ["serve", "merge", "gossip", "idle"];
const SPLIT_NAMES: Record<keyof TimeSplit, string> = {
  serve: "serve requests",
  merge: "merge gossip",
  gossip: "drain + send gossip",
  idle: "idle",
};

/**
 * Per workload and skew: throughput (bars: systems x thread counts) and speedup over one
 * thread (lines per system). Then per annakv system, the busiest worker's time split at
 * the largest thread count of each case (stacked bars).
 */
export function scalingCharts(runs: readonly RunRecord[], systems: readonly SystemSpec[], keyCount: number): Chart[] {
  const charts: Chart[] = [];
  const cases = distinctCases(runs);
  const shortName = (system: SystemSpec) => system.name.replace("annakv-", "");
  for (const { workload, zipf } of cases) {
    const caseRuns = runs.filter((run) => run.workload === workload && run.zipf === zipf);
    const threadCounts = [...new Set(caseRuns.map((run) => run.threads))].sort((a, b) => a - b);
    const find = (system: SystemSpec, threads: number) =>
      caseRuns.find((run) => run.system === system.name && run.threads === threads);
    charts.push({
      title: `${WORKLOAD_TITLES[workload]} throughput, Zipf ${zipf}, ${keyCount.toLocaleString("en-US")} keys, 1 KiB values`,
      yLabel: "ops/s (routed stream)",
      groups: systems.map(shortName),
      series: threadCounts.map((threads) => ({
        name: `${threads} thread${threads === 1 ? "" : "s"}`,
        values: systems.map((system) => find(system, threads)?.opsPerSec ?? NaN),
      })),
    });
    const speedups = systems.map((system) => ({
      name: shortName(system),
      values: threadCounts.map((threads) => find(system, threads)?.speedup ?? NaN),
    }));
    if (threadCounts.length > 1 && speedups.some((series) => series.values.some(Number.isFinite))) {
      charts.push({
        kind: "line",
        title: `${WORKLOAD_TITLES[workload]} speedup over one thread, Zipf ${zipf}`,
        yLabel: "speedup",
        xLabel: "threads",
        groups: threadCounts.map(String),
        series: speedups,
        reference: { name: "linear", values: threadCounts },
      });
    }
  }
  for (const system of systems.filter((one) => one.kind.startsWith("annakv"))) {
    const largest = cases.map(({ workload, zipf }) => {
      const caseRuns = runs.filter(
        (run) => run.system === system.name && run.workload === workload && run.zipf === zipf,
      );
      return caseRuns.reduce<RunRecord | undefined>(
        (best, run) => (best === undefined || run.threads > best.threads ? run : best),
        undefined,
      );
    });
    if (largest.every((run) => run === undefined)) continue;
    charts.push({
      kind: "stacked",
      title: `${system.name}: busiest worker's time at the largest thread count`,
      yLabel: "fraction of time",
      yMax: 1,
      groups: cases.map(({ workload, zipf }, i) => `${workload} ${zipf} (${largest[i]?.threads ?? "-"}t)`),
      series: SPLIT_PARTS.map((part) => ({
        name: SPLIT_NAMES[part],
        values: largest.map((run) => run?.timeSplit.busiestWorker[part] ?? NaN),
      })),
    });
  }
  return charts;
}

function distinctCases(runs: readonly RunRecord[]): { workload: Workload; zipf: number }[] {
  const seen = new Map<string, { workload: Workload; zipf: number }>();
  for (const run of runs) seen.set(`${run.workload} ${run.zipf}`, { workload: run.workload, zipf: run.zipf });
  const order: Record<Workload, number> = { update: 0, mix: 1 };
  return [...seen.values()].sort((a, b) => order[a.workload] - order[b.workload] || a.zipf - b.zipf);
}
