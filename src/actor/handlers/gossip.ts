/**
 * Gossip between the replicas of a key, and the handoffs that move keys when a key's
 * replication factor changes (selective replication).
 *
 * Sending, every gossip period: the merged values of keys written since the last period go
 * to the key's other replicas, one frame per peer per page. Where keys have one replica by
 * default, the store's dirty marks are discarded unread and the actor sends just the keys
 * it saw written with a factor above one (tracked by the request handler); otherwise each
 * drained dirty record goes to the replicas the placement gives for it.
 *
 * Receiving: a frame's records are merged as one batch of MERGE ops (which never mark keys
 * dirty, since every sender reaches every replica itself). Merge is a lattice join, so
 * duplicated, reordered or late frames are harmless.
 *
 * When a key's factor changes, each actor that held it sends its value to the replicas that
 * are new to the key; an actor that stops being a replica hands its value to every
 * remaining replica and drops the key only once each has acknowledged the merge (resent
 * until then, so no write it accepted is lost).
 */
import { BATCH_HEADER_BYTES, BatchWriter, decodeBatchResults, decodeRecords, Opcode, opBytes, RECORD_HEADER_BYTES, StoreRecord, writeRecord } from "../../core/batch";
import { Status } from "../../core/status";
import type { Store } from "../../core/store";
import type { LocalPlacement } from "../../routing/placement";
import type { ReplicationFactor } from "../../routing/replication-factors";
import type { PushPool } from "../../protocol/push-pool";
import type { ActorCounters } from "../stats";
import { decodeGossipFrame, GossipFrameKind, handoffAckFrame, handoffFrame, recordsFrame } from "../gossip-frame";

export interface PendingHandoff {
  key: Uint8Array;
  name: string;
  /** Remaining replicas that have not acknowledged yet. */
  waiting: Set<number>;
  sentAtMs: number;
}

/** What gossip remembers between calls; one per actor. */
export interface GossipState {
  /** Keys written with a factor above one while keys have one replica by default. */
  replicatedWrites: Set<string>;
  handoffs: Map<number, PendingHandoff>;
  nextHandoffId: number;
}

export function newGossipState(): GossipState {
  return { replicatedWrites: new Set(), handoffs: new Map(), nextHandoffId: 1 };
}

export interface GossipContext {
  tid: number;
  store: Store;
  placement: LocalPlacement;
  peers: PushPool;
  counters: ActorCounters;
  state: GossipState;
  gossipPageBytes: number;
  /** The gossip address of actor `tid` of this node. */
  gossipAddress(tid: number): string;
  reportBadFrame(reason: string): void;
}

/** Upper bound on pages drained per period, so one period cannot starve requests. */
const MAX_GOSSIP_PAGES_PER_PERIOD = 64;
/**
 * Received records are merged in store batches of at most this many bytes: a burst from
 * many peers (full replication at low skew sends up to 64 pages a period each) would
 * otherwise need one input region larger than the store's memory.
 */
const MAX_MERGE_BATCH_BYTES = 8 * 1024 * 1024;
/** An unacknowledged handoff is sent again after this long (merging twice is harmless). */
export const HANDOFF_RESEND_MS = 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** True where the request handler must report writes of replicated keys (see module doc). */
export function tracksReplicatedWrites(placement: LocalPlacement): boolean {
  return placement.defaultReplication === 1 && !placement.fullyReplicated;
}

export function sendDirtyKeys(context: GossipContext): void {
  const started = performance.now();
  if (context.placement.threadCount === 1 || tracksReplicatedWrites(context.placement)) {
    // The store's marks are cleared unread: copying out, decoding and hashing every dirty
    // record for nobody took up to ~40% of a worker's time under an update-only load
    // (bench/scaling). Replicated keys were noted by the request handler.
    context.store.discardDirty();
    if (context.state.replicatedWrites.size > 0) {
      sendCurrentValues(context, context.state.replicatedWrites);
      context.state.replicatedWrites.clear();
    }
  } else {
    for (let page = 0; page < MAX_GOSSIP_PAGES_PER_PERIOD; page++) {
      const records = context.store.drainDirty(context.gossipPageBytes);
      if (records.length === 0) break;
      sendPage(context, records);
    }
  }
  resendHandoffs(context);
  context.counters.gossipMs += performance.now() - started;
}

