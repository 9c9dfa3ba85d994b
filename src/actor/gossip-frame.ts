/**
 * Frames on an actor's gossip socket. Byte 0 says what follows:
 *   RECORDS      store records (docs/wasm-abi.md, "Record format") to merge
 *   REMOTE_RECORDS  as RECORDS, from an actor of another node: merged, then passed on to
 *                the replicas this node adds for hot keys, which the sender cannot know of
 *   HANDOFF      u16 length + the sender's gossip address (UTF-8), u32 handoff id, then
 *                records: merge, then acknowledge to that address
 *   HANDOFF_ACK  u16 length + the acknowledging actor's gossip address, u32 handoff id: it
 *                holds what was handed off
 *   FACTORS      u32 count, then per entry: u32 key length, key (UTF-8), u16 factor,
 *                f64 version: per-key replication factors, a lattice merged on receipt
 *   FACTORS_SETTLED  f64 version: every actor has seen every factor update up to it
 *                (routing/replication-factors.ts, "settling")
 *   FACTORS_SNAPSHOT f64 version, then as FACTORS: every entry the node holds, which
 *                together stand for every update up to that version (sent to an actor
 *                that missed a FACTORS frame)
 *   DIGESTS      u16 length + the sender's gossip address, u32 bucket count, then per
 *                bucket u32 high, u32 low: its anti-entropy digest of the keys it shares
 *                with the receiver (actor/anti-entropy.ts)
 * Little-endian. A handoff is how an actor makes sure another holds a value: before it drops
 * a key it stops replicating, and for each page a rebalance sends (actor/rebalance.ts).
 * Actors are named by gossip address, which means the same on every node.
 */
import { decodeRecords, StoreRecord } from "../core/batch";
import { keyBytes } from "../core/key";
import type { ReplicationFactor } from "../routing/replication-factors";

export enum GossipFrameKind {
  RECORDS = 1,
  HANDOFF = 2,
  HANDOFF_ACK = 3,
  FACTORS = 4,
  FACTORS_SETTLED = 5,
  FACTORS_SNAPSHOT = 6,
  DIGESTS = 7,
  REMOTE_RECORDS = 8,
}

const KIND_BYTES = 1;
/** Kind, address length, handoff id: the header without the address. */
const HANDOFF_FIXED_BYTES = KIND_BYTES + 2 + 4;
const MAX_ADDRESS_BYTES = 0xffff;
const FACTORS_HEADER_BYTES = KIND_BYTES + 4;
const VERSION_BYTES = 8;
const FACTORS_SETTLED_BYTES = KIND_BYTES + VERSION_BYTES;
/** Key length, factor, version. */
const FACTOR_ENTRY_FIXED_BYTES = 4 + 2 + 8;
const MAX_FACTOR = 0xffff;

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export type GossipFrame =
  | { kind: GossipFrameKind.RECORDS | GossipFrameKind.REMOTE_RECORDS; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF; sender: string; handoffId: number; records: StoreRecord[] }
  | { kind: GossipFrameKind.HANDOFF_ACK; sender: string; handoffId: number }
  | { kind: GossipFrameKind.FACTORS; factors: ReplicationFactor[] }
  | { kind: GossipFrameKind.FACTORS_SETTLED; version: number }
  | { kind: GossipFrameKind.FACTORS_SNAPSHOT; version: number; factors: ReplicationFactor[] }
  | { kind: GossipFrameKind.DIGESTS; sender: string; digest: Uint32Array };

/** One RECORDS (or REMOTE_RECORDS) frame from record byte runs (copied: they may be engine memory). */
export function recordsFrame(parts: readonly Uint8Array[], kind: GossipFrameKind.RECORDS | GossipFrameKind.REMOTE_RECORDS = GossipFrameKind.RECORDS): Buffer {
  return Buffer.concat([Uint8Array.of(kind), ...parts]);
}

