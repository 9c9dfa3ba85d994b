/**
 * Store engines side by side (`npm run bench:store`): ops/s of the Wasm batch path, the
 * Wasm per-op path and the TS twin (per-op and batch), 50/50 put/get of LWW values over
 * preloaded keys, uniform and Zipf access; and bytes of memory per key for each engine.
 * Writes bench/results/store.json and store.svg.
 *
 *   node --expose-gc -r ./bench/register.js bench/store.ts [--quick]
 */
import { add, complete, cycle, suite } from "benny";
import { parseArgs } from "node:util";
import { BatchWriter, BATCH_HEADER_BYTES, Opcode, opBytes, RESULT_HEADER_BYTES } from "../src/core/batch";
import { createStore } from "../src/core/create-store";
import { Status } from "../src/core/status";
import type { EngineName, Store } from "../src/core/store";
import { LatticeType } from "../src/lattices/lattice-type";
import type { BarChart } from "./chart";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "./report";
import {
  KeyChooser,
  KeySpace,
  lwwPayloadBytes,
  LWW_TIMESTAMP_OFFSET,
  Prng,
  TIMESTAMP_BASE,
  writeLwwPayload,
  writeTimestamp,
} from "./workload";

interface StoreBenchConfig {
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  /** Operations replayed by one timed call; ops/s = calls/s x this. */
  blockOps: number;
  /** Distinct blocks generated per distribution; timed calls rotate through them. */
  blockCount: number;
  /** Operations per executeBatch on the batch paths. */
  batchOps: number;
  putFraction: number;
  maxTimeSeconds: number;
  seed: number;
}

const FULL_CONFIG: StoreBenchConfig = {
  keyCount: 1_000_000,
  keyBytes: 16,
  valueBytes: 64,
  blockOps: 100_000,
  blockCount: 8,
  batchOps: 1000,
  putFraction: 0.5,
  maxTimeSeconds: 4,
  seed: 20240601,
};

const QUICK_CONFIG: StoreBenchConfig = {
  ...FULL_CONFIG,
  keyCount: 100_000,
  blockOps: 20_000,
  blockCount: 4,
  maxTimeSeconds: 0.5,
};

const DISTRIBUTIONS = [
  { name: "uniform", skew: 0 },
  { name: "zipf-1.0", skew: 1.0 },
] as const;

const CASES = ["wasm-batch", "wasm-per-op", "ts-batch", "ts-per-op"] as const;
type CaseName = (typeof CASES)[number];

/**
 * A pre-generated operation sequence, `blockCount` blocks long. Each timed call replays the
 * next block, so a uniform run really spreads over the keyspace instead of one block's
 * keys sitting in cache. Puts draw their payloads from a small ring and are stamped just
 * before use, as a client stamps a fresh write.
 */
interface OpSequence {
  isPut: Uint8Array;
  keyIndexes: Int32Array;
  /** Bytes each batch of `batchOps` operations needs, so batchBuffer is asked once per batch. */
  batchBytes: Int32Array;
  blockOps: number;
  batchOps: number;
  nextBlock: number;
}

/** Payloads in the ring; each is restamped right before its put. */
const PAYLOAD_RING_SIZE = 1024;

interface Workload {
  keyViews: Uint8Array[];
  payloadRing: Uint8Array[];
}

function makeSequence(config: StoreBenchConfig, chooser: KeyChooser, random: Prng): OpSequence {
  const opCount = config.blockOps * config.blockCount;
  const payloadLength = lwwPayloadBytes(config.valueBytes);
  const sequence: OpSequence = {
    isPut: new Uint8Array(opCount),
    keyIndexes: new Int32Array(opCount),
    batchBytes: new Int32Array(Math.ceil(opCount / config.batchOps)).fill(BATCH_HEADER_BYTES),
    blockOps: config.blockOps,
    batchOps: config.batchOps,
    nextBlock: 0,
  };
  if (config.blockOps % config.batchOps !== 0) throw new RangeError("blockOps must be a multiple of batchOps");
  for (let i = 0; i < opCount; i++) {
    const isPut = random.next() < config.putFraction;
    sequence.isPut[i] = isPut ? 1 : 0;
    sequence.keyIndexes[i] = chooser.choose(random);
    sequence.batchBytes[Math.floor(i / config.batchOps)] += opBytes(config.keyBytes, isPut ? payloadLength : 0);
  }
  return sequence;
}

