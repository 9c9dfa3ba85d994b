/**
 * Single-node scaling (Anna, ICDE 2018, Figs. 4-5): update-only 1 KiB LWW writes on 1..N
 * worker threads, for shared-memory tables (striped locks, or none) against annakv's
 * share-nothing actors (partitioned, or every key on every thread with gossip).
 *
 *   node -r ./bench/register.js bench/scaling/main.ts [--quick] [--threads 1,2] [--zipf 0.5,4] [--seconds N] [--keys N]
 *
 * Writes bench/results/scaling-<cores>core.json and .svg (--quick: bench/results/tmp/).
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { MessageChannel, MessagePort, Worker } from "node:worker_threads";
import type { EngineName } from "../../src/core/store";
import { loadWasmModule } from "../../src/core/wasm-store";
import type { BarChart } from "../chart";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "../report";
import { KeySpace } from "../workload";
import { createSharedTable, LOCK_STRIPES, SharedTable, SharedTableLayout } from "./shared-table";
import type { SystemKind, WorkerConfig, WorkerResult } from "./worker";

const KEY_BYTES = 8;
const VALUE_BYTES = 1024;
const KEY_COUNT = 1_000_000;
const QUICK_KEY_COUNT = 100_000;
/** Global Zipf draws per worker, replayed in a loop (a 1M-key uniform run touches most keys). */
const DRAWS = 1_000_000;
const QUICK_DRAWS = 200_000;
const SECONDS = 5;
const QUICK_SECONDS = 1;
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
/** Spaces timestamps between runs (at most ~1e8 updates a run): later runs win on the reused shared table. */
const TIMESTAMP_STEP_PER_RUN = 1e9;

interface SystemSpec {
  name: string;
  kind: SystemKind;
  engine: EngineName;
}

const SYSTEMS: readonly SystemSpec[] = [
  { name: "shared-locked", kind: "shared-locked", engine: "wasm" },
  { name: "shared-hogwild", kind: "shared-hogwild", engine: "wasm" },
  { name: "annakv-partitioned-wasm", kind: "annakv-partitioned", engine: "wasm" },
  { name: "annakv-partitioned-ts", kind: "annakv-partitioned", engine: "ts" },
  { name: "annakv-full-wasm", kind: "annakv-full", engine: "wasm" },
  { name: "annakv-full-ts", kind: "annakv-full", engine: "ts" },
];

interface Options {
  quick: boolean;
  threadCounts: number[];
  zipfs: number[];
  seconds: number;
  keyCount: number;
}

interface RunRecord {
  system: string;
  threads: number;
  zipf: number;
  opsPerSec: number;
  /**
   * Partitioned only: the global request rate the busiest owner could keep up with
   * (min over workers of its ops/s over its share of the stream). Workers here each
   * replay only their own keys' requests, so under skew the sum of their rates
   * overstates what one routed request stream would get.
   */
  routedStreamOpsPerSec?: number;
  speedup?: number;
  rssDeltaBytes: number;
  storeBytesUsed: number;
  storeMemoryReservedBytes: number;
  workers: WorkerSummary[];
}

interface WorkerSummary {
  tid: number;
  opsPerSec: number;
  ownedShare: number;
  serveMs: number;
  mergeGossipMs: number;
  drainSendGossipMs: number;
  gossipKeysSent: number;
  gossipKeysReceived: number;
  opErrors: number;
  storeKeyCount: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      threads: { type: "string" },
      zipf: { type: "string", default: "0.5,4" },
      seconds: { type: "string" },
      keys: { type: "string" },
    },
  });
  const numbers = (text: string) => text.split(",").map(Number);
  const quick = values.quick!;
  const options: Options = {
    quick,
    threadCounts: values.threads === undefined ? defaultThreadCounts() : numbers(values.threads),
    zipfs: numbers(values.zipf!),
    seconds: values.seconds === undefined ? (quick ? QUICK_SECONDS : SECONDS) : Number(values.seconds),
    keyCount: values.keys === undefined ? (quick ? QUICK_KEY_COUNT : KEY_COUNT) : Number(values.keys),
  };
  if (!options.threadCounts.every((n) => Number.isInteger(n) && n >= 1)) throw new RangeError("--threads takes positive integers");
  if (!options.zipfs.every((s) => s >= 0)) throw new RangeError("--zipf takes skews >= 0");
  if (!(options.seconds > 0)) throw new RangeError("--seconds must be positive");
  if (!Number.isInteger(options.keyCount) || options.keyCount < 1 || options.keyCount > 10_000_000) throw new RangeError("--keys must be 1..10M");
  return options;
}