/** A HANDOFF of record byte runs (copied into the frame). */
export function handoffFrame(sender: string, handoffId: number, parts: readonly Uint8Array[]): Buffer {
  const address = Buffer.from(sender);
  const frame = Buffer.allocUnsafe(HANDOFF_FIXED_BYTES + address.length + parts.reduce((sum, part) => sum + part.length, 0));
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

export function factorsFrame(factors: readonly ReplicationFactor[]): Buffer {
  return writeFactorsFrame(GossipFrameKind.FACTORS, undefined, factors);
}

/** Every entry the node holds, standing for every factor update up to `version`. */
export function factorsSnapshotFrame(version: number, factors: readonly ReplicationFactor[]): Buffer {
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`bad snapshot version ${version}`);
  return writeFactorsFrame(GossipFrameKind.FACTORS_SNAPSHOT, version, factors);
}

/** The kind byte, the version if given, then the entries. */
function writeFactorsFrame(kind: GossipFrameKind, version: number | undefined, factors: readonly ReplicationFactor[]): Buffer {
  const keys = factors.map(({ key }) => keyBytes(key));
  const versionBytes = version === undefined ? 0 : VERSION_BYTES;
  const frame = Buffer.allocUnsafe(FACTORS_HEADER_BYTES + versionBytes + keys.reduce((sum, key) => sum + FACTOR_ENTRY_FIXED_BYTES + key.length, 0));
  frame.writeUInt8(kind, 0);
  if (version !== undefined) frame.writeDoubleLE(version, KIND_BYTES);
  frame.writeUInt32LE(factors.length, KIND_BYTES + versionBytes);
  let offset = FACTORS_HEADER_BYTES + versionBytes;
  factors.forEach(({ factor, version }, index) => {
    if (!Number.isInteger(factor) || factor < 1 || factor > MAX_FACTOR) throw new RangeError(`bad replication factor ${factor}`);
    frame.writeUInt32LE(keys[index].length, offset);
    frame.set(keys[index], offset + 4);
    offset += 4 + keys[index].length;
    frame.writeUInt16LE(factor, offset);
    frame.writeDoubleLE(version, offset + 2);
    offset += 10;
  });
  return frame;
}

/** The entries of a FACTORS frame, or of a FACTORS_SNAPSHOT frame after its version (`versionBytes`). */
function decodeFactors(frame: Uint8Array, versionBytes = 0): ReplicationFactor[] {
  const headerBytes = FACTORS_HEADER_BYTES + versionBytes;
  if (frame.length < headerBytes) throw new Error("factors frame shorter than its header");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint32(KIND_BYTES + versionBytes, true);
  if (count > (frame.length - headerBytes) / FACTOR_ENTRY_FIXED_BYTES) throw new Error(`factors frame claims ${count} entries`);
  const factors: ReplicationFactor[] = [];
  let offset = headerBytes;
  for (let i = 0; i < count; i++) {
    if (offset + FACTOR_ENTRY_FIXED_BYTES > frame.length) throw new Error("factors frame ends inside an entry");
    const keyLength = view.getUint32(offset, true);
    if (offset + FACTOR_ENTRY_FIXED_BYTES + keyLength > frame.length) throw new Error("factors frame ends inside a key");
    const key = strictDecoder.decode(frame.subarray(offset + 4, offset + 4 + keyLength));
    offset += 4 + keyLength;
    const factor = view.getUint16(offset, true);
    const version = view.getFloat64(offset + 2, true);
    offset += 10;
    if (factor < 1 || !Number.isSafeInteger(version)) throw new Error(`bad factor entry for ${JSON.stringify(key.slice(0, 80))}`);
    factors.push({ key, factor, version });
  }
  if (offset !== frame.length) throw new Error("factors frame with trailing bytes");
  return factors;
}

/** Writes kind, address and id; returns where the records start. */
function writeHandoffHeader(frame: Buffer, kind: GossipFrameKind, address: Uint8Array, handoffId: number): number {
  if (address.length === 0 || address.length > MAX_ADDRESS_BYTES) throw new RangeError(`bad sender address of ${address.length} bytes`);
  frame.writeUInt8(kind, 0);
  frame.writeUInt16LE(address.length, 1);
  frame.set(address, 3);
  frame.writeUInt32LE(handoffId >>> 0, 3 + address.length);
  return HANDOFF_FIXED_BYTES + address.length;
}

