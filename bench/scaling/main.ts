/**
 * Single-node scaling (Anna, ICDE 2018, Figs. 4-5): 1 KiB LWW updates (and a 50/50
 * get/put mix) on 1..N worker threads, for shared-memory tables (striped locks, or none)
 * against annakv's share-nothing actors (partitioned, or every key on every thread with
 * gossip). Every system serves the same routed request stream; see README.md.
 *
 *   node -r ./bench/register.js bench/scaling/main.ts [--profile full|quick|device] [--machine NAME] [--out-dir DIR] ...
 *
 * Writes <out-dir>/scaling-<machine>.json and .svg, after every worker group, so a run
 * cut short still leaves what it measured.
 */
import path from "node:path";
import { MessageChannel, MessagePort, Worker } from "node:worker_threads";
import { loadWasmModule } from "../../src/core/wasm-store";
import { machineInfo, writeResults } from "../report";
import { KeySpace } from "../workload";
import {
  Group,
  groupSetupSeconds,
  Options,
  parseOptions,
  planGroups,
  remainingSeconds,
  RunCase,
  runSeconds,
  streamSeconds,
  USAGE,
} from "./plan";
import { drawRequestStream, RequestStream } from "./requests";
import { createSharedTable, LOCK_STRIPES, SharedTable, SharedTableLayout } from "./shared-table";
import { addSpeedups, medianRounds, medianRun, RunRecord, scalingCharts, summariseRun } from "./summary";
import { factorsForStream, KeyFactor } from "./selective";
import { isShared, placementFor } from "./systems";
import type { FromWorker, GroupConfig, ToWorker, WorkerResult } from "./worker";

const KEY_BYTES = 8;
const VALUE_BYTES = 1024;
/** The server's defaults (src/node/options.ts, src/node/node.ts). */
const GOSSIP_PERIOD_MS = 100;
const GOSSIP_PAGE_BYTES = 1024 * 1024;
/** As bench/store.ts: 1000 ops a batch. */
const BATCH_OPS = 1000;
/** Wasm memory per store: ~2 KiB a key covers key, 1 KiB payload and table overhead, within wasm32's 4 GiB. */
const STORE_MEMORY_BYTES_PER_KEY = 2048;
const STORE_MEMORY_BYTES_MIN = 256 * 1024 * 1024;
const STORE_MEMORY_BYTES_MAX = 4 * 1024 * 1024 * 1024;
const SEED = 0x5ca1e;

interface Shared {
  options: Options;
  table: SharedTableLayout;
  wasmModule: WebAssembly.Module;
  streams: Map<string, RequestStream>;
  /** The shared table outlives every group: its timestamps only grow. */
  tableTimestampBase: number;
  startedMs: number;
}

