// Anna's two registers, one implementation: a lexicographic pair of a scalar that orders
// versions and the bytes that break a tie (lex-pair.ts).
//   LWW      (LWWValue: uint64 timestamp 1 as varint, bytes value 2, bytes write_id 13)
//            = (max u64, (max bytes write id, max bytes value)). The write id is annakv's
//            extension: at most WRITE_ID_BYTES_MAX bytes, empty (omitted) for a plain write.
//            A payload or value with read atomic's fields (write set 14, versions 15) goes to
//            lww-window.ts instead, so this plain path never parses them.
//   PRIORITY (PriorityValue: double priority 1 as fixed64, bytes value 2) = (min f64, max bytes);
//            a NaN priority is malformed, -0 is stored as 0, and 0 is omitted. It has no
//            write id: its field 13 is an unknown field, and its write id is always empty.
// The scalar travels as its 64 raw bits; `kind` says how to read, order and write them.
import {
  BAD, bytesEqual, fieldLength, fieldNumber, fieldPtr, fieldValue, minimalVarintEnd, readField, readVarint, skipLenField,
  varintBytes, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint,
} from "../codec";
import { scratchAlloc } from "../buffers";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { lexPairOrder } from "./lex-pair";
import {
  TIMESTAMP_TAG, VALUE_TAG, VERSION_FIELD, WRITE_ID_BYTES_MAX, WRITE_ID_FIELD, WRITE_ID_TAG, WRITE_SET_FIELD,
} from "./lww-fields";
import { canonicalizeWindowedLww, hasWindowFields, joinWindowedLww } from "./lww-window";
import { maxBytesOrder, maxU64Order, minF64Order } from "./order";
import { setResult, WRITE_SLACK_BYTES } from "./result";

export const LWW_REGISTER: u32 = 0;
export const PRIORITY_REGISTER: u32 = 1;

const PRIORITY_TAG: u8 = 0x09;
const FIXED64_FIELD_BYTES: usize = 9;

/** proto3 omits a default scalar: timestamp 0, priority 0 (and -0, which equals it). */
function isDefaultScalar(kind: u32, bits: u64): bool {
  return kind == LWW_REGISTER ? bits == 0 : reinterpret<f64>(bits) == 0;
}

function writeScalar(kind: u32, out: usize, bits: u64): usize {
  if (kind == LWW_REGISTER) {
    store<u8>(out, TIMESTAMP_TAG);
    return writeVarint(out + 1, bits);
  }
  store<u8>(out, PRIORITY_TAG);
  store<u64>(out + 1, bits);
  return out + FIXED64_FIELD_BYTES;
}

function canonicalRegisterBytes(kind: u32, scalarBits: u64, valueLength: u32, writeIdLength: u32): u64 {
  let bytes: u64 = 0;
  if (!isDefaultScalar(kind, scalarBits)) bytes += kind == LWW_REGISTER ? 1 + varintBytes(scalarBits) : FIXED64_FIELD_BYTES;
  if (valueLength != 0) bytes += 1 + varintBytes(valueLength) + valueLength;
  if (writeIdLength != 0) bytes += 1 + varintBytes(writeIdLength) + writeIdLength;
  return bytes;
}

/**
 * What every well-behaved LWW writer sends, checked without the general field loop (the hot
 * path of a PUT): the timestamp tag and a minimal varint of a non-zero timestamp below 2^63,
 * then the value tag and a minimal varint of a non-zero length that ends the payload. Those
 * bytes are the canonical form itself; any other input takes the general path. Returns the
 * timestamp, or 0 for any other shape.
 */
export function plainLwwTimestamp(ptr: usize, length: u32): u64 {
  const end = ptr + length;
  if (length < 4 || load<u8>(ptr) != TIMESTAMP_TAG) return 0;
  let pos = minimalVarintEnd(ptr + 1, end, 9);
  const timestamp = fieldValue;
  if (pos == BAD || timestamp == 0 || pos >= end || load<u8>(pos) != VALUE_TAG) return 0;
  pos = minimalVarintEnd(pos + 1, end, 5);
  return pos != BAD && fieldValue != 0 && fieldValue == <u64>(end - pos) ? timestamp : 0;
}

/** The longest timestamp varint of a plain payload (plainLwwTimestamp's): timestamps below 2^63. */
const PLAIN_TIMESTAMP_VARINT_BYTES_MAX: usize = 9;

