/**
 * Where one update-only PUT's time goes, in one thread, on keys hot in cache (issue #16):
 * the scaling bench's annakv loop split into building the batch and running it in the
 * core, once for each request feed (request-feeds.ts: `copied` writes the op header, key,
 * timestamp and the 1 KiB payload into the core's input region; `resident` finds the
 * payload there and writes the rest), beside the locked shared table's PUT of the same
 * values. Each phase runs alternately several times and keeps its median, since this VM
 * drifts. The requests visit every key in turn, or with `--zipf S` follow a Zipf stream of
 * skew S (drawn once, seeded), where a key is often written again within a batch. With
 * `--baseline-wasm PATH` (another build of annakv.wasm, e.g. from a worktree of an earlier
 * commit) the annakv phases also run on that core, alternating with this one in the same
 * process: the way to compare two builds on a VM that drifts between minutes.
 *
 *   node -r ./bench/register.js bench/scaling/op-cost.ts [--keys 16] [--zipf S] [--rounds 5] [--ms 1500]
 *     [--baseline-wasm PATH] [--machine NAME] [--out-dir DIR]
 * writes <out-dir>/op-cost-<machine>.json and .svg (`<cores>core`, bench/results by default;
 * `op-cost-<machine>-zipf<S>` with --zipf).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { createStore } from "../../src/core/create-store";
import { LatticeType } from "../../src/lattices/lattice-type";
import path from "node:path";
import { positiveInteger } from "../options";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import { KeyChooser, KeySpace, Prng, TIMESTAMP_BASE } from "../workload";
import { REQUEST_FEEDS, RequestFeed } from "./request-feeds";
import { lwwPayload, VALUE_POOL_SIZE } from "./requests";
import { createSharedTable, SharedTable, TABLE_KEY_BYTES } from "./shared-table";

const VALUE_BYTES = 1024;
const BATCH_OPS = 1000;

const { values } = parseArgs({
  options: {
    keys: { type: "string" },
    zipf: { type: "string" },
    "baseline-wasm": { type: "string" },
    rounds: { type: "string" },
    ms: { type: "string" },
    machine: { type: "string" },
    "out-dir": { type: "string" },
  },
});
const machine = values.machine ?? `${availableParallelism()}core`;
const keyCount = positiveInteger(values.keys, 16, "--keys");
const rounds = positiveInteger(values.rounds, 5, "--rounds");
const phaseMs = positiveInteger(values.ms, 1500, "--ms");
const zipf = values.zipf === undefined ? undefined : Number(values.zipf);
if (zipf !== undefined && !(zipf >= 0)) throw new RangeError("--zipf must be a number >= 0");

const keys = new KeySpace(keyCount, TABLE_KEY_BYTES);
const valuePool = Array.from({ length: VALUE_POOL_SIZE }, (_, i) => new Uint8Array(VALUE_BYTES).fill(i));
const payloads = valuePool.map((value) => lwwPayload(TIMESTAMP_BASE, value));
/** PUTs only: every key in turn, or a Zipf stream of STREAM_REQUESTS. */
const STREAM_REQUESTS = 1 << 20;
const requests =
  zipf === undefined
    ? Uint32Array.from({ length: keyCount }, (_, index) => index)
    : zipfRequests(new KeyChooser(keyCount, zipf), new Prng(0x5eed), STREAM_REQUESTS);

function zipfRequests(chooser: KeyChooser, random: Prng, count: number): Uint32Array {
  return Uint32Array.from({ length: count }, () => chooser.choose(random));
}

const table = new SharedTable(createSharedTable(keyCount, VALUE_BYTES));
for (let i = 0; i < keyCount; i++) table.insert(keys.key(i));

/** One timestamp sequence for every phase, so that every PUT of every phase wins its merge. */
let sequence = 0;
let next = 0;

