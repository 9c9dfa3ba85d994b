/**
 * Where one update-only PUT's time goes, in one thread, on keys hot in cache (issue #16):
 * the scaling bench's annakv loop split into building the batch (stamping the timestamp,
 * the op header, the key and the 1 KiB payload copied into the core's input region) and
 * running it in the core, beside the locked shared table's PUT of the same values. Each
 * phase runs alternately several times and keeps its median, since this VM drifts.
 *
 *   node -r ./bench/register.js bench/scaling/op-cost.ts [--keys 16] [--rounds 5] [--ms 1500] [--machine NAME]
 *     [--out-dir DIR]
 * writes <out-dir>/op-cost-<machine>.json and .svg (`<cores>core`, bench/results by default).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { BatchWriter, Opcode, opBytes } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { LatticeType } from "../../src/lattices/lattice-type";
import path from "node:path";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import { TIMESTAMP_BASE, writeTimestamp } from "../workload";
import { LWW_TIMESTAMP_OFFSET, lwwPayload, VALUE_POOL_SIZE } from "./requests";
import { createSharedTable, SharedTable, TABLE_KEY_BYTES } from "./shared-table";

const VALUE_BYTES = 1024;
const BATCH_OPS = 1000;

const { values } = parseArgs({
  options: {
    keys: { type: "string" },
    rounds: { type: "string" },
    ms: { type: "string" },
    machine: { type: "string" },
    "out-dir": { type: "string" },
  },
});
const machine = values.machine ?? `${availableParallelism()}core`;
const keyCount = Number(values.keys ?? 16);
const rounds = Number(values.rounds ?? 5);
const phaseMs = Number(values.ms ?? 1500);
for (const [name, value] of Object.entries({ keyCount, rounds, phaseMs }))
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`--${name} must be a positive integer`);

const keys = new Uint8Array(keyCount * TABLE_KEY_BYTES);
const view = new DataView(keys.buffer);
for (let i = 0; i < keyCount; i++) view.setUint32(i * TABLE_KEY_BYTES, i + 1, true);
const valuePool = Array.from({ length: VALUE_POOL_SIZE }, (_, i) => new Uint8Array(VALUE_BYTES).fill(i));
const payloads = valuePool.map((value) => lwwPayload(TIMESTAMP_BASE, value));
const batchBytes = 4 + BATCH_OPS * opBytes(TABLE_KEY_BYTES, payloads[0].length);

const store = createStore({ engine: "wasm" });
for (let i = 0; i < keyCount; i++)
  store.put(keys.subarray(i * TABLE_KEY_BYTES, (i + 1) * TABLE_KEY_BYTES), LatticeType.LWW, payloads[0]);
const table = new SharedTable(createSharedTable(keyCount, VALUE_BYTES));
for (let i = 0; i < keyCount; i++) table.insert(keys.subarray(i * TABLE_KEY_BYTES, (i + 1) * TABLE_KEY_BYTES));

let sequence = 0;
let next = 0;

/** The scaling bench's batch building (bench/scaling/worker.ts, serveLoop) for one batch. */
function buildBatch(): number {
  const writer = new BatchWriter(store.batchBuffer(batchBytes));
  for (let i = 0; i < BATCH_OPS; i++) {
    const payload = payloads[i % VALUE_POOL_SIZE];
    writeTimestamp(payload, LWW_TIMESTAMP_OFFSET, TIMESTAMP_BASE + ++sequence);
    writer.addSpans(
      Opcode.PUT,
      LatticeType.LWW,
      keys,
      next * TABLE_KEY_BYTES,
      TABLE_KEY_BYTES,
      payload,
      0,
      payload.length,
    );
    next = next + 1 === keyCount ? 0 : next + 1;
  }
  return writer.finish();
}

const phases: Record<string, () => void> = {
  "annakv: build the batch": () => buildBatch(),
  "annakv: build and run the batch": () => store.executeBatchInPlace(buildBatch()),
  "shared-locked: find and put": () => {
    for (let i = 0; i < BATCH_OPS; i++) {
      const slot = table.find(keys, next * TABLE_KEY_BYTES);
      table.putLocked(slot, TIMESTAMP_BASE + ++sequence, valuePool[i % VALUE_POOL_SIZE]);
      next = next + 1 === keyCount ? 0 : next + 1;
    }
  },
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
const build = nsPerOp["annakv: build the batch"];
const total = nsPerOp["annakv: build and run the batch"];
const result = {
  benchmark: "op-cost",
  machine: machineInfo(),
  options: { keyCount, rounds, phaseMs, valueBytes: VALUE_BYTES, batchOps: BATCH_OPS },
  nsPerOpMedian: nsPerOp,
  nsPerOpByRound: samples,
  derived: {
    coreNsPerOp: round(total - build),
    annakvToLockedTimeRatio: round(total / nsPerOp["shared-locked: find and put"]),
  },
};
console.log(JSON.stringify({ nsPerOp, derived: result.derived }, null, 2));
const chart = {
  title: `One thread, update-only 1 KiB LWW PUTs on ${keyCount} hot keys: ns an op (median of ${rounds} rounds)`,
  yLabel: "ns/op",
  groups: Object.keys(nsPerOp),
  series: [{ name: "ns/op", values: Object.values(nsPerOp) }],
};
const outDir = path.resolve(values["out-dir"] ?? RESULTS_DIR);
for (const file of writeResults(outDir, `op-cost-${machine}`, result, [chart])) console.log(`wrote ${file}`);
