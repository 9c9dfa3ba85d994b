// PRIORITY (PriorityValue: double priority 1, bytes value 2) = lexicographic pair
// (min f64, max bytes). A NaN priority is malformed; -0 is stored as 0, and 0 is omitted.
import {
  BAD, fieldLength, fieldNumber, fieldPtr, fieldValue, readField, skipLenField,
  WIRE_FIXED64, WIRE_LEN, wireType, writeLenField,
} from "../codec";
import { scratchAlloc } from "../buffers";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { lexPairPrefersB } from "./lex-pair";
import { minF64Order } from "./order";
import { setResult, WRITE_SLACK_BYTES } from "./result";

const PRIORITY_TAG: u8 = 0x09;
const VALUE_TAG: u8 = 0x12;

export function canonicalizePriority(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  let priority: f64 = 0;
  let valuePtr: usize = ptr;
  let valueLength: u32 = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return MALFORMED;
    if (fieldNumber == 1) {
      if (wireType != WIRE_FIXED64) return MALFORMED;
      priority = reinterpret<f64>(fieldValue);
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return MALFORMED;
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    }
  }
  if (isNaN(priority)) return MALFORMED;
  const out = scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  let written = out;
  if (priority != 0) {
    store<u8>(written, PRIORITY_TAG);
    store<f64>(written + 1, priority);
    written += 9;
  }
  if (valueLength != 0) written = writeLenField(written, VALUE_TAG, valuePtr, valueLength);
  setResult(out, <u32>(written - out));
  return OK;
}

let canonicalPriority: f64 = 0;
let canonicalValuePtr: usize = 0;
let canonicalValueLength: u32 = 0;

function readCanonicalPriority(ptr: usize, length: u32): void {
  const end = ptr + length;
  let pos = ptr;
  canonicalPriority = 0;
  canonicalValuePtr = ptr;
  canonicalValueLength = 0;
  if (pos < end && load<u8>(pos) == PRIORITY_TAG) {
    canonicalPriority = load<f64>(pos + 1);
    pos += 9;
  }
  if (pos < end) {
    skipLenField(pos);
    canonicalValuePtr = fieldPtr;
    canonicalValueLength = fieldLength;
  }
}

/** The join of canonical PRIORITY values: one of the two, never a copy. */
export function joinPriority(a: usize, aLength: u32, b: usize, bLength: u32): void {
  readCanonicalPriority(a, aLength);
  const aPriority = canonicalPriority;
  const aValuePtr = canonicalValuePtr;
  const aValueLength = canonicalValueLength;
  readCanonicalPriority(b, bLength);
  const order = minF64Order(aPriority, canonicalPriority);
  if (lexPairPrefersB(order, aValuePtr, aValueLength, canonicalValuePtr, canonicalValueLength)) setResult(b, bLength);
  else setResult(a, aLength);
}
