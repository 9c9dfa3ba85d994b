// Anna's two registers, one implementation: a lexicographic pair of a scalar that orders
// versions and the value bytes that break a tie (lex-pair.ts).
//   LWW      (LWWValue: uint64 timestamp 1 as varint, bytes value 2)  = (max u64, max bytes)
//   PRIORITY (PriorityValue: double priority 1 as fixed64, bytes value 2) = (min f64, max bytes);
//            a NaN priority is malformed, -0 is stored as 0, and 0 is omitted.
// The scalar travels as its 64 raw bits; `kind` says how to read, order and write them.
import {
  BAD, fieldLength, fieldNumber, fieldPtr, fieldValue, readField, readVarint, skipLenField,
  varintBytes, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint,
} from "../codec";
import { scratchAlloc } from "../buffers";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { lexPairPrefersB } from "./lex-pair";
import { maxU64Order, minF64Order } from "./order";
import { setResult, WRITE_SLACK_BYTES } from "./result";

export const LWW_REGISTER: u32 = 0;
export const PRIORITY_REGISTER: u32 = 1;

const TIMESTAMP_TAG: u8 = 0x08;
const PRIORITY_TAG: u8 = 0x09;
const VALUE_TAG: u8 = 0x12;
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

function canonicalRegisterBytes(kind: u32, scalarBits: u64, valueLength: u32): u64 {
  let bytes: u64 = 0;
  if (!isDefaultScalar(kind, scalarBits)) bytes += kind == LWW_REGISTER ? 1 + varintBytes(scalarBits) : FIXED64_FIELD_BYTES;
  if (valueLength != 0) bytes += 1 + varintBytes(valueLength) + valueLength;
  return bytes;
}

/** The end of a minimal varint of at most `maxBytes` at `pos` (value in fieldValue), or BAD. */
function minimalVarintEnd(pos: usize, end: usize, maxBytes: usize): usize {
  const after = readVarint(pos, end);
  if (after == BAD || after - pos > maxBytes) return BAD;
  // A longer varint than needed ends in a zero byte.
  if (after - pos > 1 && load<u8>(after - 1) == 0) return BAD;
  return after;
}

/**
 * What every well-behaved LWW writer sends, checked without the general field loop (the hot
 * path of a PUT): the timestamp tag and a minimal varint of a non-zero timestamp below 2^63,
 * then the value tag and a minimal varint of a non-zero length that ends the payload. Those
 * bytes are the canonical form itself; any other input takes the general path.
 */
function isCanonicalLwwShape(ptr: usize, length: u32): bool {
  const end = ptr + length;
  if (length < 4 || load<u8>(ptr) != TIMESTAMP_TAG) return false;
  let pos = minimalVarintEnd(ptr + 1, end, 9);
  if (pos == BAD || fieldValue == 0 || pos >= end || load<u8>(pos) != VALUE_TAG) return false;
  pos = minimalVarintEnd(pos + 1, end, 5);
  return pos != BAD && fieldValue != 0 && fieldValue == <u64>(end - pos);
}

export function canonicalizeRegister(kind: u32, ptr: usize, length: u32): u32 {
  if (kind == LWW_REGISTER && isCanonicalLwwShape(ptr, length)) {
    setResult(ptr, length);
    return OK;
  }
  const end = ptr + length;
  const scalarWireType = kind == LWW_REGISTER ? WIRE_VARINT : WIRE_FIXED64;
  let scalarBits: u64 = 0;
  let valuePtr: usize = ptr;
  let valueLength: u32 = 0;
  let pos = ptr;
  let scalarAfterValue = false;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return MALFORMED;
    if (fieldNumber == 1) {
      if (wireType != scalarWireType) return MALFORMED;
      scalarBits = fieldValue;
      scalarAfterValue = valueLength != 0;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return MALFORMED;
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    }
  }
  if (kind == PRIORITY_REGISTER && isNaN(reinterpret<f64>(scalarBits))) return MALFORMED;
  // The canonical form is the shortest encoding of (scalar, value), scalar first. An input
  // of that length can only be those two fields with minimal varints: in that order, it is
  // already canonical and needs no copy (what a well-behaved client always sends). Except
  // a 10-byte varint, whose last byte may carry bits past bit 63 that canonical form drops.
  const scalarFitsNineBytes = kind != LWW_REGISTER || scalarBits < (<u64>1 << 63);
  if (!scalarAfterValue && scalarFitsNineBytes && <u64>length == canonicalRegisterBytes(kind, scalarBits, valueLength)) {
    setResult(ptr, length);
    return OK;
  }
  const out = scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  let written = out;
  if (!isDefaultScalar(kind, scalarBits)) written = writeScalar(kind, written, scalarBits);
  if (valueLength != 0) written = writeLenField(written, VALUE_TAG, valuePtr, valueLength);
  setResult(out, <u32>(written - out));
  return OK;
}

let canonicalScalarBits: u64 = 0;
let canonicalValuePtr: usize = 0;
let canonicalValueLength: u32 = 0;

/** Reads a canonical register: the scalar field first if present, then the value. */
function readCanonicalRegister(kind: u32, ptr: usize, length: u32): void {
  const end = ptr + length;
  let pos = ptr;
  canonicalScalarBits = 0;
  canonicalValuePtr = ptr;
  canonicalValueLength = 0;
  if (kind == LWW_REGISTER && pos < end && load<u8>(pos) == TIMESTAMP_TAG) {
    pos = readVarint(pos + 1, end);
    canonicalScalarBits = fieldValue;
  } else if (kind == PRIORITY_REGISTER && pos < end && load<u8>(pos) == PRIORITY_TAG) {
    canonicalScalarBits = load<u64>(pos + 1);
    pos += FIXED64_FIELD_BYTES;
  }
  if (pos < end) {
    skipLenField(pos);
    canonicalValuePtr = fieldPtr;
    canonicalValueLength = fieldLength;
  }
}

function scalarOrder(kind: u32, a: u64, b: u64): i32 {
  return kind == LWW_REGISTER ? maxU64Order(a, b) : minF64Order(reinterpret<f64>(a), reinterpret<f64>(b));
}

/** The join of two canonical registers: one of the two, never a copy. */
export function joinRegister(kind: u32, a: usize, aLength: u32, b: usize, bLength: u32): void {
  readCanonicalRegister(kind, a, aLength);
  const aScalarBits = canonicalScalarBits;
  const aValuePtr = canonicalValuePtr;
  const aValueLength = canonicalValueLength;
  readCanonicalRegister(kind, b, bLength);
  const order = scalarOrder(kind, aScalarBits, canonicalScalarBits);
  if (lexPairPrefersB(order, aValuePtr, aValueLength, canonicalValuePtr, canonicalValueLength)) setResult(b, bLength);
  else setResult(a, aLength);
}