function makeWorkload(config: StoreBenchConfig, keySpace: KeySpace, random: Prng): Workload {
  const payloadLength = lwwPayloadBytes(config.valueBytes);
  const value = new Uint8Array(config.valueBytes);
  const payloadRing = Array.from({ length: PAYLOAD_RING_SIZE }, () => {
    const payload = new Uint8Array(payloadLength);
    writeLwwPayload(payload, 0, TIMESTAMP_BASE, random.fill(value));
    return payload;
  });
  return { keyViews: Array.from({ length: config.keyCount }, (_, index) => keySpace.key(index)), payloadRing };
}

/** The first op of the next block; advances the rotation. */
function takeBlock(sequence: OpSequence): number {
  const blockCount = sequence.isPut.length / sequence.blockOps;
  const start = sequence.nextBlock * sequence.blockOps;
  sequence.nextBlock = (sequence.nextBlock + 1) % blockCount;
  return start;
}

/** Every put carries a newer timestamp than anything stored, so each put really replaces its value. */
let nextTimestamp = TIMESTAMP_BASE + 1;
function stampedPayload(workload: Workload, op: number): Uint8Array {
  const payload = workload.payloadRing[op % PAYLOAD_RING_SIZE];
  writeTimestamp(payload, LWW_TIMESTAMP_OFFSET, nextTimestamp++);
  return payload;
}

function runPerOp(store: Store, workload: Workload, sequence: OpSequence): void {
  const start = takeBlock(sequence);
  const { isPut, keyIndexes } = sequence;
  const keyViews = workload.keyViews;
  let missing = 0;
  for (let i = start; i < start + sequence.blockOps; i++) {
    if (isPut[i] === 1) store.put(keyViews[keyIndexes[i]], LatticeType.LWW, stampedPayload(workload, i));
    else if (store.get(keyViews[keyIndexes[i]]) === undefined) missing++;
  }
  if (missing !== 0) throw new Error(`${store.engine} per-op: ${missing} preloaded keys missing`);
}

function runBatches(store: Store, workload: Workload, sequence: OpSequence): void {
  const start = takeBlock(sequence);
  const { isPut, keyIndexes, batchOps } = sequence;
  const keyViews = workload.keyViews;
  for (let batchStart = start; batchStart < start + sequence.blockOps; batchStart += batchOps) {
    const writer = new BatchWriter(store.batchBuffer(sequence.batchBytes[batchStart / batchOps]));
    for (let i = batchStart; i < batchStart + batchOps; i++) {
      if (isPut[i] === 1) writer.add(Opcode.PUT, LatticeType.LWW, keyViews[keyIndexes[i]], stampedPayload(workload, i));
      else writer.add(Opcode.GET, LatticeType.NONE, keyViews[keyIndexes[i]]);
    }
    checkBatchOutput(store, store.executeBatchInPlace(writer.finish()), batchOps);
  }
}

/** Walks the result headers, as any consumer of a batch must, and insists every op succeeded. */
function checkBatchOutput(store: Store, output: Uint8Array, opCount: number): void {
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  if (view.getUint32(0, true) !== opCount)
    throw new Error(`${store.engine} batch: ${view.getUint32(0, true)} results for ${opCount} ops`);
  let offset = BATCH_HEADER_BYTES;
  for (let i = 0; i < opCount; i++) {
    const status = view.getUint8(offset);
    if (status !== Status.OK) throw new Error(`${store.engine} batch: op ${i} status ${Status[status]}`);
    offset += RESULT_HEADER_BYTES + view.getUint32(offset + 2, true);
  }
}

