/** LWW: (max u64 timestamp, max bytes) as a lexicographic pair; anna.proto `LWWValue`. */
import { EMPTY_BYTES } from "./lattice";
import { maxBytes, maxU64 } from "./max";
import { U64, U64_ZERO } from "../wire/u64";
import { lexicographicPair, Pair } from "./pair";
import { fieldBytes, varintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

export type Lww = Pair<U64, Uint8Array>;

export const lww = lexicographicPair(maxU64, maxBytes);

const TIMESTAMP_FIELD = 1;
const VALUE_FIELD = 2;

export function decodeLwwWire(bytes: Uint8Array): Lww {
  const reader = new WireReader(bytes);
  let timestamp = U64_ZERO;
  let value = EMPTY_BYTES;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === TIMESTAMP_FIELD) timestamp = reader.readU64();
    else if (field === VALUE_FIELD) value = reader.readBytes();
    else reader.skipField();
  }
  return { first: timestamp, second: value };
}

export function encodeLwwWire({ first: timestamp, second: value }: Lww): Uint8Array {
  const hasTimestamp = timestamp.high !== 0 || timestamp.low !== 0;
  const length =
    (hasTimestamp ? 1 + varintBytes(timestamp.high, timestamp.low) : 0) +
    (value.length === 0 ? 0 : fieldBytes(value.length));
  const writer = new WireWriter(length);
  if (hasTimestamp) {
    writer.tag(TIMESTAMP_FIELD, WireType.VARINT);
    writer.varint(timestamp.high, timestamp.low);
  }
  if (value.length !== 0) writer.bytesField(VALUE_FIELD, value);
  return writer.finish();
}