/**
 * Whether the LWW payload at `ptr` replaces a stored value of the same `length` at
 * `storedPtr`, read against the stored bytes instead of parsed on its own (the hot path of
 * a PUT over a plain value). A stored plain value is canonical: its timestamp varint, value
 * tag and length varint are minimal. A payload with a newer timestamp in a varint as long
 * as the stored one, followed by the same tag and length bytes, is then plain too, with a
 * value as long: true. False for any other case, which the general path (canonicalize,
 * join) decides.
 */
export function plainLwwReplaces(ptr: usize, storedPtr: usize, length: u32): bool {
  if (length < 4 || load<u8>(ptr) != TIMESTAMP_TAG || load<u8>(storedPtr) != TIMESTAMP_TAG) return false;
  let incoming: u64 = 0;
  let stored: u64 = 0;
  let offset: usize = 1;
  for (let shift: u64 = 0; ; shift += 7) {
    if (offset > PLAIN_TIMESTAMP_VARINT_BYTES_MAX || offset >= <usize>length) return false;
    const incomingByte = <u32>load<u8>(ptr + offset);
    const storedByte = <u32>load<u8>(storedPtr + offset);
    // One varint ends here and the other does not: their lengths differ.
    if (((incomingByte ^ storedByte) & 0x80) != 0) return false;
    incoming |= <u64>(incomingByte & 0x7f) << shift;
    stored |= <u64>(storedByte & 0x7f) << shift;
    offset++;
    if ((storedByte & 0x80) == 0) break;
  }
  // No minimality check is needed: an n-byte varint longer than needed is below 2^(7(n-1)),
  // and the stored one, minimal, is not; so a padded timestamp is never the newer.
  if (incoming <= stored) return false;
  const storedEnd = storedPtr + length;
  if (offset >= <usize>length || load<u8>(storedPtr + offset) != VALUE_TAG) return false;
  const valueStart = readVarint(storedPtr + offset + 1, storedEnd);
  if (valueStart == BAD || fieldValue == 0 || fieldValue != <u64>(storedEnd - valueStart)) return false;
  return bytesEqual(ptr + offset, storedPtr + offset, <u32>(valueStart - storedPtr - offset));
}

export function canonicalizeRegister(kind: u32, ptr: usize, length: u32): u32 {
  if (kind == LWW_REGISTER && plainLwwTimestamp(ptr, length) != 0) {
    setResult(ptr, length);
    return OK;
  }
  const end = ptr + length;
  const scalarWireType = kind == LWW_REGISTER ? WIRE_VARINT : WIRE_FIXED64;
  // readField never yields field number 0, so PRIORITY skips field 13 as an unknown field.
  const writeIdField: u64 = kind == LWW_REGISTER ? WRITE_ID_FIELD : 0;
  let scalarBits: u64 = 0;
  let valuePtr: usize = ptr;
  let valueLength: u32 = 0;
  let writeIdPtr: usize = ptr;
  let writeIdLength: u32 = 0;
  let pos = ptr;
  let lastKnownField: u64 = 0;
  let inFieldOrder = true;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return MALFORMED;
    if (fieldNumber == 1) {
      if (wireType != scalarWireType) return MALFORMED;
      scalarBits = fieldValue;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return MALFORMED;
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    } else if (fieldNumber == writeIdField) {
      if (wireType != WIRE_LEN) return MALFORMED;
      writeIdPtr = fieldPtr;
      writeIdLength = fieldLength;
    } else if (kind == LWW_REGISTER && (fieldNumber == WRITE_SET_FIELD || fieldNumber == VERSION_FIELD)) {
      return canonicalizeWindowedLww(ptr, length);
    } else continue;
    if (fieldNumber < lastKnownField) inFieldOrder = false;
    lastKnownField = fieldNumber;
  }
  // Checked on the last write id only: a repeated field keeps its last value (proto3).
  if (writeIdLength > WRITE_ID_BYTES_MAX) return MALFORMED;
  if (kind == PRIORITY_REGISTER && isNaN(reinterpret<f64>(scalarBits))) return MALFORMED;
  // The canonical form is the shortest encoding of (scalar, value, write id), in that order.
  // An input of that length can only be those fields, each once, with minimal varints: in
  // field order, it is already canonical and needs no copy (what a well-behaved client always
  // sends). Except a 10-byte varint, whose last byte may carry bits past bit 63 that
  // canonical form drops.
  const scalarFitsNineBytes = kind != LWW_REGISTER || scalarBits < (<u64>1 << 63);
  const canonicalBytes = canonicalRegisterBytes(kind, scalarBits, valueLength, writeIdLength);
  if (inFieldOrder && scalarFitsNineBytes && <u64>length == canonicalBytes) {
    setResult(ptr, length);
    return OK;
  }
  const out = scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  let written = out;
  if (!isDefaultScalar(kind, scalarBits)) written = writeScalar(kind, written, scalarBits);
  if (valueLength != 0) written = writeLenField(written, VALUE_TAG, valuePtr, valueLength);
  if (writeIdLength != 0) written = writeLenField(written, WRITE_ID_TAG, writeIdPtr, writeIdLength);
  setResult(out, <u32>(written - out));
  return OK;
}