/** Writes every key once through the batch path (untimed). */
function preload(store: Store, config: StoreBenchConfig, keySpace: KeySpace, random: Prng): void {
  const payloadLength = lwwPayloadBytes(config.valueBytes);
  const payload = new Uint8Array(payloadLength);
  const value = new Uint8Array(config.valueBytes);
  for (let start = 0; start < config.keyCount; start += config.batchOps) {
    const end = Math.min(start + config.batchOps, config.keyCount);
    const writer = new BatchWriter(
      store.batchBuffer(BATCH_HEADER_BYTES + (end - start) * opBytes(config.keyBytes, payloadLength)),
    );
    for (let index = start; index < end; index++) {
      writeLwwPayload(payload, 0, TIMESTAMP_BASE, random.fill(value));
      writer.add(Opcode.PUT, LatticeType.LWW, keySpace.key(index), payload);
    }
    checkBatchOutput(store, store.executeBatchInPlace(writer.finish()), end - start);
  }
  if (store.size !== config.keyCount)
    throw new Error(`${store.engine}: ${store.size} keys after preloading ${config.keyCount}`);
}

interface MemoryFigures {
  engine: EngineName;
  keyCount: number;
  bytesUsedPerKey: number;
  memoryReservedBytesPerKey: number;
  /** heapUsed + arrayBuffers growth over the load, after full GCs. */
  processHeapDeltaBytesPerKey: number;
  rssDeltaBytesPerKey: number;
  /** memoryReservedBytes against the raw key + value bytes. */
  reservedToRawRatio: number;
  bytesUsedToRawRatio: number;
}

function settledMemory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc: the memory figures need full collections");
  gc();
  gc();
  return process.memoryUsage();
}

/** Loads a fresh store and measures it; the store is then used by the ops/s suites. */
function loadAndMeasure(
  engine: EngineName,
  config: StoreBenchConfig,
  keySpace: KeySpace,
): { store: Store; memory: MemoryFigures } {
  const before = settledMemory();
  const loadStarted = performance.now();
  const store = createStore({ engine, limits: { maxMemoryBytes: 2 * 1024 * 1024 * 1024 } });
  preload(store, config, keySpace, new Prng(config.seed + 1));
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const after = settledMemory();
  const stats = store.stats();
  const rawBytes = config.keyCount * (config.keyBytes + config.valueBytes);
  const heapDelta = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  console.log(`${engine}: loaded ${config.keyCount} keys in ${loadSeconds.toFixed(1)} s`);
  return {
    store,
    memory: {
      engine,
      keyCount: stats.keyCount,
      bytesUsedPerKey: round(stats.bytesUsed / config.keyCount),
      memoryReservedBytesPerKey: round(stats.memoryReservedBytes / config.keyCount),
      processHeapDeltaBytesPerKey: round(heapDelta / config.keyCount),
      rssDeltaBytesPerKey: round((after.rss - before.rss) / config.keyCount),
      reservedToRawRatio: round(stats.memoryReservedBytes / rawBytes),
      bytesUsedToRawRatio: round(stats.bytesUsed / rawBytes),
    },
  };
}

/** Timed calls per case at least, so GC pauses of the TS engine average out. */
const SAMPLES_MIN = 10;

type OpsPerSecond = Record<CaseName, { opsPerSecond: number; marginPercent: number; samples: number }>;

async function runSuite(
  name: string,
  config: StoreBenchConfig,
  stores: Record<EngineName, Store>,
  workload: Workload,
  sequence: OpSequence,
): Promise<OpsPerSecond> {
  const options = { maxTime: config.maxTimeSeconds, minSamples: SAMPLES_MIN };
  const run: Record<CaseName, () => void> = {
    "wasm-batch": () => runBatches(stores.wasm, workload, sequence),
    "wasm-per-op": () => runPerOp(stores.wasm, workload, sequence),
    "ts-batch": () => runBatches(stores.ts, workload, sequence),
    "ts-per-op": () => runPerOp(stores.ts, workload, sequence),
  };
  const summary = await suite(
    `store ${name}: ${config.blockOps} ops per call`,
    ...CASES.map((caseName) => add(caseName, () => run[caseName], options)),
    cycle(),
    complete(),
  );
  const result = {} as OpsPerSecond;
  for (const caseResult of summary.results) {
    result[caseResult.name as CaseName] = {
      // details.mean is seconds per call, unrounded (benny rounds `ops` for display).
      opsPerSecond: Math.round(config.blockOps / caseResult.details.mean),
      marginPercent: caseResult.margin,
      samples: caseResult.samples,
    };
  }
  return result;
}

