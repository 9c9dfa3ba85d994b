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
 * Receiving: a burst's records are merged in bounded chunks of MERGE ops (core/merge-records.ts;
 * MERGE never marks keys dirty, since every sender reaches every replica itself). Merge is
 * a lattice join, so duplicated, reordered or late frames are harmless. A record the store
 * refuses for memory does not stop the others: it is owed (actor/merge-backlog.ts), counted
 * as a degraded replica, logged, and merged again at a later tick when room may have freed.
 * HANDOFF frames are acknowledged once all their records are merged (the sender resends
 * the others); HANDOFF_ACKs go to the replication handler, DIGESTS to anti-entropy.
 */
import { decodeRecords, RECORD_HEADER_BYTES, StoreRecord, writeRecord } from "../../core/batch";
import { mergeRecords } from "../../core/merge-records";
import { Status } from "../../core/status";
import { keyBytes, keyName } from "../../wire/key";
import { BAD_FRAME_LOG_INTERVAL_MS, BadFrameLog } from "../../protocol/bad-frame-log";
import {
  addPart,
  addPartFor,
  currentRecord,
  GossipContext,
  PartsByPeer,
  selfActor,
  sendRecordFrames,
  tracksReplicatedWrites,
} from "../gossip-context";
import { decodeGossipFrame, GossipFrameKind, handoffAckFrame } from "../gossip-frame";
import { acknowledgeHandoff, resendHandoffs, sendHandoff } from "./replication";
import type { OweOutcome } from "../merge-backlog";
import { receiveDigest } from "../anti-entropy";

/** Upper bound on pages drained per period, so one period cannot starve requests. */
const GOSSIP_PAGES_PER_PERIOD_MAX = 64;

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
    for (let page = 0; page < GOSSIP_PAGES_PER_PERIOD_MAX; page++) {
      const records = context.store.drainDirty(context.gossipPageBytes);
      if (records.length === 0) break;
      sendPage(context, records);
    }
  }
  resendHandoffs(context);
  retryOwedMerges(context, started);
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
  const acks: Array<{ sender: string; handoffId: number; firstRecord: number; endRecord: number }> = [];
  const fromOtherNodes: StoreRecord[] = [];
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
    if (frame.kind === GossipFrameKind.HANDOFF)
      acks.push({
        sender: frame.sender,
        handoffId: frame.handoffId,
        firstRecord: received.length,
        endRecord: received.length + frame.records.length,
      });
    if (frame.kind === GossipFrameKind.REMOTE_RECORDS) fromOtherNodes.push(...frame.records);
    for (const record of frame.records) received.push(record);
  }
  const owedBefore = context.state.mergeBacklog.keyCount;
  const statuses = mergeAndOwe(context, received);
  noteOwed(context, owedBefore);
  context.counters.gossipKeysReceived += received.length;
  if (!context.placement.selfOnNextRing) forwardWhileLeaving(context, received);
  if (fromOtherNodes.length > 0 && context.placement.factors.size > 0) relayToHotReplicas(context, fromOtherNodes);
  // Acknowledged only now that the handed-off values are merged; one still owed leaves its
  // frame unacknowledged, so the sender keeps the values and sends the frame again.
  for (const { sender, handoffId, firstRecord, endRecord } of acks) {
    if (!statuses.subarray(firstRecord, endRecord).includes(Status.OUT_OF_MEMORY))
      context.peers.send(sender, handoffAckFrame(context.selfAddress, handoffId));
  }
  context.counters.gossipMs += performance.now() - started;
}

/**
 * Merges records from other replicas in bounded chunks; those the store refuses for memory
 * are owed, the others' failures (a type conflict between replicas) counted, never fatal.
 * Returns each record's status.
 */
