/**
 * Plain LWW payloads: a timestamp, a value and perhaps a write id (fields 1, 2, 13), with
 * none of read atomic's fields. Most LWW values are plain (Anna's, eventual writes, the
 * causal+ level's stamped writes), and two plain payloads join to one of the two, whole:
 * the greater by (timestamp, write id, value bytes), the order of the LWW lattice
 * (lww.ts) for values without a write set or window. So the client's floors and causal cut
 * join them by a scan, with no decode, no encode and no new array, and keep the winning
 * array itself (whose decodes stay cached by identity).
 */
import { compareBytes, EMPTY_BYTES } from "./lattice";
import { WRITE_ID_BYTES_MAX } from "./lww";
import { TIMESTAMP_FIELD, VALUE_FIELD, WRITE_ID_FIELD } from "./lww-wire";
import { fieldBytes, MalformedPayloadError, safeUintBytes, WireReader, WireType } from "../wire/protobuf";

/** A plain LWW payload's fields (views of it). */
export interface PlainLwwFields {
  readonly timestamp: number;
  readonly value: Uint8Array;
  readonly writeId: Uint8Array;
}

/**
 * The fields of an LWW payload that has a timestamp (a safe integer), a value and perhaps a
 * write id, in that order and no other field (read atomic's write set or window);
 * undefined for any other payload, malformed ones included. A scan, with no copy.
 */
export function plainLwwFields(payload: Uint8Array): PlainLwwFields | undefined {
  let timestamp = -1;
  let value: Uint8Array | undefined;
  let writeId = EMPTY_BYTES;
  try {
    const reader = new WireReader(payload);
    let lastField = 0;
    while (reader.hasMore()) {
      const field = reader.readTag();
      // In number order, each once, as the store writes them (and as `mayBeStampedLwwPut` expects).
      if (field <= lastField) return undefined;
      lastField = field;
      if (field === TIMESTAMP_FIELD && reader.wireType === WireType.VARINT) timestamp = reader.readSafeUint();
      else if (field === VALUE_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) value = reader.readBytes();
      else if (field === WRITE_ID_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) writeId = reader.readBytes();
      else return undefined;
    }
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  return value === undefined || timestamp < 0 ? undefined : { timestamp, value, writeId };
}

/** Plain fields of a payload in the canonical form the store keeps (the form `encodeLww` gives); undefined otherwise. */
function canonicalPlainFields(payload: Uint8Array): PlainLwwFields | undefined {
  const fields = plainLwwFields(payload);
  if (fields === undefined || fields.timestamp === 0 || fields.value.length === 0) return undefined;
  if (fields.writeId.length > WRITE_ID_BYTES_MAX) return undefined;
  const writeIdBytes = fields.writeId.length === 0 ? 0 : fieldBytes(fields.writeId.length);
  const canonicalBytes = 1 + safeUintBytes(fields.timestamp) + fieldBytes(fields.value.length) + writeIdBytes;
  return canonicalBytes === payload.length ? fields : undefined;
}

/**
 * The join of two canonical plain LWW payloads: `stored` or `incoming` itself, as
 * `mergePayloads` would join them (`stored` where they are equal); undefined when either is
 * not plain and canonical, which only the general merge joins. Unlike `mergePayloads`, it
 * may return `incoming`: callers that keep the result must own it.
 */
export function plainLwwJoin(stored: Uint8Array, incoming: Uint8Array): Uint8Array | undefined {
  const a = canonicalPlainFields(stored);
  if (a === undefined) return undefined;
  const b = canonicalPlainFields(incoming);
  if (b === undefined) return undefined;
  const order = a.timestamp - b.timestamp || compareBytes(a.writeId, b.writeId) || compareBytes(a.value, b.value);
  return order >= 0 ? stored : incoming;
}