const baselinePath = values["baseline-wasm"];
/** The cores compared: this build's, and the baseline's phases (names prefixed "baseline ") if given. */
const cores: { prefix: string; module?: WebAssembly.Module }[] = [{ prefix: "" }];
if (baselinePath !== undefined)
  cores.push({ prefix: "baseline ", module: new WebAssembly.Module(readFileSync(baselinePath)) });

const phases: Record<string, () => void> = {};
for (const { prefix, module } of cores)
  for (const name of REQUEST_FEEDS) {
    // A store per feed: neither finds the other's bytes in its input region.
    const store = createStore({ engine: "wasm", wasmModule: module });
    for (let i = 0; i < keyCount; i++) store.put(keys.key(i), LatticeType.LWW, payloads[0]);
    const feed = new RequestFeed(name, store, keys, payloads, requests, BATCH_OPS);
    /** The scaling bench's batch building (bench/scaling/worker.ts, serveLoop) for one batch. */
    const buildBatch = () => {
      const length = feed.writeBatch(TIMESTAMP_BASE + sequence + 1, 1);
      sequence += feed.putCount;
      return length;
    };
    phases[`${prefix}annakv ${name}: build the batch`] = buildBatch;
    phases[`${prefix}annakv ${name}: build and run the batch`] = () => store.executeBatchInPlace(buildBatch());
  }
phases["shared-locked: find and put"] = () => {
  for (let i = 0; i < BATCH_OPS; i++) {
    const slot = table.find(keys.bytes, requests[next] * TABLE_KEY_BYTES);
    table.putLocked(slot, TIMESTAMP_BASE + ++sequence, valuePool[i % VALUE_POOL_SIZE]);
    next = next + 1 === requests.length ? 0 : next + 1;
  }
};

function nanosecondsPerOp(phase: () => void): number {
  const started = performance.now();
  let ops = 0;
  while (performance.now() - started < phaseMs) {
    phase();
    ops += BATCH_OPS;
  }
  return ((performance.now() - started) * 1e6) / ops;
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(phases).map((name) => [name, []]));
for (let r = 0; r < rounds; r++)
  for (const [name, phase] of Object.entries(phases)) samples[name].push(nanosecondsPerOp(phase));
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const nsPerOp = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, round(median(list))]));
const locked = nsPerOp["shared-locked: find and put"];
const derived = Object.fromEntries(
  cores.flatMap(({ prefix }) =>
    REQUEST_FEEDS.map((name) => {
      const build = nsPerOp[`${prefix}annakv ${name}: build the batch`];
      const total = nsPerOp[`${prefix}annakv ${name}: build and run the batch`];
      return [
        `${prefix}${name}`,
        { coreNsPerOp: round(total - build), annakvToLockedTimeRatio: round(total / locked) },
      ];
    }),
  ),
);
const result = {
  benchmark: "op-cost",
  machine: machineInfo(),
  options: {
    keyCount,
    zipf: zipf ?? "every key in turn",
    baselineWasm: baselinePath,
    rounds,
    phaseMs,
    valueBytes: VALUE_BYTES,
    batchOps: BATCH_OPS,
  },
  nsPerOpMedian: nsPerOp,
  nsPerOpByRound: samples,
  /** Per request feed. */
  derived,
};
console.log(JSON.stringify({ nsPerOp, derived }, null, 2));
const chart = {
  title: `One thread, update-only 1 KiB LWW PUTs on ${keyCount} keys, ${zipf === undefined ? "each in turn" : `Zipf ${zipf}`}: ns an op (median of ${rounds} rounds)`,
  yLabel: "ns/op",
  groups: Object.keys(nsPerOp),
  series: [{ name: "ns/op", values: Object.values(nsPerOp) }],
};
const outDir = path.resolve(values["out-dir"] ?? RESULTS_DIR);
for (const file of writeResults(outDir, `op-cost-${machine}${zipf === undefined ? "" : `-zipf${zipf}`}`, result, [
  chart,
]))
  console.log(`wrote ${file}`);
