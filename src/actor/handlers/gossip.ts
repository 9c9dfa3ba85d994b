/**
 * Gossip between the replicas of a key. Sending: every gossip period, drain the store's
 * dirty keys and push each record to the key's other replicas, one frame per peer per
 * page. Receiving: a frame is a run of store records; it is merged as one batch of MERGE
 * ops (which never mark keys dirty, since the sender already reaches every replica).
 * Merge is a lattice join, so duplicated, reordered or late frames are harmless.
 */
import { BATCH_HEADER_BYTES, BatchWriter, decodeBatchResults, decodeRecords, Opcode, opBytes, RECORD_HEADER_BYTES, StoreRecord } from "../../core/batch";
import { Status } from "../../core/status";
import type { Store } from "../../core/store";
import type { LocalPlacement } from "../../routing/placement";
import type { PushPool } from "../../protocol/push-pool";
import type { ActorCounters } from "../stats";

export interface GossipContext {
  tid: number;
  store: Store;
  placement: LocalPlacement;
  peers: PushPool;
  counters: ActorCounters;
  gossipPageBytes: number;
  /** The gossip address of actor `tid` of this node. */
  gossipAddress(tid: number): string;
  reportBadFrame(reason: string): void;
}

/** Upper bound on pages drained per period, so one period cannot starve requests. */
const MAX_GOSSIP_PAGES_PER_PERIOD = 64;

export function sendDirtyKeys(context: GossipContext): void {
  const started = performance.now();
  // With one replica per key there is nobody to tell: the marks are only cleared, which
  // skips decoding every record and hashing its key (up to ~40% of a worker's time
  // under an update-only load, bench/scaling).
  const soleReplicas = context.placement.replication === 1;
  for (let page = 0; page < MAX_GOSSIP_PAGES_PER_PERIOD; page++) {
    const records = context.store.drainDirty(context.gossipPageBytes);
    if (records.length === 0) break;
    if (!soleReplicas) sendPage(context, records);
  }
  context.counters.gossipMs += performance.now() - started;
}

function sendPage(context: GossipContext, records: Uint8Array): void {
  const partsByPeer = new Map<number, Uint8Array[]>();
  let offset = 0;
  for (const record of decodeRecords(records)) {
    const length = RECORD_HEADER_BYTES + record.key.length + record.payload.length;
    const bytes = records.subarray(offset, offset + length);
    offset += length;
    for (const peer of context.placement.replicas(record.key)) {
      if (peer === context.tid) continue;
      let parts = partsByPeer.get(peer);
      if (parts === undefined) partsByPeer.set(peer, (parts = []));
      parts.push(bytes);
    }
  }
  // Buffer.concat copies: the records are engine memory that the next store call reuses.
  for (const [peer, parts] of partsByPeer) {
    context.peers.send(context.gossipAddress(peer), Buffer.concat(parts));
    context.counters.gossipFramesSent++;
    context.counters.gossipKeysSent += parts.length;
  }
}

export function handleGossipFrames(context: GossipContext, frames: readonly Uint8Array[]): void {
  const started = performance.now();
  const received: StoreRecord[] = [];
  let batchBytes = BATCH_HEADER_BYTES;
  for (const frame of frames) {
    let records: StoreRecord[];
    try {
      records = decodeRecords(frame);
    } catch (error) {
      context.counters.badFrames++;
      context.reportBadFrame(`gossip frame: ${(error as Error).message}`);
      continue;
    }
    context.counters.gossipFramesReceived++;
    for (const record of records) {
      received.push(record);
      batchBytes += opBytes(record.key.length, record.payload.length);
    }
  }
  if (received.length > 0) {
    const writer = new BatchWriter(context.store.batchBuffer(batchBytes));
    for (const record of received) writer.add(Opcode.MERGE, record.type, record.key, record.payload);
    // Per-op failures (a type conflict between replicas) are counted, never fatal.
    const output = context.store.executeBatchInPlace(writer.finish());
    for (const result of decodeBatchResults(output)) if (result.status !== Status.OK) context.counters.gossipMergeErrors++;
    context.counters.gossipKeysReceived += received.length;
  }
  context.counters.gossipMs += performance.now() - started;
}
