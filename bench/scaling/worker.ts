/**
 * One worker thread of the scaling benchmark, alive for every run of one system at one
 * thread count (a worker group). It builds its placement's replica table and, for annakv,
 * its store with every key it holds, then says "ready". Each run is two steps: "prepare"
 * (merge gossip left over from the last run, keep the stream's requests routed to this
 * worker) and "go" (replay them for a fixed time, then flush gossip untimed and post what
 * it counted). Loaded through worker.js, which installs bench/register.js, when run from
 * source; as compiled JavaScript it is worker.js itself.
 */
import { MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { GossipContext, newGossipState } from "../../src/actor/gossip-context";
import { handleGossipFrames, sendDirtyKeys } from "../../src/actor/handlers/gossip";
import { applyFactorChanges } from "../../src/actor/handlers/replication";
import { FactorIndex } from "../../src/routing/key-factors";
import { ActorCounters, emptyCounters } from "../../src/actor/stats";
import type { FrameSink } from "../../src/protocol/outlet-pool";
import { BatchWriter, Opcode, opBytes, RESULT_HEADER_BYTES } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { Status } from "../../src/core/status";
import type { EngineName, Store } from "../../src/core/store";
import { LatticeType } from "../../src/lattices/lattice-type";
import type { LocalPlacement } from "../../src/routing/placement";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import { singleNodeLayout } from "../../src/routing/layout";
import { KeySpace, Prng, TIMESTAMP_BASE } from "../workload";
import { RequestFeed, RequestFeedName } from "./request-feeds";
import {
  GET_FLAG,
  KEY_INDEX_MASK,
  lwwPayload,
  ReplicaTable,
  RequestStream,
  requestsRoutedTo,
  valuePool,
  VALUE_POOL_SIZE,
} from "./requests";
import type { KeyFactor } from "./selective";
import { SharedTable, SharedTableLayout } from "./shared-table";
import { isShared, placementFor, SystemKind } from "./systems";

export interface GroupConfig {
  system: SystemKind;
  engine: EngineName;
  /** annakv: how requests reach the store (request-feeds.ts). */
  feed?: RequestFeedName;
  tid: number;
  threadCount: number;
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  seed: number;
  gossipPeriodMs: number;
  gossipPageBytes: number;
  batchOps: number;
  maxMemoryBytes: number;
  table?: SharedTableLayout;
  wasmModule?: WebAssembly.Module;
  /** annakv with more than one thread: peerPorts[tid] reaches worker tid (undefined at this worker's own tid). */
  peerPorts?: (MessagePort | undefined)[];
}

export interface RunConfig {
  stream: RequestStream;
  seconds: number;
  /** Added to every timestamp: each run's writes beat the last run's (stores and table are reused). */
  timestampBase: number;
  /** annakv-selective: this run's factor changes (selective.ts), with each key's index. */
  factors?: KeyFactor[];
}

export type ToWorker = { type: "prepare"; run: RunConfig } | { type: "go" };
export type FromWorker =
  { type: "ready"; setupMs: number } | { type: "prepared"; kept: number } | { type: "result"; result: WorkerResult };

export interface WorkerResult {
  tid: number;
  /** Requests of the stream routed to this worker. */
  kept: number;
  /** Operations that succeeded: PUTs, and GETs of a present key. */
  ops: number;
  opErrors: number;
  elapsedMs: number;
  serveMs: number;
  /** Merging gossip received from peers (lattice merge). */
  mergeMs: number;
  /** Draining dirty keys and sending them to peers. */
  gossipMs: number;
  /** Nothing to do: a worker no request was routed to waits for gossip periods. */
  idleMs: number;
  gossipKeysSent: number;
  gossipKeysReceived: number;
  /** Timestamps this run used past its base: the next run's base moves past them. */
  timestampsUsed: number;
  storeBytesUsed: number;
  storeMemoryReservedBytes: number;
  storeKeyCount: number;
}

type RunCounts = Omit<WorkerResult, "tid" | "kept">;

interface Runner {
  /** Untimed, before a run: merges what peers sent after the last run's timed loop. */
  settle(): void;
  /**
   * Selective replication: installs the run's factor changes as the node's new factor state
   * (seeding and handing off values as the server does); returns each changed key's replicas.
   */
  applyFactors(factors: readonly KeyFactor[]): Map<number, number[]>;
  run(requests: Uint32Array, run: RunConfig): RunCounts;
}

/** Ops between clock reads in the shared-table loop (the annakv loop reads it once a batch). */
const OPS_PER_CLOCK_READ = 1024;
/** The final, untimed gossip flush stops after this many periods' worth of pages (asserted). */
const FLUSH_PERIODS_MAX = 1000;

function main(): void {
  const config = workerData as GroupConfig;
  const started = performance.now();
  const keys = new KeySpace(config.keyCount, config.keyBytes);
  const placement = placementFor(config.system, config.threadCount);
  const replicas = new ReplicaTable(placement, keys);
  const values = valuePool(new Prng(config.seed + config.tid), config.valueBytes);
  const runner = isShared(config.system)
    ? sharedRunner(config, keys, values)
    : annakvRunner(config, keys, values, placement, replicas);
  const post = (message: FromWorker) => parentPort!.postMessage(message);
  let requests: Uint32Array = new Uint32Array(0);
  let runConfig: RunConfig | undefined;
  parentPort!.on("message", (message: ToWorker) => {
    if (message.type === "prepare") {
      runner.settle();
      runConfig = message.run;
      if (runConfig.factors !== undefined) {
        for (const [index, list] of runner.applyFactors(runConfig.factors)) replicas.setReplicas(index, list);
      }
      requests = requestsRoutedTo(runConfig.stream, replicas, config.tid);
      post({ type: "prepared", kept: requests.length });
    } else {
      if (runConfig === undefined) throw new Error("go before prepare");
      // Values that peers seeded or handed off while preparing are merged before timing.
      runner.settle();
      post({ type: "result", result: { ...runner.run(requests, runConfig), tid: config.tid, kept: requests.length } });
    }
  });
  post({ type: "ready", setupMs: performance.now() - started });
}

/**
 * Timestamps unique across workers (tid in the low part) and growing per update, so every
 * update wins its LWW merge on the writer and, by gossip, on the other replicas.
 */
function timestampOf(base: number, sequence: number, tid: number, threadCount: number): number {
  return TIMESTAMP_BASE + base + sequence * threadCount + tid;
}

function sharedRunner(config: GroupConfig, keys: KeySpace, values: Uint8Array[]): Runner {
  const table = new SharedTable(config.table!);
  const locked = config.system === "shared-locked";
  const { keyBytes, tid, threadCount } = config;
  const readOut = new Uint8Array(config.valueBytes);
  const storeBytes = table.memoryBytes / threadCount;
  const run = (requests: Uint32Array, { seconds, timestampBase }: RunConfig): RunCounts => {
    const started = performance.now();
    const end = started + seconds * 1000;
    let ops = 0;
    let opErrors = 0;
    let sequence = 0;
    let next = 0;
    if (requests.length === 0) sleepUntil(end);
    while (requests.length > 0 && performance.now() < end) {
      for (let i = 0; i < OPS_PER_CLOCK_READ; i++) {
        const entry = requests[next];
        next = next + 1 === requests.length ? 0 : next + 1;
        const slot = table.find(keys.bytes, (entry & KEY_INDEX_MASK) * keyBytes);
        if (slot < 0) {
          opErrors++;
          continue;
        }
        if ((entry & GET_FLAG) !== 0) {
          if (locked) table.getLocked(slot, readOut);
          else table.getHogwild(slot, readOut);
        } else {
          const timestamp = timestampOf(timestampBase, ++sequence, tid, threadCount);
          if (locked) table.putLocked(slot, timestamp, values[i % VALUE_POOL_SIZE]);
          else table.putHogwild(slot, timestamp, values[i % VALUE_POOL_SIZE]);
        }
        ops++;
      }
    }
    const elapsedMs = performance.now() - started;
    const idleMs = requests.length === 0 ? elapsedMs : 0;
    return {
      ops,
      opErrors,
      elapsedMs,
      serveMs: elapsedMs - idleMs,
      mergeMs: 0,
      gossipMs: 0,
      idleMs,
      gossipKeysSent: 0,
      gossipKeysReceived: 0,
      timestampsUsed: (sequence + 1) * threadCount,
      storeBytesUsed: storeBytes,
      storeMemoryReservedBytes: storeBytes,
      storeKeyCount: 0,
    };
  };
  return { settle() {}, applyFactors: () => new Map(), run };
}

function annakvRunner(
  config: GroupConfig,
  keys: KeySpace,
  values: Uint8Array[],
  placement: LocalPlacement,
  replicas: ReplicaTable,
): Runner {
  const store = createStore({
    engine: config.engine,
    wasmModule: config.wasmModule,
    limits: { maxMemoryBytes: config.maxMemoryBytes },
  });
  const payloads = values.map((value) => lwwPayload(timestampOf(0, 0, config.tid, config.threadCount), value));
  preload(store, config, keys, replicas, payloads[0]);
  const counters = emptyCounters();
  const context = gossipContext(config, store, placement, counters);
  const replicated = new ReplicatedKeys(config.keyCount);
  const decided = new Map<string, number>();
  let version = 0;
  return {
    settle: () => receiveGossip(config, context),
    applyFactors: (factors) => {
      for (const { key, factor } of factors) {
        if (factor > placement.defaultReplication) decided.set(key, factor);
        else decided.delete(key);
      }
      const state = { version: ++version, factors: [...decided].map(([key, local]) => ({ key, local, global: 1 })) };
      const after = context.placement.withFactors(new FactorIndex({ [context.placement.layout.selfId]: state }));
      applyFactorChanges(
        context,
        after,
        factors.map(({ key }) => key),
      );
      const lists = new Map<number, number[]>();
      for (const { index, key } of factors) {
        const list = after.writeReplicas(keys.key(index), key);
        replicated.set(index, key, list.length > 1);
        lists.set(index, list);
      }
      return lists;
    },
    run: (requests, run) => {
      const sentBefore = counters.gossipKeysSent;
      const receivedBefore = counters.gossipKeysReceived;
      const mergeErrorsBefore = counters.gossipMergeErrors;
      const counts =
        requests.length > 0
          ? serveLoop(config, store, context, keys, payloads, requests, run, replicated)
          : idleLoop(config, context, run);
      replicated.reportWrites(context);
      flushGossip(store, context);
      const stats = store.stats();
      return {
        ...counts,
        opErrors: counts.opErrors + counters.gossipMergeErrors - mergeErrorsBefore,
        gossipKeysSent: counters.gossipKeysSent - sentBefore,
        gossipKeysReceived: counters.gossipKeysReceived - receivedBefore,
        storeBytesUsed: stats.bytesUsed,
        storeMemoryReservedBytes: stats.memoryReservedBytes,
        storeKeyCount: stats.keyCount,
      };
    },
  };
}

/**
 * Keys with a factor above one (selective replication): their PUTs must reach gossip, as the
 * server's request handler reports them. A flag per key index, turned into names once per
 * gossip period: a Set insert per PUT cost ~20% of a worker's time at Zipf 4.
 */
class ReplicatedKeys {
  /** Per key index: 0 one replica, 1 replicated, 2 replicated and written since the last report. */
  private readonly flags: Uint8Array;
  private readonly names = new Map<number, string>();

  constructor(keyCount: number) {
    this.flags = new Uint8Array(keyCount);
  }

  get size(): number {
    return this.names.size;
  }

  set(index: number, name: string, isReplicated: boolean): void {
    this.flags[index] = isReplicated ? 1 : 0;
    if (isReplicated) this.names.set(index, name);
    else this.names.delete(index);
  }

  noteWrite(index: number): void {
    if (this.flags[index] === 1) this.flags[index] = 2;
  }

  /** Hands the keys written since the last call to the server's gossip state. */
  reportWrites(context: GossipContext): void {
    for (const [index, name] of this.names) {
      if (this.flags[index] !== 2) continue;
      context.state.replicatedWrites.add(name);
      this.flags[index] = 1;
    }
  }
}

type LoopCounts = Pick<
  WorkerResult,
  "ops" | "opErrors" | "elapsedMs" | "serveMs" | "mergeMs" | "gossipMs" | "idleMs" | "timestampsUsed"
>;

/**
 * Replays the worker's requests as batches of `batchOps` GET/PUT ops, and every gossip
 * period runs the server's gossip: drain dirty keys and send them, then merge what came.
 */
function serveLoop(
  config: GroupConfig,
  store: Store,
  context: GossipContext,
  keys: KeySpace,
  payloads: Uint8Array[],
  requests: Uint32Array,
  run: RunConfig,
  replicated: ReplicatedKeys,
): LoopCounts {
  const tracking = replicated.size > 0;
  const { tid, threadCount, batchOps } = config;
  const feed = new RequestFeed(config.feed ?? "copied", store, keys, payloads, requests, batchOps);
  let serveMs = 0;
  let mergeMs = 0;
  let gossipMs = 0;
  let ops = 0;
  let opErrors = 0;
  let sequence = 0;
  const started = performance.now();
  const end = started + run.seconds * 1000;
  let nextGossip = started + config.gossipPeriodMs;
  let now = started;
  while (now < end) {
    if (tracking) noteWrites(replicated, requests, feed.nextRequest, batchOps);
    const length = feed.writeBatch(timestampOf(run.timestampBase, sequence + 1, tid, threadCount), threadCount);
    sequence += feed.putCount;
    const errors = countErrors(store.executeBatchInPlace(length));
    opErrors += errors;
    ops += batchOps - errors;
    const served = performance.now();
    serveMs += served - now;
    now = served;
    if (now >= nextGossip) {
      replicated.reportWrites(context);
      sendDirtyKeys(context);
      const sent = performance.now();
      receiveGossip(config, context);
      feed.forget();
      now = performance.now();
      gossipMs += sent - served;
      mergeMs += now - sent;
      nextGossip += config.gossipPeriodMs;
    }
  }
  return {
    ops,
    opErrors,
    elapsedMs: now - started,
    serveMs,
    mergeMs,
    gossipMs,
    idleMs: 0,
    timestampsUsed: (sequence + 1) * threadCount,
  };
}

/** Notes the PUTs among the `count` requests from requests[first] (wrapping) as writes of their keys. */
function noteWrites(replicated: ReplicatedKeys, requests: Uint32Array, first: number, count: number): void {
  for (let i = 0, next = first; i < count; i++, next = next + 1 === requests.length ? 0 : next + 1) {
    const entry = requests[next];
    if ((entry & GET_FLAG) === 0) replicated.noteWrite(entry & KEY_INDEX_MASK);
  }
}

/** A worker that no request was routed to still takes part in gossip, every period, and sleeps between. */
function idleLoop(config: GroupConfig, context: GossipContext, run: RunConfig): LoopCounts {
  let mergeMs = 0;
  let gossipMs = 0;
  const started = performance.now();
  const end = started + run.seconds * 1000;
  for (let nextGossip = started + config.gossipPeriodMs; nextGossip < end; nextGossip += config.gossipPeriodMs) {
    sleepUntil(nextGossip);
    const before = performance.now();
    sendDirtyKeys(context);
    const sent = performance.now();
    receiveGossip(config, context);
    gossipMs += sent - before;
    mergeMs += performance.now() - sent;
  }
  sleepUntil(end);
  const elapsedMs = performance.now() - started;
  return {
    ops: 0,
    opErrors: 0,
    elapsedMs,
    serveMs: 0,
    mergeMs,
    gossipMs,
    idleMs: elapsedMs - mergeMs - gossipMs,
    timestampsUsed: 0,
  };
}

/** After the timed loop: every dirty key goes out, so no run inherits the last one's gossip. */
function flushGossip(store: Store, context: GossipContext): void {
  for (let period = 0; store.stats().dirtyKeyCount > 0; period++) {
    if (period === FLUSH_PERIODS_MAX) throw new Error(`gossip flush left ${store.stats().dirtyKeyCount} dirty keys`);
    sendDirtyKeys(context);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread (no spinning: idle workers leave their core to others) until `time`. */
function sleepUntil(time: number): void {
  for (let left = time - performance.now(); left > 0; left = time - performance.now())
    Atomics.wait(sleepCell, 0, 0, left);
}

/** Writes every key this worker holds once, then discards the dirty marks the writes left. */
function preload(store: Store, config: GroupConfig, keys: KeySpace, replicas: ReplicaTable, payload: Uint8Array): void {
  const batchBytes = 4 + config.batchOps * opBytes(config.keyBytes, payload.length);
  let writer = new BatchWriter(store.batchBuffer(batchBytes));
  let inBatch = 0;
  for (let index = 0; index < config.keyCount; index++) {
    if (!replicas.holds(index, config.tid)) continue;
    writer.add(Opcode.PUT, LatticeType.LWW, keys.key(index), payload);
    if (++inBatch === config.batchOps) {
      if (countErrors(store.executeBatchInPlace(writer.finish())) > 0) throw new Error("preload failed");
      writer = new BatchWriter(store.batchBuffer(batchBytes));
      inBatch = 0;
    }
  }
  if (inBatch > 0 && countErrors(store.executeBatchInPlace(writer.finish())) > 0) throw new Error("preload failed");
  store.discardDirty();
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
 * place of its ZMTP connections. The server's actors gossip over loopback TCP
 * (src/node/ports.ts); this bench keeps sockets out of the measured loop (they live on
 * the event loop, which a timed synchronous loop never yields to) and transfers each
 * frame's ArrayBuffer instead, moving the bytes between threads with no network stack: the
 * measured gossip cost is the server's drain, framing and merge, not its transport.
 */
function gossipContext(
  config: GroupConfig,
  store: Store,
  placement: LocalPlacement,
  counters: ActorCounters,
): GossipContext {
  const ports = config.peerPorts ?? [];
  const peers: FrameSink = {
    send(address: string, frame: Uint8Array): void {
      const port = ports[Number(address)];
      if (port === undefined) throw new Error(`no port to worker ${address}`);
      // Buffer.concat may hand out a slice of a shared pool: transfer only a buffer of its own.
      const owned = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : frame.slice();
      port.postMessage(owned, [owned.buffer as ArrayBuffer]);
    },
  };
  return {
    tid: config.tid,
    store,
    // One node: actor numbers are tids, and peer addresses the tids' names (String).
    placement: new ClusterPlacement(
      singleNodeLayout("127.0.0.1", 0, placement.threadCount, placement.defaultReplication),
    ),
    peers,
    counters,
    state: newGossipState(),
    gossipPageBytes: config.gossipPageBytes,
    gossipAddress: String,
    selfAddress: String(config.tid),
    reportBadFrame(reason: string) {
      throw new Error(reason);
    },
  };
}

/** Takes every frame already queued on the peer ports (no event loop turn needed) and merges them. */
function receiveGossip(config: GroupConfig, context: GossipContext): void {
  const frames: Uint8Array[] = [];
  for (const port of config.peerPorts ?? []) {
    if (port === undefined) continue;
    for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port))
      frames.push(message.message as Uint8Array);
  }
  if (frames.length > 0) handleGossipFrames(context, frames);
}

main();