function sendPage(context: GossipContext, records: Uint8Array): void {
  const partsByPeer = new Map<number, Uint8Array[]>();
  const decodeNames = context.placement.hasKeyFactors;
  let offset = 0;
  for (const record of decodeRecords(records)) {
    const length = RECORD_HEADER_BYTES + record.key.length + record.payload.length;
    const bytes = records.subarray(offset, offset + length);
    offset += length;
    const name = decodeNames ? decoder.decode(record.key) : undefined;
    for (const peer of context.placement.replicas(record.key, name)) addPart(partsByPeer, peer, context.tid, bytes);
  }
  sendRecordFrames(context, partsByPeer);
}

function addPart(partsByPeer: Map<number, Uint8Array[]>, peer: number, self: number, bytes: Uint8Array): void {
  if (peer === self) return;
  let parts = partsByPeer.get(peer);
  if (parts === undefined) partsByPeer.set(peer, (parts = []));
  parts.push(bytes);
}

function sendRecordFrames(context: GossipContext, partsByPeer: Map<number, Uint8Array[]>): void {
  for (const [peer, parts] of partsByPeer) {
    context.peers.send(context.gossipAddress(peer), recordsFrame(parts));
    context.counters.gossipFramesSent++;
    context.counters.gossipKeysSent += parts.length;
  }
}

/** The store's value of a key as one record (a copy), or undefined when it holds none. */
function currentRecord(store: Store, key: Uint8Array): Uint8Array | undefined {
  const value = store.get(key);
  if (value === undefined) return undefined;
  const record = new Uint8Array(RECORD_HEADER_BYTES + key.length + value.payload.length);
  writeRecord(record, 0, value.type, key, value.payload);
  return record;
}

function sendCurrentValues(context: GossipContext, names: Iterable<string>): void {
  const partsByPeer = new Map<number, Uint8Array[]>();
  for (const name of names) {
    const key = encoder.encode(name);
    const record = currentRecord(context.store, key);
    if (record === undefined) continue;
    for (const peer of context.placement.replicas(key, name)) addPart(partsByPeer, peer, context.tid, record);
  }
  sendRecordFrames(context, partsByPeer);
}

/**
 * Joins factor updates into the actor's placement and moves values accordingly: seeds the
 * replicas new to a key, hands the key to the remaining replicas where this actor leaves.
 */
export function applyReplicationFactors(context: GossipContext, updates: readonly ReplicationFactor[]): void {
  const { placement, tid, state } = context;
  for (const update of updates) {
    const name = update.key;
    const key = encoder.encode(name);
    const before = placement.replicas(key, name);
    if (placement.mergeFactors([update]).length === 0) continue;
    const after = placement.replicas(key, name);
    const staying = after.includes(tid);
    if (staying) cancelHandoffs(state, name);
    if (!before.includes(tid)) continue;
    const record = currentRecord(context.store, key);
    if (record === undefined) continue;
    if (staying) {
      const partsByPeer = new Map<number, Uint8Array[]>();
      for (const peer of after) if (!before.includes(peer)) addPart(partsByPeer, peer, tid, record);
      sendRecordFrames(context, partsByPeer);
    } else {
      const handoffId = state.nextHandoffId++;
      const handoff: PendingHandoff = { key, name, waiting: new Set(after), sentAtMs: 0 };
      state.handoffs.set(handoffId, handoff);
      sendHandoff(context, handoffId, handoff, record);
    }
  }
}

function cancelHandoffs(state: GossipState, name: string): void {
  for (const [id, handoff] of state.handoffs) if (handoff.name === name) state.handoffs.delete(id);
}

