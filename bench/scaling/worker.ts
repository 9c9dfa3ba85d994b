/**
 * One worker thread of the scaling benchmark. It builds its requests (and, for annakv, its
 * store) before timing, says "ready", runs its system's loop for a fixed time on "go", and
 * posts what it counted. Loaded through worker.js, which installs bench/register.js.
 */
import { MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { handleGossipFrames, newGossipState, sendDirtyKeys, GossipContext } from "../../src/actor/handlers/gossip";
import type { PushPool } from "../../src/protocol/push-pool";
import { emptyCounters } from "../../src/actor/stats";
import { BatchWriter, Opcode, opBytes, RESULT_HEADER_BYTES } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { Status } from "../../src/core/status";
import type { EngineName, Store } from "../../src/core/store";
import { LatticeType } from "../../src/lattices/lattice-type";
import { LocalPlacement } from "../../src/routing/placement";
import { KeyChooser, KeySpace, Prng, writeTimestamp } from "../workload";
import { generateRequests, LWW_TIMESTAMP_OFFSET, lwwPayload, timestampOf, valuePool, VALUE_POOL_SIZE } from "./requests";
import { SharedTable, SharedTableLayout } from "./shared-table";

export type SystemKind = "shared-locked" | "shared-hogwild" | "annakv-partitioned" | "annakv-full";

export interface WorkerConfig {
  system: SystemKind;
  engine: EngineName;
  tid: number;
  threadCount: number;
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  zipf: number;
  /** Global request draws per worker; the kept ones are replayed in a loop. */
  draws: number;
  seed: number;
  seconds: number;
  /** Added to every timestamp, so a run's updates beat the last run's on the shared table. */
  timestampBase: number;
  gossipPeriodMs: number;
  gossipPageBytes: number;
  batchOps: number;
  maxMemoryBytes: number;
  table?: SharedTableLayout;
  wasmModule?: WebAssembly.Module;
  /** annakv-full: peerPorts[tid] reaches worker tid (undefined at this worker's own tid). */
  peerPorts?: (MessagePort | undefined)[];
}

export interface WorkerResult {
  tid: number;
  ops: number;
  elapsedMs: number;
  /** Share of the global request stream this worker owns (partitioned), else 1. */
  ownedShare: number;
  serveMs: number;
  mergeMs: number;
  gossipSendMs: number;
  gossipKeysSent: number;
  gossipKeysReceived: number;
  opErrors: number;
  storeBytesUsed: number;
  storeMemoryReservedBytes: number;
  storeKeyCount: number;
}

/** Ops between clock reads in the shared-table loop (the annakv loop reads it once a batch). */
const OPS_PER_CLOCK_READ = 1024;

function main(): void {
  const config = workerData as WorkerConfig;
  const keys = new KeySpace(config.keyCount, config.keyBytes);
  const random = new Prng(config.seed);
  const values = valuePool(random, config.valueBytes);
  const placement = new LocalPlacement(config.threadCount, config.system === "annakv-partitioned" ? 1 : config.threadCount);
  const chooser = new KeyChooser(config.keyCount, config.zipf);
  const requests = generateRequests(chooser, keys, placement, config.tid, config.draws, config.seed + 1);
  const run = config.system.startsWith("shared") ? prepareShared(config, keys, values, requests.keyIndexes) : prepareAnnakv(config, keys, values, placement, requests.keyIndexes);
  parentPort!.once("message", () => {
    const result = run();
    parentPort!.postMessage({ ...result, tid: config.tid, ownedShare: requests.ownedShare } satisfies WorkerResult);
  });
  parentPort!.postMessage("ready");
}

type Run = () => Omit<WorkerResult, "tid" | "ownedShare">;

function prepareShared(config: WorkerConfig, keys: KeySpace, values: Uint8Array[], keyIndexes: Uint32Array): Run {
  const table = new SharedTable(config.table!);
  const locked = config.system === "shared-locked";
  const { keyBytes, tid, threadCount, timestampBase } = config;
  return () => {
    const started = performance.now();
    const end = started + config.seconds * 1000;
    let ops = 0;
    let next = 0;
    let opErrors = 0;
    while (performance.now() < end) {
      for (let i = 0; i < OPS_PER_CLOCK_READ; i++) {
        const slot = table.find(keys.bytes, keyIndexes[next] * keyBytes);
        next = next + 1 === keyIndexes.length ? 0 : next + 1;
        if (slot < 0) {
          opErrors++;
          continue;
        }
        const timestamp = timestampBase + timestampOf(ops + i, tid, threadCount);
        if (locked) table.putLocked(slot, timestamp, values[i % VALUE_POOL_SIZE]);
        else table.putHogwild(slot, timestamp, values[i % VALUE_POOL_SIZE]);
      }
      ops += OPS_PER_CLOCK_READ;
    }
    const elapsedMs = performance.now() - started;
    const storeBytes = table.memoryBytes / threadCount;
    return { ops, elapsedMs, serveMs: elapsedMs, mergeMs: 0, gossipSendMs: 0, gossipKeysSent: 0, gossipKeysReceived: 0, opErrors, storeBytesUsed: storeBytes, storeMemoryReservedBytes: storeBytes, storeKeyCount: 0 };
  };
}

function prepareAnnakv(config: WorkerConfig, keys: KeySpace, values: Uint8Array[], placement: LocalPlacement, keyIndexes: Uint32Array): Run {
  const store = createStore({ engine: config.engine, wasmModule: config.wasmModule, limits: { maxMemoryBytes: config.maxMemoryBytes } });
  const payloads = values.map((value) => lwwPayload(config.timestampBase + timestampOf(0, config.tid, config.threadCount), value));
  preload(store, config, keys, placement, payloads[0]);
  const counters = emptyCounters();
  const context = gossipContext(config, store, placement, counters);
  const batchBytes = 4 + config.batchOps * opBytes(config.keyBytes, payloads[0].length);
  const { keyBytes, tid, threadCount, timestampBase, batchOps } = config;
  return () => {
    let serveMs = 0;
    let mergeMs = 0;
    let gossipSendMs = 0;
    let ops = 0;
    let opErrors = 0;
    let next = 0;
    const started = performance.now();
    const end = started + config.seconds * 1000;
    let nextGossip = started + config.gossipPeriodMs;
    let now = started;
    while (now < end) {
      const writer = new BatchWriter(store.batchBuffer(batchBytes));
      for (let i = 0; i < batchOps; i++) {
        const index = keyIndexes[next];
        next = next + 1 === keyIndexes.length ? 0 : next + 1;
        const payload = payloads[i % VALUE_POOL_SIZE];
        writeTimestamp(payload, LWW_TIMESTAMP_OFFSET, timestampBase + timestampOf(ops + i + 1, tid, threadCount));
        writer.add(Opcode.PUT, LatticeType.LWW, keys.bytes.subarray(index * keyBytes, (index + 1) * keyBytes), payload);
      }
      opErrors += countErrors(store.executeBatchInPlace(writer.finish()));
      ops += batchOps;
      const served = performance.now();
      serveMs += served - now;
      now = served;
      if (now >= nextGossip) {
        sendDirtyKeys(context);
        const sent = performance.now();
        receiveGossip(config, context);
        now = performance.now();
        gossipSendMs += sent - served;
        mergeMs += now - sent;
        nextGossip += config.gossipPeriodMs;
      }
    }
    const stats = store.stats();
    for (const port of config.peerPorts ?? []) port?.close();
    return { ops, elapsedMs: now - started, serveMs, mergeMs, gossipSendMs, gossipKeysSent: counters.gossipKeysSent, gossipKeysReceived: counters.gossipKeysReceived, opErrors: opErrors + counters.gossipMergeErrors, storeBytesUsed: stats.bytesUsed, storeMemoryReservedBytes: stats.memoryReservedBytes, storeKeyCount: stats.keyCount };
  };
}

/** Writes every key this worker holds once, then drains the dirty marks the writes left. */
function preload(store: Store, config: WorkerConfig, keys: KeySpace, placement: LocalPlacement, payload: Uint8Array): void {
  const batchBytes = 4 + config.batchOps * opBytes(config.keyBytes, payload.length);
  let writer = new BatchWriter(store.batchBuffer(batchBytes));
  let inBatch = 0;
  for (let index = 0; index < config.keyCount; index++) {
    const key = keys.key(index);
    if (!placement.isReplica(key, config.tid)) continue;
    writer.add(Opcode.PUT, LatticeType.LWW, key, payload);
    if (++inBatch === config.batchOps) {
      if (countErrors(store.executeBatchInPlace(writer.finish())) > 0) throw new Error("preload failed");
      writer = new BatchWriter(store.batchBuffer(batchBytes));
      inBatch = 0;
    }
  }
  if (inBatch > 0 && countErrors(store.executeBatchInPlace(writer.finish())) > 0) throw new Error("preload failed");
  while (store.drainDirty(config.gossipPageBytes).length > 0);
}

/** Walks the result headers: a status other than OK counts as an error. */
function countErrors(output: Uint8Array): number {
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  const count = view.getUint32(0, true);
  let errors = 0;
  let offset = 4;
  for (let i = 0; i < count; i++) {
    if (output[offset] !== Status.OK) errors++;
    offset += RESULT_HEADER_BYTES + view.getUint32(offset + 2, true);
  }
  return errors;
}

/**
 * The server's own gossip code (src/actor/handlers/gossip.ts) with MessageChannel ports in
 * place of its ZeroMQ push sockets. The server gossips over ZeroMQ inproc sockets; this
 * bench keeps ZeroMQ out of the measured loop (its sockets live on the event loop, which a
 * timed synchronous loop never yields to), and transfers each frame's ArrayBuffer instead,
 * which like inproc moves the bytes between threads without a network stack.
 */
function gossipContext(config: WorkerConfig, store: Store, placement: LocalPlacement, counters: ReturnType<typeof emptyCounters>): GossipContext {
  const ports = config.peerPorts ?? [];
  const peers = {
    send(address: string, frame: Uint8Array): void {
      const port = ports[Number(address)];
      if (port === undefined) throw new Error(`no port to worker ${address}`);
      // Buffer.concat may hand out a slice of a shared pool: transfer only a buffer of its own.
      const owned = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : frame.slice();
      port.postMessage(owned, [owned.buffer as ArrayBuffer]);
    },
  } as unknown as PushPool;
  return {
    tid: config.tid,
    store,
    placement,
    peers,
    counters,
    state: newGossipState(),
    gossipPageBytes: config.gossipPageBytes,
    gossipAddress: String,
    reportBadFrame(reason: string) {
      throw new Error(reason);
    },
  };
}

/** Takes every frame already queued on the peer ports (no event loop turn needed) and merges them. */
function receiveGossip(config: WorkerConfig, context: GossipContext): void {
  const frames: Uint8Array[] = [];
  for (const port of config.peerPorts ?? []) {
    if (port === undefined) continue;
    for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port)) frames.push(message.message as Uint8Array);
  }
  if (frames.length > 0) handleGossipFrames(context, frames);
}

main();