interface SkippedRun {
  system: string;
  threads: number;
  workload: string;
  zipf: number;
  round: number;
  reason: string;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedMs = performance.now();
  const groups = planGroups(options);
  const caseKeys = [...new Set(groups.flatMap((group) => group.cases.map(streamKey)))];
  const eta = streamSeconds(options, caseKeys.length) + remainingSeconds(groups, options, Infinity);
  const runCount = groups.reduce((sum, group) => sum + group.cases.length, 0);
  console.log(
    `${options.profile} profile: ${groups.length} worker groups${options.rounds > 1 ? ` in ${options.rounds} rounds` : ""}, ${runCount} runs of ${options.seconds} s, ${options.keyCount.toLocaleString("en-US")} keys; ETA ~${Math.round(eta)} s${Number.isFinite(options.deadlineSeconds) ? `, deadline ${options.deadlineSeconds} s` : ""}`,
  );
  if (options.dryRun) {
    for (const group of groups)
      console.log(
        `  ${roundLabel(group, options)}${group.system.name} x${group.threads}: setup ~${groupSetupSeconds(group, options.keyCount).toFixed(1)} s, ${group.cases.map(streamKey).join(", ")}`,
      );
    return;
  }
  const machine = machineInfo();
  const table = createSharedTable(options.keyCount, VALUE_BYTES);
  preloadTable(table, options.keyCount);
  const streams = new Map<string, RequestStream>();
  for (const key of caseKeys) {
    const [workload, zipf] = key.split(" ");
    streams.set(
      key,
      drawRequestStream(options.keyCount, workload as RequestStream["workload"], Number(zipf), options.draws, SEED),
    );
  }
  console.log(`streams drawn, table preloaded: ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
  const shared: Shared = { options, table, wasmModule: loadWasmModule(), streams, tableTimestampBase: 0, startedMs };
  const runs: RunRecord[] = [];
  const skipped: SkippedRun[] = [];
  for (let index = 0; index < groups.length; index++) {
    await runGroup(shared, groups[index], groups.slice(index + 1), runs, skipped);
    writeAll(options, machine, table, runs, skipped, startedMs, false);
  }
  const paths = writeAll(options, machine, table, runs, skipped, startedMs, true);
  console.log(
    `done in ${((performance.now() - startedMs) / 1000).toFixed(0)} s (${skipped.length} runs skipped); wrote ${paths.join(", ")}`,
  );
}

function roundLabel(group: Group, options: Options): string {
  return options.rounds > 1 ? `round ${group.round}: ` : "";
}

function streamKey(runCase: RunCase): string {
  return `${runCase.workload} ${runCase.zipf}`;
}

function preloadTable(layout: SharedTableLayout, keyCount: number): void {
  const keys = new KeySpace(keyCount, KEY_BYTES);
  const table = new SharedTable(layout);
  for (let index = 0; index < keyCount; index++) table.insert(keys.key(index));
}

/**
 * Starts the group's workers (each preloads its store), then runs its cases in priority
 * order. A case is skipped when it would end past the deadline, or when, with what is
 * left of the higher-priority cases of later groups, it would push those past it.
 */
async function runGroup(
  shared: Shared,
  group: Group,
  later: readonly Group[],
  runs: RunRecord[],
  skipped: SkippedRun[],
): Promise<void> {
  const { options } = shared;
  const elapsed = () => (performance.now() - shared.startedMs) / 1000;
  // Cases are in priority order, so only later groups can hold more urgent ones.
  const fits = (runCase: RunCase, setupSeconds: number) =>
    elapsed() + setupSeconds + runSeconds(options) + remainingSeconds(later, options, runCase.priority - 1) <=
    options.deadlineSeconds;
  const skip = (runCase: RunCase) =>
    skipped.push({
      system: group.system.name,
      threads: group.threads,
      workload: runCase.workload,
      zipf: runCase.zipf,
      round: group.round,
      reason: "deadline",
    });
  if (!group.cases.some((runCase) => fits(runCase, groupSetupSeconds(group, options.keyCount)))) {
    for (const runCase of group.cases) skip(runCase);
    return;
  }
  const rssBefore = process.memoryUsage().rss;
  const workers = await startWorkers(shared, group);
  try {
    let timestampBase = isShared(group.system.kind) ? shared.tableTimestampBase : 0;
    const selective =
      group.system.kind === "annakv-selective"
        ? {
            placement: placementFor(group.system.kind, group.threads),
            keys: new KeySpace(options.keyCount, KEY_BYTES),
            hot: new Set<number>(),
          }
        : undefined;
    for (const runCase of group.cases) {
      if (!fits(runCase, 0)) {
        skip(runCase);
        continue;
      }
      const stream = shared.streams.get(streamKey(runCase))!;
      let factors: KeyFactor[] | undefined;
      if (selective !== undefined) {
        const decided = factorsForStream(stream, selective.keys, selective.placement, selective.hot);
        factors = decided.factors;
        selective.hot = decided.hot;
      }
      const repeated: RunRecord[] = [];
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        // The factors change the placement once; repeats run on the same placement.
        const results = await runOnce(workers, {
          stream,
          seconds: options.seconds,
          timestampBase,
          factors: repeat === 0 ? factors : undefined,
        });
        timestampBase += Math.max(...results.map((r) => r.timestampsUsed));
        const context = {
          system: group.system,
          workload: runCase.workload,
          zipf: runCase.zipf,
          threads: group.threads,
          draws: stream.draws,
          rssDeltaBytes: process.memoryUsage().rss - rssBefore,
        };
        repeated.push(summariseRun(context, results));
      }
      const record = medianRun(repeated);
      runs.push(record);
      console.log(
        `[${elapsed().toFixed(0)} s] ${roundLabel(group, options)}${runCase.workload} zipf ${runCase.zipf} ${group.system.name} x${group.threads}: ${Math.round(record.opsPerSec).toLocaleString("en-US")} ops/s (workers ${Math.round(record.workerOpsPerSec).toLocaleString("en-US")}), busiest serves ${(record.timeSplit.busiestWorker.serve * 100).toFixed(0)}%`,
      );
    }
    if (isShared(group.system.kind)) shared.tableTimestampBase = timestampBase;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

async function startWorkers(shared: Shared, group: Group): Promise<Worker[]> {
  const { options } = shared;
  const started = performance.now();
  const annakv = !isShared(group.system.kind);
  // Every annakv group gets peer channels, whether or not its placement has a key on two workers.
  const peerPorts = annakv && group.threads > 1 ? channels(group.threads) : undefined;
  const workers: Worker[] = [];
  const ready: Promise<FromWorker>[] = [];
  for (let tid = 0; tid < group.threads; tid++) {
    const ports = peerPorts?.[tid];
    const config: GroupConfig = {
      system: group.system.kind,
      engine: group.system.engine,
      feed: group.system.feed,
      tid,
      threadCount: group.threads,
      keyCount: options.keyCount,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      seed: SEED,
      gossipPeriodMs: GOSSIP_PERIOD_MS,
      gossipPageBytes: GOSSIP_PAGE_BYTES,
      batchOps: BATCH_OPS,
      maxMemoryBytes: storeMemoryBytes(options.keyCount),
      table: annakv ? undefined : shared.table,
      wasmModule: annakv && group.system.engine === "wasm" ? shared.wasmModule : undefined,
      peerPorts: ports,
    };
    const transfer = (ports ?? []).filter((port): port is MessagePort => port !== undefined);
    const worker = new Worker(path.join(__dirname, "worker.js"), { workerData: config, transferList: transfer });
    workers.push(worker);
    ready.push(nextMessage(worker));
  }
  try {
    const messages = await Promise.all(ready);
    const slowest = Math.max(...messages.map((message) => (message.type === "ready" ? message.setupMs : 0)));
    console.log(
      `${group.system.name} x${group.threads}: workers ready in ${((performance.now() - started) / 1000).toFixed(1)} s (slowest setup ${(slowest / 1000).toFixed(1)} s)`,
    );
    return workers;
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }
}

/** Prepares every worker (routing, leftover gossip), then starts them together. */
async function runOnce(
  workers: readonly Worker[],
  run: { stream: RequestStream; seconds: number; timestampBase: number; factors?: KeyFactor[] },
): Promise<WorkerResult[]> {
  await Promise.all(workers.map((worker) => request(worker, { type: "prepare", run })));
  const results = await Promise.all(workers.map((worker) => request(worker, { type: "go" })));
  return results.map((message) => {
    if (message.type !== "result") throw new Error(`worker answered ${message.type} to go`);
    return message.result;
  });
}

function request(worker: Worker, message: ToWorker): Promise<FromWorker> {
  const answer = nextMessage(worker);
  worker.postMessage(message);
  return answer;
}

/** ports[i][j]: worker i's end of its channel to worker j. */
function channels(threads: number): (MessagePort | undefined)[][] {
  const ports: (MessagePort | undefined)[][] = Array.from({ length: threads }, () =>
    new Array(threads).fill(undefined),
  );
  for (let i = 0; i < threads; i++) {
    for (let j = i + 1; j < threads; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i][j] = port1;
      ports[j][i] = port2;
    }
  }
  return ports;
}

function nextMessage(worker: Worker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    const onExit = (code: number) => reject(new Error(`worker exited with code ${code}`));
    worker.once("error", onError);
    worker.once("exit", onExit);
    worker.once("message", (message: FromWorker) => {
      worker.off("error", onError);
      worker.off("exit", onExit);
      resolve(message);
    });
  });
}

function storeMemoryBytes(keyCount: number): number {
  return Math.min(STORE_MEMORY_BYTES_MAX, Math.max(STORE_MEMORY_BYTES_MIN, keyCount * STORE_MEMORY_BYTES_PER_KEY));
}

function writeAll(
  options: Options,
  machine: ReturnType<typeof machineInfo>,
  table: SharedTableLayout,
  roundRuns: RunRecord[],
  skipped: SkippedRun[],
  startedMs: number,
  complete: boolean,
): string[] {
  const runs = medianRounds(roundRuns);
  addSpeedups(runs);
  const result = {
    benchmark: "scaling",
    complete,
    elapsedSeconds: Math.round((performance.now() - startedMs) / 1000),
    machine: { name: options.machine, ...machine },
    options: {
      ...options,
      systems: options.systems.map((system) => system.name),
      outDir: undefined,
      dryRun: undefined,
      deadlineSeconds: Number.isFinite(options.deadlineSeconds) ? options.deadlineSeconds : null,
    },
    workload: {
      keyCount: options.keyCount,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      requests:
        "update: LWW PUTs only; mix: 50/50 GET/PUT (a GET of a present key is one op). One global stream per workload and skew (Zipf over key ranks, seeded), drawn before timing",
      routing:
        "every request goes to one replica of its key, chosen uniformly at random (seeded, the same on every worker) from the system's placement; shared tables: every thread is a replica of every key; each worker replays the requests routed to it",
      throughput:
        "opsPerSec = min over workers of workerOpsPerSec_i / share_i (share_i = kept_i / draws): the rate of the routed stream the most loaded worker sustains; workerOpsPerSec = sum of the workers' own rates",
      gossip:
        "annakv: the server's sendDirtyKeys/handleGossipFrames every gossipPeriodMs, over MessageChannel ports (the server uses ZeroMQ over loopback TCP); flushed untimed after each run",
      draws: options.draws,
      secondsPerRun: options.seconds,
      gossipPeriodMs: GOSSIP_PERIOD_MS,
      batchOps: BATCH_OPS,
      sharedTable: { slotCount: table.slotCount, lockStripes: LOCK_STRIPES },
      seed: SEED,
    },
    runs,
    skipped,
  };
  return writeResults(
    options.outDir,
    `scaling-${options.machine}`,
    result,
    scalingCharts(runs, options.systems, options.keyCount),
  );
}

if (process.argv.includes("--help")) console.log(USAGE);
// No process.exit on success: every worker is terminated, so the process ending by itself shows nothing leaks.
else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