function defaultThreadCounts(): number[] {
  const counts: number[] = [];
  for (let n = 1; n <= os.availableParallelism(); n *= 2) counts.push(n);
  return counts;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = machineInfo();
  const table = createSharedTable(options.keyCount, VALUE_BYTES);
  preloadTable(table, options.keyCount);
  const wasmModule = loadWasmModule();
  const runs: RunRecord[] = [];
  let runIndex = 0;
  for (const zipf of options.zipfs) {
    for (const system of SYSTEMS) {
      for (const threads of options.threadCounts) {
        const record = await runOnce(options, system, threads, zipf, table, wasmModule, runIndex++);
        runs.push(record);
        console.log(`zipf ${zipf} ${system.name} x${threads}: ${Math.round(record.opsPerSec).toLocaleString()} ops/s`);
      }
    }
  }
  addSpeedups(runs);
  const result = {
    benchmark: "scaling",
    machine,
    workload: {
      keyCount: options.keyCount,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      requests: "update-only (LWW PUT), pre-generated per worker before timing",
      routing: "annakv-partitioned: each worker keeps only the drawn requests for keys LocalPlacement(threads, 1) gives it; annakv-full and shared: every drawn request",
      gossip: "annakv: the server's sendDirtyKeys/handleGossipFrames every gossipPeriodMs, over MessageChannel (the server uses ZeroMQ inproc)",
      drawsPerWorker: options.quick ? QUICK_DRAWS : DRAWS,
      secondsPerRun: options.seconds,
      gossipPeriodMs: GOSSIP_PERIOD_MS,
      batchOps: BATCH_OPS,
      sharedTable: { slotCount: table.slotCount, lockStripes: LOCK_STRIPES },
      seed: SEED,
    },
    runs,
  };
  const name = `scaling-${os.cpus().length}core`;
  const paths = writeResults(options.quick ? QUICK_RESULTS_DIR : RESULTS_DIR, name, result, charts(runs, options));
  console.log(`wrote ${paths.join(", ")}`);
}

function preloadTable(layout: SharedTableLayout, keyCount: number): void {
  const keys = new KeySpace(keyCount, KEY_BYTES);
  const table = new SharedTable(layout);
  for (let index = 0; index < keyCount; index++) table.insert(keys.key(index));
}

