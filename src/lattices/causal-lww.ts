/**
 * The value of causal-multi-key-lww (docs/causal-stability.md §9): an LWW value whose
 * timestamp is the write's hybrid stamp (µs), whose write id is `CAUSAL_WRITE_ID_TAG`
 * followed by the writing session's id, and whose value is the write's `CausalStamp`
 * (causal-stamp.ts). The store merges it as any LWW value, keeping the greatest
 * (timestamp, write id): a version, named so by dependencies (`DependencyStamp.writer`).
 * The tag marks a value as stamped for the node's accept floor (`stampedOfLwwPut`);
 * read atomic's write ids are random, and one that starts with the tag costs one strict
 * decode that fails.
 */
import { bytesEqual, compareBytes } from "./lattice";
import { decodeStamped, stampedLength, writeStamped, type StampedValue } from "./causal-stamp";
import { decodeLww } from "./values";
import { plainLwwFields, type PlainLwwFields } from "./lww-plain";
import { TIMESTAMP_FIELD, VALUE_FIELD, WRITE_ID_FIELD } from "./lww-wire";
import { fieldBytes, safeUintBytes, WireType, WireWriter } from "../wire/protobuf";

/** The first byte of a stamped causal write id ("CAusal"). */
export const CAUSAL_WRITE_ID_TAG = 0xca;

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

/**
 * The LWW payload of a stamped write, in the canonical form `encodeLww` gives it (fields 1, 2
 * and 13), written directly: through `encodeLww`'s general path it took 3x the stamp's own
 * encoding (5.5 µs against 1.8 µs with six dependencies, this VM). The stamp is written in
 * place: an array of more than 64 bytes lives outside V8's heap, and each cost ~2.6 µs to
 * allocate on the 2-core VM, more than writing its bytes.
 */
export function encodeCausalLww(stamped: StampedValue): Uint8Array {
  const valueBytes = stampedLength(stamped);
  const writeId = causalWriteId(stamped.writer);
  const writer = new WireWriter(
    1 + safeUintBytes(stamped.stampMicros) + fieldBytes(valueBytes) + fieldBytes(writeId.length),
  );
  writer.tag(TIMESTAMP_FIELD, WireType.VARINT);
  writer.safeUint(stamped.stampMicros);
  writer.lengthPrefix(VALUE_FIELD, valueBytes);
  writeStamped(writer, stamped);
  writer.bytesField(WRITE_ID_FIELD, writeId);
  return writer.finish();
}

/** An LWW payload read by a causal-multi-key-lww session: its version, and its stamp where it has one. */
export interface CausalLwwValue {
  readonly version: LwwVersion;
  /** Undefined for a bare value (Anna's clients, other levels): its dependencies are unknown. */
  readonly stamped: StampedValue | undefined;
  /** The user's value: inside the stamp, or the bare value. */
  readonly value: Uint8Array;
}

/** The stamp plain LWW fields hold: a tagged write id over a stamp that names the same version. */
function stampedOf({ timestamp, value, writeId }: PlainLwwFields): StampedValue | undefined {
  if (!isCausalWriteId(writeId)) return undefined;
  const stamped = decodeStamped(value);
  if (stamped === undefined || stamped.stampMicros !== timestamp) return undefined;
  const sameWriter = writeId.length === stamped.writer.length + 1 && bytesEqual(writeId.subarray(1), stamped.writer);
  return sameWriter ? stamped : undefined;
}

/**
 * Decodes an LWW payload (views of it); MalformedPayloadError when it is not one. A value
 * with read atomic's fields is bare here as on the node (`stampedOfLwwPut`), so no reader
 * trusts a stamp the node's floor skipped.
 */
export function decodeCausalLww(payload: Uint8Array): CausalLwwValue {
  const fields = plainLwwFields(payload);
  if (fields === undefined) {
    // Not plain (or not well formed): the full decoder validates it, or says why not.
    const { timestamp, writeId, value } = decodeLww(payload);
    return { version: { micros: Number(timestamp), writeId }, stamped: undefined, value };
  }
  const version = { micros: fields.timestamp, writeId: fields.writeId };
  const stamped = stampedOf(fields);
  return stamped === undefined ? { version, stamped, value: fields.value } : { version, stamped, value: stamped.value };
}

/** The tag byte of a length-delimited field `field`. */
const lengthDelimitedTag = (field: number) => (field << 3) | WireType.LENGTH_DELIMITED;

/**
 * A quick reject of the LWW payloads in `bytes[start, end)` that cannot be stamped writes,
 * read in place (a request frame needs no view of the payload for it): the canonical
 * stamped write is a timestamp, a value and a write id whose first byte is the tag, in that
 * order. True only says `stampedOfLwwPut` must look (a plain write ends after its value:
 * two varints read). Measured on this VM: ~145 ns a plain LWW PUT with the full scan alone.
 */
export function mayBeStampedLwwPut(bytes: Uint8Array, start: number, end: number): boolean {
  if (start >= end || bytes[start] !== ((TIMESTAMP_FIELD << 3) | WireType.VARINT)) return false;
  let at = start + 1;
  while (at < end && bytes[at] >= 0x80) at++;
  if (at + 1 >= end || bytes[at + 1] !== lengthDelimitedTag(VALUE_FIELD)) return false;
  let valueBytes = 0;
  let scale = 1;
  for (at += 2; at < end && scale < 2 ** 35; at++, scale *= 0x80) {
    valueBytes += (bytes[at] & 0x7f) * scale;
    if (bytes[at] < 0x80) break;
  }
  at += 1 + valueBytes;
  if (at + 2 >= end || bytes[at] !== lengthDelimitedTag(WRITE_ID_FIELD)) return false;
  // A write id is at most 64 bytes (one length byte), so its first byte follows the length.
  return bytes[at + 2] === CAUSAL_WRITE_ID_TAG;
}

/**
 * The stamp of an LWW PUT's payload, `bytes[start, end)` (all of `bytes` by default), when
 * it is a stamped causal write (timestamp, value and a tagged write id, nothing else), read
 * without decoding the whole value: undefined for any other payload, malformed ones
 * included. The node's request path calls this for every LWW PUT in its frame: a plain
 * write is rejected in place (`mayBeStampedLwwPut`, two varints read), and only a
 * candidate gets a view of its payload.
 */
export function stampedOfLwwPut(bytes: Uint8Array, start = 0, end = bytes.length): StampedValue | undefined {
  if (!mayBeStampedLwwPut(bytes, start, end)) return undefined;
  const fields = plainLwwFields(bytes.subarray(start, end));
  return fields === undefined ? undefined : stampedOf(fields);
}