function mergeAndOwe(context: GossipContext, records: readonly StoreRecord[]): Uint8Array {
  if (records.length === 0) return new Uint8Array(0);
  const { counters, store } = context;
  const backlog = context.state.mergeBacklog;
  const statuses = mergeRecords(store, records);
  let bytesUsed: number | undefined;
  for (let index = 0; index < records.length; index++) {
    const status = statuses[index];
    if (status === Status.OK) backlog.merged(records[index].key);
    else if (status === Status.OUT_OF_MEMORY) {
      bytesUsed ??= store.stats().bytesUsed;
      const outcome = backlog.owe(records[index], bytesUsed);
      reportShortfall(context, records[index], outcome);
    } else counters.gossipMergeErrors++;
  }
  return statuses;
}

/** Shows the backlog in the counters, and logs the end of a degraded spell. */
function noteOwed(context: GossipContext, owedBefore: number): void {
  const backlog = context.state.mergeBacklog;
  context.counters.mergeKeysOwed = backlog.keyCount;
  context.counters.mergeValuesDropped = backlog.valuesDropped;
  if (owedBefore > 0 && backlog.keyCount === 0)
    context.log?.("info", `actor ${context.tid} merged every value it owed its replicas: no longer degraded`);
}

/** Merges the records owed again, when room may have freed (see MergeBacklog.retryDue). */
function retryOwedMerges(context: GossipContext, nowMs: number): void {
  const backlog = context.state.mergeBacklog;
  if (!backlog.retryDue(nowMs, context.store.stats().bytesUsed)) return;
  const owedBefore = backlog.keyCount;
  mergeAndOwe(context, backlog.takeHeld(nowMs));
  noteOwed(context, owedBefore);
}

/** Logs, at most once per interval, a value this actor could not merge for memory. */
function reportShortfall(context: GossipContext, record: StoreRecord, outcome: OweOutcome): void {
  const { state, tid } = context;
  state.mergeShortfallLog ??= new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
    context.log?.(
      "warn",
      `actor ${tid} could not merge ${count} value(s) from its replicas for memory and is a degraded replica: ` +
        `${state.mergeBacklog.keyCount} key(s) owed (retried as room frees, repaired by anti-entropy), ` +
        `${state.mergeBacklog.valuesDropped} value(s) dropped past the backlog's cap; latest: ${latest}`,
    ),
  );
  const what = {
    held: "held for a retry",
    "value-dropped": "its value dropped, the key still owed",
    "key-dropped": "dropped, not even its key kept",
  }[outcome];
  state.mergeShortfallLog.report(
    `key ${JSON.stringify(keyName(record.key).slice(0, 80))} of ${record.payload.length} bytes, ${what}`,
  );
}

/**
 * What reaches a leaving actor goes on, as acknowledged handoffs, to the key's write replicas
 * that stay (on the next ring; never to another leaving node, so two leaves cannot bounce a
 * value between them). A replica that gossiped under the layout before the leave sent its
 * write here alone, possibly after this actor's rebalance scan had passed the key; the stop
 * waits for these handoffs (rebalance.ts, handOffDirtyKeys).
 */
function forwardWhileLeaving(context: GossipContext, records: readonly StoreRecord[]): void {
  const { placement } = context;
  const self = selfActor(context);
  const partsByAddress = new Map<string, Uint8Array[]>();
  for (const record of records) {
    let bytes: Uint8Array | undefined;
    for (const actor of placement.writeReplicas(record.key)) {
      if (actor === self || !placement.isOnNextRing(actor)) continue;
      bytes ??= recordBytes(record);
      addPartFor(partsByAddress, context.gossipAddress(actor), bytes);
    }
  }
  for (const [address, parts] of partsByAddress) sendHandoff(context, parts, [address], undefined, () => {});
}

/** A record's bytes as a frame carries them (a copy). */
function recordBytes(record: StoreRecord): Uint8Array {
  const bytes = new Uint8Array(RECORD_HEADER_BYTES + record.key.length + record.payload.length);
  writeRecord(bytes, 0, record.type, record.key, record.payload);
  return bytes;
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
    const bytes = recordBytes(record);
    for (const tid of local.slice(placement.local.defaultReplication))
      addPart(partsByPeer, placement.actorIndex(tid), self, bytes);
  }
  sendRecordFrames(context, partsByPeer);
}
