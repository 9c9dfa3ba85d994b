/**
 * The value of causal-multi-key-lww (docs/causal-stability.md §9): an LWW value whose
 * timestamp is the write's hybrid stamp (µs), whose write id is `CAUSAL_WRITE_ID_TAG`
 * followed by the writing session's id, and whose value is the write's `CausalStamp`
 * (causal-stamp.ts). The store merges it as any LWW value, keeping the greatest
 * (timestamp, write id): a version, named so by dependencies (`DependencyStamp.writer`).
 * The tag marks a value as stamped for the node's accept floor (`isStaleCausalLww`);
 * read atomic's write ids are random, and one that starts with the tag costs one strict
 * decode that fails.
 */
import { bytesEqual, compareBytes } from "./lattice";
import { decodeStamped, encodeStamped, isStaleStamp, type StampedValue } from "./causal-stamp";
import { decodeLww, encodeLww } from "./values";
import { MalformedPayloadError, WireReader, WireType } from "../wire/protobuf";

/** The first byte of a stamped causal write id ("CAusal"). */
export const CAUSAL_WRITE_ID_TAG = 0xca;

const TIMESTAMP_FIELD = 1;
const VALUE_FIELD = 2;
const WRITE_ID_FIELD = 13;

/** A version of an LWW key, as the store orders them. */
export interface LwwVersion {
  /** The LWW timestamp (µs for stamped versions); a bare value's beyond 2^53 is rounded. */
  readonly micros: number;
  readonly writeId: Uint8Array;
}

/** Orders versions as the store's LWW merge does (timestamp, then write id). */
export function compareLwwVersions(a: LwwVersion, b: LwwVersion): number {
  return a.micros - b.micros || compareBytes(a.writeId, b.writeId);
}

/** The write id of a stamped write by `writer`. */
export function causalWriteId(writer: Uint8Array): Uint8Array {
  const writeId = new Uint8Array(writer.length + 1);
  writeId[0] = CAUSAL_WRITE_ID_TAG;
  writeId.set(writer, 1);
  return writeId;
}

/** Whether a write id is a stamped causal write's: a version whose dependencies' stamps are known. */
export function isCausalWriteId(writeId: Uint8Array): boolean {
  return writeId.length > 1 && writeId[0] === CAUSAL_WRITE_ID_TAG;
}

/** The LWW payload of a stamped write. */
export function encodeCausalLww(stamped: StampedValue): Uint8Array {
  return encodeLww({
    timestamp: stamped.stampMicros,
    writeId: causalWriteId(stamped.writer),
    value: encodeStamped(stamped),
  });
}

/** An LWW payload read by a causal-multi-key-lww session: its version, and its stamp where it has one. */
export interface CausalLwwValue {
  readonly version: LwwVersion;
  /** Undefined for a bare value (Anna's clients, other levels): its dependencies are unknown. */
  readonly stamped: StampedValue | undefined;
  /** The user's value: inside the stamp, or the bare value. */
  readonly value: Uint8Array;
}

/** Decodes an LWW payload; MalformedPayloadError when it is not one. */
export function decodeCausalLww(payload: Uint8Array): CausalLwwValue {
  const { timestamp, writeId, value, writeSet, versions } = decodeLww(payload);
  const version = { micros: Number(timestamp), writeId };
  // As the node's scan (`stampedOfLwwPut`): a value with read atomic's fields is no stamped write, whose floor it skipped.
  const plain = writeSet.length === 0 && versions.length === 0;
  const stamped = plain && isCausalWriteId(writeId) ? decodeStamped(value) : undefined;
  if (stamped === undefined || !matchesVersion(stamped, timestamp, writeId))
    return { version, stamped: undefined, value };
  return { version, stamped, value: stamped.value };
}

function matchesVersion(stamped: StampedValue, timestamp: bigint, writeId: Uint8Array): boolean {
  return (
    BigInt(stamped.stampMicros) === timestamp &&
    writeId.length === stamped.writer.length + 1 &&
    bytesEqual(writeId.subarray(1), stamped.writer)
  );
}

/**
 * The stamp of an LWW PUT's payload when it is a stamped causal write (timestamp, value and
 * a tagged write id, nothing else), read without decoding the whole value: undefined for
 * any other payload, malformed ones included. The node's request path calls this for
 * every LWW PUT, so a plain write costs a scan of two fields.
 */
export function stampedOfLwwPut(payload: Uint8Array): StampedValue | undefined {
  let timestamp = -1;
  let value: Uint8Array | undefined;
  let writeId: Uint8Array | undefined;
  try {
    const reader = new WireReader(payload);
    while (reader.hasMore()) {
      const field = reader.readTag();
      if (field === TIMESTAMP_FIELD && reader.wireType === WireType.VARINT) timestamp = reader.readSafeUint();
      else if (field === VALUE_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) value = reader.readBytes();
      else if (field === WRITE_ID_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) writeId = reader.readBytes();
      else return undefined;
    }
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  if (writeId === undefined || value === undefined || !isCausalWriteId(writeId)) return undefined;
  const stamped = decodeStamped(value);
  return stamped !== undefined && matchesVersion(stamped, BigInt(timestamp), writeId) ? stamped : undefined;
}

/**
 * Whether an LWW PUT is a stamped causal write with a stale stamp (`isStaleStamp`,
 * docs/causal-stability.md §9), as `hasStaleStamp` says of MULTI_CAUSAL. False for every
 * other payload.
 */
export function isStaleCausalLww(payload: Uint8Array, acceptFloorMicros: number, epoch: number): boolean {
  const stamped = stampedOfLwwPut(payload);
  return stamped !== undefined && isStaleStamp(stamped, acceptFloorMicros, epoch);
}
