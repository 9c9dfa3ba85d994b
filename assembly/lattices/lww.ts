// LWW (LWWValue: uint64 timestamp 1, bytes value 2) = lexicographic pair (max u64, max bytes).
import {
  BAD, fieldLength, fieldNumber, fieldPtr, fieldValue, readField, readVarint, skipLenField,
  WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint,
} from "../codec";
import { scratchAlloc } from "../buffers";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { lexPairPrefersB } from "./lex-pair";
import { maxU64Order } from "./order";
import { setResult, WRITE_SLACK_BYTES } from "./result";

const TIMESTAMP_TAG: u8 = 0x08;
const VALUE_TAG: u8 = 0x12;

export function canonicalizeLww(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  let timestamp: u64 = 0;
  let valuePtr: usize = ptr;
  let valueLength: u32 = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return MALFORMED;
    if (fieldNumber == 1) {
      if (wireType != WIRE_VARINT) return MALFORMED;
      timestamp = fieldValue;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return MALFORMED;
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    }
  }
  const out = scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  let written = out;
  if (timestamp != 0) {
    store<u8>(written, TIMESTAMP_TAG);
    written = writeVarint(written + 1, timestamp);
  }
  if (valueLength != 0) written = writeLenField(written, VALUE_TAG, valuePtr, valueLength);
  setResult(out, <u32>(written - out));
  return OK;
}

let canonicalTimestamp: u64 = 0;
let canonicalValuePtr: usize = 0;
let canonicalValueLength: u32 = 0;

function readCanonicalLww(ptr: usize, length: u32): void {
  const end = ptr + length;
  let pos = ptr;
  canonicalTimestamp = 0;
  canonicalValuePtr = ptr;
  canonicalValueLength = 0;
  if (pos < end && load<u8>(pos) == TIMESTAMP_TAG) {
    pos = readVarint(pos + 1, end);
    canonicalTimestamp = fieldValue;
  }
  if (pos < end) {
    skipLenField(pos);
    canonicalValuePtr = fieldPtr;
    canonicalValueLength = fieldLength;
  }
}

/** The join of canonical LWW values: one of the two, never a copy. */
export function joinLww(a: usize, aLength: u32, b: usize, bLength: u32): void {
  readCanonicalLww(a, aLength);
  const aTimestamp = canonicalTimestamp;
  const aValuePtr = canonicalValuePtr;
  const aValueLength = canonicalValueLength;
  readCanonicalLww(b, bLength);
  const order = maxU64Order(aTimestamp, canonicalTimestamp);
  if (lexPairPrefersB(order, aValuePtr, aValueLength, canonicalValuePtr, canonicalValueLength)) setResult(b, bLength);
  else setResult(a, aLength);
}