// Where the last read left a canonical register's parts (globals: the runtime has no GC).
let canonicalScalarBits: u64 = 0;
let canonicalValuePtr: usize = 0;
let canonicalValueLength: u32 = 0;
let canonicalWriteIdPtr: usize = 0;
let canonicalWriteIdLength: u32 = 0;

/** Reads a canonical register's scalar (0 when omitted); returns where the fields after it start. */
function readCanonicalScalar(kind: u32, ptr: usize, end: usize): usize {
  canonicalScalarBits = 0;
  if (ptr == end) return ptr;
  if (kind == LWW_REGISTER && load<u8>(ptr) == TIMESTAMP_TAG) {
    const pos = readVarint(ptr + 1, end);
    canonicalScalarBits = fieldValue;
    return pos;
  }
  if (kind == PRIORITY_REGISTER && load<u8>(ptr) == PRIORITY_TAG) {
    canonicalScalarBits = load<u64>(ptr + 1);
    return ptr + FIXED64_FIELD_BYTES;
  }
  return ptr;
}

/** Reads the fields after a canonical register's scalar: the value, then the write id, each if present. */
function readCanonicalTieBreak(pos: usize, end: usize): void {
  canonicalValuePtr = pos;
  canonicalValueLength = 0;
  canonicalWriteIdPtr = pos;
  canonicalWriteIdLength = 0;
  if (pos < end && load<u8>(pos) == VALUE_TAG) {
    pos = skipLenField(pos);
    canonicalValuePtr = fieldPtr;
    canonicalValueLength = fieldLength;
  }
  if (pos < end) {
    assert(load<u8>(pos) == WRITE_ID_TAG);
    skipLenField(pos);
    canonicalWriteIdPtr = fieldPtr;
    canonicalWriteIdLength = fieldLength;
  }
}

function scalarOrder(kind: u32, a: u64, b: u64): i32 {
  return kind == LWW_REGISTER ? maxU64Order(a, b) : minF64Order(reinterpret<f64>(a), reinterpret<f64>(b));
}

/** The order of two registers of equal scalars: (max bytes write id, max bytes value), lexicographic. */
function tieBreakOrder(aPos: usize, aEnd: usize, bPos: usize, bEnd: usize): i32 {
  readCanonicalTieBreak(aPos, aEnd);
  const aValuePtr = canonicalValuePtr;
  const aValueLength = canonicalValueLength;
  const aWriteIdPtr = canonicalWriteIdPtr;
  const aWriteIdLength = canonicalWriteIdLength;
  readCanonicalTieBreak(bPos, bEnd);
  const writeIdOrder = maxBytesOrder(aWriteIdPtr, aWriteIdLength, canonicalWriteIdPtr, canonicalWriteIdLength);
  return lexPairOrder(writeIdOrder, aValuePtr, aValueLength, canonicalValuePtr, canonicalValueLength);
}

/** The join of two canonical registers: one of the two, never a copy, unless either has read atomic's fields. */
export function joinRegister(kind: u32, a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const aEnd = a + aLength;
  const bEnd = b + bLength;
  const aTieBreak = readCanonicalScalar(kind, a, aEnd);
  const aScalarBits = canonicalScalarBits;
  const bTieBreak = readCanonicalScalar(kind, b, bEnd);
  if (kind == LWW_REGISTER && (hasWindowFields(aTieBreak, aEnd) || hasWindowFields(bTieBreak, bEnd))) {
    return joinWindowedLww(a, aLength, b, bLength);
  }
  // The outer lexicographic pair: the bytes that break a tie are read only on a tie, which
  // keeps the usual join (a newer timestamp) to two scalar reads. A PRIORITY's write ids
  // are both empty, so its ties go to the value.
  let order = scalarOrder(kind, aScalarBits, canonicalScalarBits);
  if (order == 0) order = tieBreakOrder(aTieBreak, aEnd, bTieBreak, bEnd);
  if (order < 0) setResult(b, bLength);
  else setResult(a, aLength);
  return OK;
}
