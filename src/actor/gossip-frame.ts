/**
 * Frames on an actor's gossip socket. Byte 0 says what follows:
 *   RECORDS      store records (docs/wasm-abi.md, "Record format") to merge
 *   HANDOFF      u16 sender tid, u32 handoff id, then records: merge, then acknowledge
 *   HANDOFF_ACK  u16 sender tid, u32 handoff id: the sender holds what was handed off
 * Little-endian. A handoff is how an actor that stops being a replica of a key makes sure
 * the remaining replicas hold its value before it drops the key.
 */
import { decodeRecords, StoreRecord } from "../core/batch";

export enum GossipFrameKind {
  RECORDS = 1,
  HANDOFF = 2,
  HANDOFF_ACK = 3,
}

const KIND_BYTES = 1;
const HANDOFF_HEADER_BYTES = KIND_BYTES + 2 + 4;
const MAX_TID = 0xffff;

export type GossipFrame =
  | { kind: GossipFrameKind.RECORDS; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF; senderTid: number; handoffId: number; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF_ACK; senderTid: number; handoffId: number };

/** One RECORDS frame from record byte runs (copied: they may be engine memory). */
export function recordsFrame(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat([Uint8Array.of(GossipFrameKind.RECORDS), ...parts]);
}

export function handoffFrame(senderTid: number, handoffId: number, records: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HANDOFF_HEADER_BYTES + records.length);
  writeHandoffHeader(frame, GossipFrameKind.HANDOFF, senderTid, handoffId);
  frame.set(records, HANDOFF_HEADER_BYTES);
  return frame;
}

export function handoffAckFrame(senderTid: number, handoffId: number): Buffer {
  const frame = Buffer.allocUnsafe(HANDOFF_HEADER_BYTES);
  writeHandoffHeader(frame, GossipFrameKind.HANDOFF_ACK, senderTid, handoffId);
  return frame;
}

function writeHandoffHeader(frame: Buffer, kind: GossipFrameKind, senderTid: number, handoffId: number): void {
  if (!Number.isInteger(senderTid) || senderTid < 0 || senderTid > MAX_TID) throw new RangeError(`bad sender tid ${senderTid}`);
  frame.writeUInt8(kind, 0);
  frame.writeUInt16LE(senderTid, 1);
  frame.writeUInt32LE(handoffId >>> 0, 3);
}

/** Throws on anything malformed; the records are views into `frame`. */
export function decodeGossipFrame(frame: Uint8Array): GossipFrame {
  if (frame.length < KIND_BYTES) throw new Error("empty gossip frame");
  const kind = frame[0];
  if (kind === GossipFrameKind.RECORDS) return { kind, records: decodeRecords(frame.subarray(KIND_BYTES)) };
  if (kind !== GossipFrameKind.HANDOFF && kind !== GossipFrameKind.HANDOFF_ACK) throw new Error(`unknown gossip frame kind ${kind}`);
  if (frame.length < HANDOFF_HEADER_BYTES) throw new Error("gossip frame shorter than its header");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const senderTid = view.getUint16(1, true);
  const handoffId = view.getUint32(3, true);
  if (kind === GossipFrameKind.HANDOFF_ACK) {
    if (frame.length !== HANDOFF_HEADER_BYTES) throw new Error("handoff ack with trailing bytes");
    return { kind, senderTid, handoffId };
  }
  return { kind, senderTid, handoffId, records: decodeRecords(frame.subarray(HANDOFF_HEADER_BYTES)) };
}