function parseConfig(): { config: StoreBenchConfig; quick: boolean } {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, seed: { type: "string" } } });
  const quick = values.quick ?? false;
  const config = quick ? { ...QUICK_CONFIG } : { ...FULL_CONFIG };
  if (values.seed !== undefined) config.seed = Number(values.seed);
  return { config, quick };
}

async function main(): Promise<void> {
  const { config, quick } = parseConfig();
  const started = performance.now();
  console.log(
    `store bench: ${config.keyCount} keys of ${config.keyBytes} B, ${config.valueBytes} B LWW values, seed ${config.seed}`,
  );
  const keySpace = new KeySpace(config.keyCount, config.keyBytes);
  const workload = makeWorkload(config, keySpace, new Prng(config.seed));
  const sequences = DISTRIBUTIONS.map(({ skew }) =>
    makeSequence(config, new KeyChooser(config.keyCount, skew), new Prng(config.seed + 2 + skew * 1000)),
  );
  const ts = loadAndMeasure("ts", config, keySpace);
  const wasm = loadAndMeasure("wasm", config, keySpace);
  const stores = { ts: ts.store, wasm: wasm.store };
  const opsPerSecond: Record<string, OpsPerSecond> = {};
  for (const [index, distribution] of DISTRIBUTIONS.entries()) {
    opsPerSecond[distribution.name] = await runSuite(distribution.name, config, stores, workload, sequences[index]);
  }
  const ratios = Object.fromEntries(
    DISTRIBUTIONS.map(({ name }) => {
      const figures = opsPerSecond[name];
      return [
        name,
        {
          wasmBatchToTsPerOp: round(figures["wasm-batch"].opsPerSecond / figures["ts-per-op"].opsPerSecond),
          wasmBatchToTsBatch: round(figures["wasm-batch"].opsPerSecond / figures["ts-batch"].opsPerSecond),
          wasmPerOpToTsPerOp: round(figures["wasm-per-op"].opsPerSecond / figures["ts-per-op"].opsPerSecond),
        },
      ];
    }),
  );
  const result = {
    benchmark: "store",
    machine: machineInfo(),
    config,
    rawBytesPerKey: config.keyBytes + config.valueBytes,
    payloadBytesPerValue: lwwPayloadBytes(config.valueBytes),
    opsPerSecond,
    ratios,
    memory: { wasm: wasm.memory, ts: ts.memory },
    targets: {
      wasmBatchToTsAtLeast: 3,
      wasmPerOpToTsAtLeast: 1,
      wasmReservedToRawAtMost: 2,
    },
    runSeconds: round((performance.now() - started) / 1000),
  };
  const chart: BarChart = {
    title: `Store engines: ${config.keyCount.toLocaleString("en")} keys, 50/50 put/get, ${config.keyBytes} B keys, ${config.valueBytes} B LWW values`,
    yLabel: "ops/s",
    groups: DISTRIBUTIONS.map(({ name }) => name),
    series: CASES.map((caseName) => ({
      name: caseName,
      values: DISTRIBUTIONS.map(({ name }) => opsPerSecond[name][caseName].opsPerSecond),
    })),
  };
  for (const path of writeResults(quick ? QUICK_RESULTS_DIR : RESULTS_DIR, "store", result, [chart]))
    console.log(`wrote ${path}`);
  console.log(JSON.stringify({ ratios, memory: result.memory }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