export function factorsSettledFrame(version: number): Buffer {
  if (!Number.isSafeInteger(version) || version < 1) throw new RangeError(`bad settled version ${version}`);
  const frame = Buffer.allocUnsafe(FACTORS_SETTLED_BYTES);
  frame.writeUInt8(GossipFrameKind.FACTORS_SETTLED, 0);
  frame.writeDoubleLE(version, KIND_BYTES);
  return frame;
}

function decodeSettledVersion(frame: Uint8Array): number {
  if (frame.length !== FACTORS_SETTLED_BYTES) throw new Error(`factors-settled frame of ${frame.length} bytes, not ${FACTORS_SETTLED_BYTES}`);
  return versionAfterKind(frame, "settled", 1);
}

/** The f64 version after the kind byte: a safe integer of at least `least`. */
function versionAfterKind(frame: Uint8Array, what: string, least: number): number {
  const version = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getFloat64(KIND_BYTES, true);
  if (!Number.isSafeInteger(version) || version < least) throw new Error(`bad ${what} version ${version}`);
  return version;
}

function decodeSnapshotVersion(frame: Uint8Array): number {
  if (frame.length < KIND_BYTES + VERSION_BYTES) throw new Error("factors snapshot shorter than its header");
  return versionAfterKind(frame, "snapshot", 0);
}

/** Throws on anything malformed; the records are views into `frame`. */
export function decodeGossipFrame(frame: Uint8Array): GossipFrame {
  if (frame.length < KIND_BYTES) throw new Error("empty gossip frame");
  const kind = frame[0];
  if (kind === GossipFrameKind.RECORDS || kind === GossipFrameKind.REMOTE_RECORDS) return { kind, records: decodeRecords(frame.subarray(KIND_BYTES)) };
  if (kind === GossipFrameKind.FACTORS) return { kind, factors: decodeFactors(frame) };
  if (kind === GossipFrameKind.FACTORS_SETTLED) return { kind, version: decodeSettledVersion(frame) };
  if (kind === GossipFrameKind.FACTORS_SNAPSHOT) return { kind, version: decodeSnapshotVersion(frame), factors: decodeFactors(frame, VERSION_BYTES) };
  if (kind !== GossipFrameKind.HANDOFF && kind !== GossipFrameKind.HANDOFF_ACK && kind !== GossipFrameKind.DIGESTS) throw new Error(`unknown gossip frame kind ${kind}`);
  if (frame.length < HANDOFF_FIXED_BYTES) throw new Error("gossip frame shorter than its header");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const addressLength = view.getUint16(1, true);
  const headerBytes = HANDOFF_FIXED_BYTES + addressLength;
  if (addressLength === 0 || frame.length < headerBytes) throw new Error("handoff frame ends inside its sender address");
  const sender = strictDecoder.decode(frame.subarray(3, 3 + addressLength));
  const handoffId = view.getUint32(3 + addressLength, true);
  if (kind === GossipFrameKind.HANDOFF_ACK) {
    if (frame.length !== headerBytes) throw new Error("handoff ack with trailing bytes");
    return { kind, sender, handoffId };
  }
  if (kind === GossipFrameKind.DIGESTS) {
    // handoffId is the bucket count here.
    if (frame.length !== headerBytes + 8 * handoffId) throw new Error(`digests frame of ${frame.length} bytes for ${handoffId} buckets`);
    const digest = new Uint32Array(2 * handoffId);
    for (let i = 0; i < digest.length; i++) digest[i] = view.getUint32(headerBytes + 4 * i, true);
    return { kind, sender, digest };
  }
  return { kind, sender, handoffId, records: decodeRecords(frame.subarray(headerBytes)) };
}