async function runOnce(options: Options, system: SystemSpec, threads: number, zipf: number, table: SharedTableLayout, wasmModule: WebAssembly.Module, runIndex: number): Promise<RunRecord> {
  const shared = system.kind.startsWith("shared");
  const peerPorts = system.kind === "annakv-full" ? channels(threads) : undefined;
  const rssBefore = process.memoryUsage().rss;
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  for (let tid = 0; tid < threads; tid++) {
    const ports = peerPorts?.[tid];
    const config: WorkerConfig = {
      system: system.kind,
      engine: system.engine,
      tid,
      threadCount: threads,
      keyCount: options.keyCount,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      zipf,
      draws: options.quick ? QUICK_DRAWS : DRAWS,
      seed: SEED + 7919 * tid,
      seconds: options.seconds,
      timestampBase: runIndex * TIMESTAMP_STEP_PER_RUN,
      gossipPeriodMs: GOSSIP_PERIOD_MS,
      gossipPageBytes: GOSSIP_PAGE_BYTES,
      batchOps: BATCH_OPS,
      maxMemoryBytes: storeMemoryBytes(options.keyCount),
      table: shared ? table : undefined,
      wasmModule: !shared && system.engine === "wasm" ? wasmModule : undefined,
      peerPorts: ports,
    };
    const transfer = (ports ?? []).filter((port): port is MessagePort => port !== undefined);
    const worker = new Worker(path.join(__dirname, "worker.js"), { workerData: config, transferList: transfer });
    workers.push(worker);
    ready.push(nextMessage(worker));
  }
  try {
    await Promise.all(ready);
    const results = await Promise.all(
      workers.map((worker) => {
        const done = nextMessage(worker) as Promise<WorkerResult>;
        worker.postMessage("go");
        return done;
      }),
    );
    return summarise(system, threads, zipf, results, process.memoryUsage().rss - rssBefore);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** ports[i][j]: worker i's end of its channel to worker j. */
function channels(threads: number): (MessagePort | undefined)[][] {
  const ports: (MessagePort | undefined)[][] = Array.from({ length: threads }, () => new Array(threads).fill(undefined));
  for (let i = 0; i < threads; i++) {
    for (let j = i + 1; j < threads; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i][j] = port1;
      ports[j][i] = port2;
    }
  }
  return ports;
}

function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once("error", onError);
    worker.once("message", (message) => {
      worker.off("error", onError);
      resolve(message);
    });
  });
}

function storeMemoryBytes(keyCount: number): number {
  return Math.min(STORE_MEMORY_BYTES_MAX, Math.max(STORE_MEMORY_BYTES_MIN, keyCount * STORE_MEMORY_BYTES_PER_KEY));
}

function summarise(system: SystemSpec, threads: number, zipf: number, results: WorkerResult[], rssDeltaBytes: number): RunRecord {
  results.sort((a, b) => a.tid - b.tid);
  const workers: WorkerSummary[] = results.map((r) => ({
    tid: r.tid,
    opsPerSec: round((r.ops / r.elapsedMs) * 1000),
    ownedShare: round(r.ownedShare),
    serveMs: round(r.serveMs),
    mergeGossipMs: round(r.mergeMs),
    drainSendGossipMs: round(r.gossipSendMs),
    gossipKeysSent: r.gossipKeysSent,
    gossipKeysReceived: r.gossipKeysReceived,
    opErrors: r.opErrors,
    storeKeyCount: r.storeKeyCount,
  }));
  const record: RunRecord = {
    system: system.name,
    threads,
    zipf,
    opsPerSec: round(results.reduce((sum, r) => sum + (r.ops / r.elapsedMs) * 1000, 0)),
    rssDeltaBytes,
    storeBytesUsed: results.reduce((sum, r) => sum + r.storeBytesUsed, 0),
    storeMemoryReservedBytes: results.reduce((sum, r) => sum + r.storeMemoryReservedBytes, 0),
    workers,
  };
  if (system.kind === "annakv-partitioned") {
    record.routedStreamOpsPerSec = round(Math.min(...results.map((r) => (r.ops / r.elapsedMs) * 1000 / r.ownedShare)));
  }
  return record;
}

function addSpeedups(runs: RunRecord[]): void {
  for (const run of runs) {
    const base = runs.find((other) => other.system === run.system && other.zipf === run.zipf && other.threads === 1);
    if (base !== undefined) run.speedup = round(run.opsPerSec / base.opsPerSec);
  }
}

function charts(runs: RunRecord[], options: Options): BarChart[] {
  return options.zipfs.map((zipf) => ({
    title: `Update-only throughput, Zipf ${zipf}, ${options.keyCount.toLocaleString()} keys, 1 KiB values`,
    yLabel: "ops/s",
    groups: SYSTEMS.map((system) => system.name.replace("annakv-", "")),
    series: options.threadCounts.map((threads) => ({
      name: `${threads} thread${threads === 1 ? "" : "s"}`,
      values: SYSTEMS.map((system) => runs.find((run) => run.system === system.name && run.zipf === zipf && run.threads === threads)?.opsPerSec ?? NaN),
    })),
  }));
}

// No process.exit on success: every worker is terminated, so the process ending by itself shows nothing leaks.
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
