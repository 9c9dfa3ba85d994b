/**
 * Gossip between the replicas of a key.
 *
 * Sending, every gossip period: the merged values of keys written since the last period go
 * to the key's other replicas, one frame per peer per page. Where keys have one replica by
 * default (or the actor is alone), the store's dirty marks are discarded unread and the
 * actor sends just the keys it saw written with a factor above one (noted by the request
 * handler); otherwise each drained dirty record goes to the replicas the placement gives
 * for it. Unacknowledged handoffs (handlers/replication.ts) are resent from here too; gossip
 * that was lost is made up for by anti-entropy (actor/anti-entropy.ts).
 *
 * Receiving: a frame's records are merged as batches of MERGE ops (which never mark keys
 * dirty, since every sender reaches every replica itself). Merge is a lattice join, so
 * duplicated, reordered or late frames are harmless. HANDOFF frames are acknowledged once
 * merged; HANDOFF_ACKs go to the replication handler, DIGESTS to anti-entropy.
 */
import { BATCH_HEADER_BYTES, BatchWriter, decodeBatchResults, decodeRecords, Opcode, opBytes, RECORD_HEADER_BYTES, StoreRecord, writeRecord } from "../../core/batch";
import { Status } from "../../core/status";
import { keyBytes } from "../../core/key";
import { addPart, currentRecord, GossipContext, PartsByPeer, selfActor, sendRecordFrames, tracksReplicatedWrites } from "../gossip-context";
import { decodeGossipFrame, GossipFrameKind, handoffAckFrame } from "../gossip-frame";
import { acknowledgeHandoff, resendHandoffs } from "./replication";
import { receiveDigest } from "../anti-entropy";

/** Upper bound on pages drained per period, so one period cannot starve requests. */
const MAX_GOSSIP_PAGES_PER_PERIOD = 64;
/**
 * Received records are merged in store batches of at most this many bytes: a burst from
 * many peers (full replication at low skew sends up to 64 pages a period each) would
 * otherwise need one input region larger than the store's memory.
 */
const MAX_MERGE_BATCH_BYTES = 8 * 1024 * 1024;

export function sendDirtyKeys(context: GossipContext): void {
  const started = performance.now();
  if (tracksReplicatedWrites(context.placement)) {
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
  const partsByPeer: PartsByPeer = new Map();
  const self = selfActor(context);
  forEachRecord(records, (key, bytes) => {
    for (const peer of context.placement.writeReplicas(key)) addPart(partsByPeer, peer, self, bytes);
  });
  sendRecordFrames(context, partsByPeer);
}

/** Each record of a page with its key and its own bytes (views into `records`). */
export function forEachRecord(records: Uint8Array, visit: (key: Uint8Array, bytes: Uint8Array) => void): void {
  let offset = 0;
  for (const record of decodeRecords(records)) {
    const length = RECORD_HEADER_BYTES + record.key.length + record.payload.length;
    visit(record.key, records.subarray(offset, offset + length));
    offset += length;
  }
}

/** The current values of the keys named, to their other replicas. */
function sendCurrentValues(context: GossipContext, names: Iterable<string>): void {
  const partsByPeer: PartsByPeer = new Map();
  const self = selfActor(context);
  for (const name of names) {
    const key = keyBytes(name);
    const record = currentRecord(context.store, key);
    if (record === undefined) continue;
    for (const peer of context.placement.writeReplicas(key, name)) addPart(partsByPeer, peer, self, record);
  }
  sendRecordFrames(context, partsByPeer);
}

export function handleGossipFrames(context: GossipContext, frames: readonly Uint8Array[]): void {
  const started = performance.now();
  const received: StoreRecord[] = [];
  const acks: Array<{ sender: string; handoffId: number }> = [];
  const fromOtherNodes: StoreRecord[] = [];
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
    if ("sender" in frame && frame.sender === context.selfAddress) {
      context.counters.badFrames++;
      context.reportBadFrame(`handoff frame naming actor ${context.tid} itself as its sender`);
      continue;
    }
    context.counters.gossipFramesReceived++;
    if (frame.kind === GossipFrameKind.HANDOFF_ACK) {
      acknowledgeHandoff(context, frame.sender, frame.handoffId);
      continue;
    }
    if (frame.kind === GossipFrameKind.DIGESTS) {
      if (context.antiEntropy !== undefined) receiveDigest(context.antiEntropy, frame.sender, frame.digest);
      continue;
    }
    if (frame.kind === GossipFrameKind.HANDOFF) acks.push(frame);
    if (frame.kind === GossipFrameKind.REMOTE_RECORDS) fromOtherNodes.push(...frame.records);
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
  if (fromOtherNodes.length > 0 && context.placement.factors.size > 0) relayToHotReplicas(context, fromOtherNodes);
  // Acknowledged only now that the handed-off values are merged.
  for (const { sender, handoffId } of acks) context.peers.send(sender, handoffAckFrame(context.selfAddress, handoffId));
  context.counters.gossipMs += performance.now() - started;
}


/**
 * Records from another node reach this node's default replicas of each key (all the sender
 * knows of); a hot key's further replicas here get them from its primary, after the merge.
 */
function relayToHotReplicas(context: GossipContext, records: readonly StoreRecord[]): void {
  const { placement } = context;
  const self = selfActor(context);
  const partsByPeer: PartsByPeer = new Map();
  for (const record of records) {
    const local = placement.localReplicas(record.key);
    if (local.length <= placement.local.defaultReplication || placement.actorIndex(local[0]) !== self) continue;
    const bytes = new Uint8Array(RECORD_HEADER_BYTES + record.key.length + record.payload.length);
    writeRecord(bytes, 0, record.type, record.key, record.payload);
    for (const tid of local.slice(placement.local.defaultReplication)) addPart(partsByPeer, placement.actorIndex(tid), self, bytes);
  }
  sendRecordFrames(context, partsByPeer);
}

/** One store batch of MERGE ops; per-op failures (a type conflict between replicas) are counted, never fatal. */
function mergeRecords(context: GossipContext, records: readonly StoreRecord[], batchBytes: number): void {
  const writer = new BatchWriter(context.store.batchBuffer(batchBytes));
  for (const record of records) writer.add(Opcode.MERGE, record.type, record.key, record.payload);
  const output = context.store.executeBatchInPlace(writer.finish());
  for (const result of decodeBatchResults(output)) if (result.status !== Status.OK) context.counters.gossipMergeErrors++;
  context.counters.gossipKeysReceived += records.length;
}
