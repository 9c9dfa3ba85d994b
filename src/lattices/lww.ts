/**
 * LWW: (max u64 timestamp, (max bytes write id, max bytes value)) as nested lexicographic
 * pairs; anna.proto `LWWValue`. The write id (field 13, an annakv extension) breaks timestamp
 * ties before the value does; a plain write has the empty write id, the bottom, so plain
 * writes order and encode as they did before it existed.
 */
import { EMPTY_BYTES } from "./lattice";
import { maxBytes, maxU64 } from "./max";
import { U64, U64_ZERO } from "../wire/u64";
import { lexicographicPair, Pair } from "./pair";
import { fieldBytes, MalformedPayloadError, varintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

/** (write id, value): the tie-break under one timestamp. */
export type LwwVersion = Pair<Uint8Array, Uint8Array>;
export type Lww = Pair<U64, LwwVersion>;

export const lww = lexicographicPair(maxU64, lexicographicPair(maxBytes, maxBytes));

/** The same limit as assembly/lattices/register.ts: a longer write id is a malformed payload. */
export const WRITE_ID_BYTES_MAX = 64;

const TIMESTAMP_FIELD = 1;
const VALUE_FIELD = 2;
const WRITE_ID_FIELD = 13;

export function decodeLwwWire(bytes: Uint8Array): Lww {
  const reader = new WireReader(bytes);
  let timestamp = U64_ZERO;
  let value = EMPTY_BYTES;
  let writeId = EMPTY_BYTES;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === TIMESTAMP_FIELD) timestamp = reader.readU64();
    else if (field === VALUE_FIELD) value = reader.readBytes();
    else if (field === WRITE_ID_FIELD) writeId = reader.readBytes();
    else reader.skipField();
  }
  if (writeId.length > WRITE_ID_BYTES_MAX) {
    throw new MalformedPayloadError(`write id of ${writeId.length} bytes (at most ${WRITE_ID_BYTES_MAX})`);
  }
  return { first: timestamp, second: { first: writeId, second: value } };
}

export function encodeLwwWire({ first: timestamp, second: { first: writeId, second: value } }: Lww): Uint8Array {
  const hasTimestamp = timestamp.high !== 0 || timestamp.low !== 0;
  const length =
    (hasTimestamp ? 1 + varintBytes(timestamp.high, timestamp.low) : 0) +
    (value.length === 0 ? 0 : fieldBytes(value.length)) +
    (writeId.length === 0 ? 0 : fieldBytes(writeId.length));
  const writer = new WireWriter(length);
  if (hasTimestamp) {
    writer.tag(TIMESTAMP_FIELD, WireType.VARINT);
    writer.varint(timestamp.high, timestamp.low);
  }
  if (value.length !== 0) writer.bytesField(VALUE_FIELD, value);
  if (writeId.length !== 0) writer.bytesField(WRITE_ID_FIELD, writeId);
  return writer.finish();
}
