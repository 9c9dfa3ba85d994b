/** PRIORITY: (min f64 priority, max bytes) as a lexicographic pair; anna.proto `PriorityValue`. */
import { EMPTY_BYTES } from "./lattice";
import { maxBytes } from "./max";
import { minF64 } from "./min";
import { lexicographicPair, Pair } from "./pair";
import { fieldBytes, MalformedPayloadError, WireReader, WireWriter } from "../wire/protobuf";

export type Priority = Pair<number, Uint8Array>;

export const priority = lexicographicPair(minF64, maxBytes);

const PRIORITY_FIELD = 1;
const VALUE_FIELD = 2;
const DOUBLE_FIELD_BYTES = 9;

export function decodePriorityWire(bytes: Uint8Array): Priority {
  const reader = new WireReader(bytes);
  // A missing priority is proto3's default 0, which encoding omits, so decoding must agree.
  let level = 0;
  let value = EMPTY_BYTES;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === PRIORITY_FIELD) level = reader.readDouble();
    else if (field === VALUE_FIELD) value = reader.readBytes();
    else reader.skipField();
  }
  if (Number.isNaN(level)) throw new MalformedPayloadError("priority is NaN");
  // -0 and 0 are one priority; `+ 0` turns -0 into 0 so that it is stored (omitted) as 0.
  return { first: level + 0, second: value };
}

export function encodePriorityWire({ first: level, second: value }: Priority): Uint8Array {
  const hasLevel = level !== 0;
  const length = (hasLevel ? DOUBLE_FIELD_BYTES : 0) + (value.length === 0 ? 0 : fieldBytes(value.length));
  const writer = new WireWriter(length);
  if (hasLevel) writer.double(PRIORITY_FIELD, level);
  if (value.length !== 0) writer.bytesField(VALUE_FIELD, value);
  return writer.finish();
}
