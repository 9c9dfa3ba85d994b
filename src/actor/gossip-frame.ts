/**
 * Frames on an actor's gossip socket. Byte 0 says what follows:
 *   RECORDS      store records (docs/wasm-abi.md, "Record format") to merge
 *   REMOTE_RECORDS  as RECORDS, from an actor of another node: merged, then passed on to
 *                the replicas this node adds for hot keys, which the sender cannot know of
 *   HANDOFF      u16 length + the sender's gossip address (UTF-8), u32 handoff id, then
 *                records: merge, then acknowledge to that address
 *   HANDOFF_ACK  u16 length + the acknowledging actor's gossip address, u32 handoff id: it
 *                holds what was handed off
 *   DIGESTS      u16 length + the sender's gossip address, u32 bucket count, then per
 *                bucket u32 high, u32 low: its anti-entropy digest of the keys it shares
 *                with the receiver (actor/anti-entropy.ts)
 * Little-endian. A handoff is how an actor makes sure another holds a value: before it drops
 * a key it stops replicating, and for each page a rebalance sends (actor/rebalance.ts).
 * Actors are named by gossip address, which means the same on every node.
 */
import { decodeRecords, StoreRecord } from "../core/batch";

export enum GossipFrameKind {
  RECORDS = 1,
  HANDOFF = 2,
  HANDOFF_ACK = 3,
  // 4-6 were numbered replication-factor frames; factors are now state the main thread sends.
  DIGESTS = 7,
  REMOTE_RECORDS = 8,
}

const KIND_BYTES = 1;
/** Kind, address length, handoff id: the header without the address. */
const HANDOFF_FIXED_BYTES = KIND_BYTES + 2 + 4;
const ADDRESS_BYTES_MAX = 0xffff;

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export type GossipFrame =
  | { kind: GossipFrameKind.RECORDS | GossipFrameKind.REMOTE_RECORDS; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF; sender: string; handoffId: number; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF_ACK; sender: string; handoffId: number }
  | { kind: GossipFrameKind.DIGESTS; sender: string; digest: Uint32Array };

/** One RECORDS (or REMOTE_RECORDS) frame from record byte runs (copied: they may be engine memory). */
export function recordsFrame(
  parts: readonly Uint8Array[],
  kind: GossipFrameKind.RECORDS | GossipFrameKind.REMOTE_RECORDS = GossipFrameKind.RECORDS,
): Buffer {
  return Buffer.concat([Uint8Array.of(kind), ...parts]);
}

/** A HANDOFF of record byte runs (copied into the frame). */
export function handoffFrame(sender: string, handoffId: number, parts: readonly Uint8Array[]): Buffer {
  const address = Buffer.from(sender);
  const frame = Buffer.allocUnsafe(
    HANDOFF_FIXED_BYTES + address.length + parts.reduce((sum, part) => sum + part.length, 0),
  );
  let offset = writeHandoffHeader(frame, GossipFrameKind.HANDOFF, address, handoffId);
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.length;
  }
  return frame;
}

/** An anti-entropy digest: `digest` holds (high, low) per bucket. */
export function digestsFrame(sender: string, digest: Uint32Array): Buffer {
  const address = Buffer.from(sender);
  const frame = Buffer.allocUnsafe(HANDOFF_FIXED_BYTES + address.length + digest.byteLength);
  // The header is a handoff's, the bucket count in place of the id.
  const start = writeHandoffHeader(frame, GossipFrameKind.DIGESTS, address, digest.length / 2);
  for (let i = 0; i < digest.length; i++) frame.writeUInt32LE(digest[i], start + 4 * i);
  return frame;
}

export function handoffAckFrame(sender: string, handoffId: number): Buffer {
  const address = Buffer.from(sender);
  const frame = Buffer.allocUnsafe(HANDOFF_FIXED_BYTES + address.length);
  writeHandoffHeader(frame, GossipFrameKind.HANDOFF_ACK, address, handoffId);
  return frame;
}

/** Writes kind, address and id; returns where the records start. */
function writeHandoffHeader(frame: Buffer, kind: GossipFrameKind, address: Uint8Array, handoffId: number): number {
  if (address.length === 0 || address.length > ADDRESS_BYTES_MAX)
    throw new RangeError(`bad sender address of ${address.length} bytes`);
  frame.writeUInt8(kind, 0);
  frame.writeUInt16LE(address.length, 1);
  frame.set(address, 3);
  frame.writeUInt32LE(handoffId >>> 0, 3 + address.length);
  return HANDOFF_FIXED_BYTES + address.length;
}

/** Throws on anything malformed; the records are views into `frame`. */
export function decodeGossipFrame(frame: Uint8Array): GossipFrame {
  if (frame.length < KIND_BYTES) throw new Error("empty gossip frame");
  const kind = frame[0];
  if (kind === GossipFrameKind.RECORDS || kind === GossipFrameKind.REMOTE_RECORDS)
    return { kind, records: decodeRecords(frame.subarray(KIND_BYTES)) };
  if (kind !== GossipFrameKind.HANDOFF && kind !== GossipFrameKind.HANDOFF_ACK && kind !== GossipFrameKind.DIGESTS)
    throw new Error(`unknown gossip frame kind ${kind}`);
  if (frame.length < HANDOFF_FIXED_BYTES) throw new Error("gossip frame shorter than its header");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const addressLength = view.getUint16(1, true);
  const headerBytes = HANDOFF_FIXED_BYTES + addressLength;
  if (addressLength === 0 || frame.length < headerBytes)
    throw new Error("handoff frame ends inside its sender address");
  const sender = strictDecoder.decode(frame.subarray(3, 3 + addressLength));
  const handoffId = view.getUint32(3 + addressLength, true);
  if (kind === GossipFrameKind.HANDOFF_ACK) {
    if (frame.length !== headerBytes) throw new Error("handoff ack with trailing bytes");
    return { kind, sender, handoffId };
  }
  if (kind === GossipFrameKind.DIGESTS) {
    // handoffId is the bucket count here.
    if (frame.length !== headerBytes + 8 * handoffId)
      throw new Error(`digests frame of ${frame.length} bytes for ${handoffId} buckets`);
    const digest = new Uint32Array(2 * handoffId);
    for (let i = 0; i < digest.length; i++) digest[i] = view.getUint32(headerBytes + 4 * i, true);
    return { kind, sender, digest };
  }
  return { kind, sender, handoffId, records: decodeRecords(frame.subarray(headerBytes)) };
}