function sendHandoff(context: GossipContext, handoffId: number, handoff: PendingHandoff, record: Uint8Array): void {
  handoff.sentAtMs = performance.now();
  for (const peer of handoff.waiting) {
    context.peers.send(context.gossipAddress(peer), handoffFrame(context.tid, handoffId, record));
    context.counters.handoffFramesSent++;
  }
}

function resendHandoffs(context: GossipContext): void {
  const due = performance.now() - HANDOFF_RESEND_MS;
  for (const [handoffId, handoff] of context.state.handoffs) {
    if (handoff.sentAtMs > due) continue;
    const record = currentRecord(context.store, handoff.key);
    if (record === undefined) context.state.handoffs.delete(handoffId);
    else sendHandoff(context, handoffId, handoff, record);
  }
}

function acknowledgeHandoff(context: GossipContext, senderTid: number, handoffId: number): void {
  const handoff = context.state.handoffs.get(handoffId);
  if (handoff === undefined) return;
  handoff.waiting.delete(senderTid);
  if (handoff.waiting.size > 0) return;
  context.state.handoffs.delete(handoffId);
  // Every remaining replica has merged this actor's value: dropping it loses nothing.
  if (!context.placement.isReplica(handoff.key, context.tid, handoff.name) && context.store.delete(handoff.key)) {
    context.counters.keysDropped++;
  }
}

export function handleGossipFrames(context: GossipContext, frames: readonly Uint8Array[]): void {
  const started = performance.now();
  const received: StoreRecord[] = [];
  const acks: Array<{ senderTid: number; handoffId: number }> = [];
  let batchBytes = BATCH_HEADER_BYTES;
  for (const bytes of frames) {
    let frame;
    try {
      frame = decodeGossipFrame(bytes);
    } catch (error) {
      context.counters.badFrames++;
      context.reportBadFrame(`gossip frame: ${(error as Error).message}`);
      continue;
    }
    if (frame.kind !== GossipFrameKind.RECORDS && (frame.senderTid >= context.placement.threadCount || frame.senderTid === context.tid)) {
      context.counters.badFrames++;
      context.reportBadFrame(`gossip frame from actor ${frame.senderTid}, which is not a peer of actor ${context.tid}`);
      continue;
    }
    context.counters.gossipFramesReceived++;
    if (frame.kind === GossipFrameKind.HANDOFF_ACK) {
      acknowledgeHandoff(context, frame.senderTid, frame.handoffId);
      continue;
    }
    if (frame.kind === GossipFrameKind.HANDOFF) acks.push(frame);
    for (const record of frame.records) {
      const recordBytes = opBytes(record.key.length, record.payload.length);
      if (received.length > 0 && batchBytes + recordBytes > MAX_MERGE_BATCH_BYTES) {
        mergeRecords(context, received, batchBytes);
        received.length = 0;
        batchBytes = BATCH_HEADER_BYTES;
      }
      received.push(record);
      batchBytes += recordBytes;
    }
  }
  if (received.length > 0) mergeRecords(context, received, batchBytes);
  // Acknowledged only now that the handed-off values are merged.
  for (const { senderTid, handoffId } of acks) context.peers.send(context.gossipAddress(senderTid), handoffAckFrame(context.tid, handoffId));
  context.counters.gossipMs += performance.now() - started;
}

/** One store batch of MERGE ops; per-op failures (a type conflict between replicas) are counted, never fatal. */
function mergeRecords(context: GossipContext, records: readonly StoreRecord[], batchBytes: number): void {
  const writer = new BatchWriter(context.store.batchBuffer(batchBytes));
  for (const record of records) writer.add(Opcode.MERGE, record.type, record.key, record.payload);
  const output = context.store.executeBatchInPlace(writer.finish());
  for (const result of decodeBatchResults(output)) if (result.status !== Status.OK) context.counters.gossipMergeErrors++;
  context.counters.gossipKeysReceived += records.length;
}
