// Protobuf wire format on raw memory: the reader checks every MALFORMED rule of
// docs/wasm-abi.md; the writer emits the canonical (minimal) encoding. Positions are
// pointers; a reader returns BAD (0) instead of a position when the input is malformed,
// which is safe because no payload ever sits at address 0.

export const BAD: usize = 0;
export const WIRE_VARINT: u32 = 0;
export const WIRE_FIXED64: u32 = 1;
export const WIRE_LEN: u32 = 2;
const WIRE_FIXED32: u32 = 5;
const VARINT_BYTES_MAX: u32 = 10;
/** A u32 length as a varint takes at most this many bytes. */
const LENGTH_PREFIX_BYTES_MAX: usize = 5;

// The last field readField read. Globals, not an object: the runtime has no GC.
export let fieldNumber: u64 = 0;
export let wireType: u32 = 0;
/** A varint's value, or a fixed64's bits. */
export let fieldValue: u64 = 0;
/** A length-delimited field's bytes. */
export let fieldPtr: usize = 0;
export let fieldLength: u32 = 0;

/** Reads a varint (low 64 bits kept) into fieldValue; BAD past `end` or past 10 bytes. */
export function readVarint(pos: usize, end: usize): usize {
  let value: u64 = 0;
  for (let index: u32 = 0; index < VARINT_BYTES_MAX; index++) {
    if (pos >= end) return BAD;
    const byte = load<u8>(pos++);
    value |= <u64>(byte & 0x7f) << (7 * index);
    if ((byte & 0x80) == 0) {
      fieldValue = value;
      return pos;
    }
  }
  return BAD;
}

/** The end of a minimal varint of at most `maxBytes` at `pos` (value in fieldValue), or BAD. */
export function minimalVarintEnd(pos: usize, end: usize, maxBytes: usize): usize {
  const after = readVarint(pos, end);
  if (after == BAD || after - pos > maxBytes) return BAD;
  // A longer varint than needed ends in a zero byte.
  if (after - pos > 1 && load<u8>(after - 1) == 0) return BAD;
  return after;
}

/** Reads one field (tag and value) at `pos`; returns the position after it, or BAD. */
export function readField(pos: usize, end: usize): usize {
  pos = readVarint(pos, end);
  if (pos == BAD) return BAD;
  fieldNumber = fieldValue >> 3;
  wireType = <u32>fieldValue & 7;
  if (fieldNumber == 0) return BAD;
  if (wireType == WIRE_VARINT) return readVarint(pos, end);
  if (wireType == WIRE_FIXED64) {
    if (end - pos < 8) return BAD;
    fieldValue = load<u64>(pos);
    return pos + 8;
  }
  if (wireType == WIRE_LEN) {
    pos = readVarint(pos, end);
    if (pos == BAD || fieldValue > <u64>(end - pos)) return BAD;
    fieldPtr = pos;
    fieldLength = <u32>fieldValue;
    return pos + fieldLength;
  }
  if (wireType == WIRE_FIXED32) return end - pos < 4 ? BAD : pos + 4;
  return BAD;
}

// ---- canonical input, trusted: stored and merged values are always canonical ----

/** The position after the length-delimited field at `pos`; its bytes go to fieldPtr/fieldLength. */
export function skipLenField(pos: usize): usize {
  pos = readVarint(pos + 1, <usize>-1);
  fieldPtr = pos;
  fieldLength = <u32>fieldValue;
  return pos + fieldLength;
}

/** The end of the run of length-delimited fields with tag byte `tag` starting at `pos`. */
export function endOfRun(pos: usize, end: usize, tag: u8): usize {
  while (pos < end && load<u8>(pos) == tag) pos = skipLenField(pos);
  return pos;
}

// ---- writer ----

export function varintBytes(value: u64): u32 {
  let bytes: u32 = 1;
  while (value >= 0x80) {
    value >>= 7;
    bytes++;
  }
  return bytes;
}

export function writeVarint(pos: usize, value: u64): usize {
  while (value >= 0x80) {
    store<u8>(pos++, <u8>(value | 0x80));
    value >>= 7;
  }
  store<u8>(pos, <u8>value);
  return pos + 1;
}

/** Writes tag, length and bytes of a length-delimited field. */
export function writeLenField(pos: usize, tag: u8, src: usize, length: u32): usize {
  store<u8>(pos, tag);
  pos = writeVarint(pos + 1, length);
  memory.copy(pos, src, length);
  return pos + length;
}

export function lenFieldBytes(length: u32): u32 {
  return 1 + varintBytes(length) + length;
}

/** Starts a nested message of unknown length: returns where its content goes. */
export function beginNested(pos: usize, tag: u8): usize {
  store<u8>(pos, tag);
  return pos + 1 + LENGTH_PREFIX_BYTES_MAX;
}

/** Ends a nested message begun at `contentStart`: writes its length, moves the content up. */
export function endNested(contentStart: usize, contentEnd: usize): usize {
  const length = <u32>(contentEnd - contentStart);
  const prefixStart = contentStart - LENGTH_PREFIX_BYTES_MAX;
  const bodyStart = writeVarint(prefixStart, length);
  memory.copy(bodyStart, contentStart, length);
  return bodyStart + length;
}

/** Unsigned byte order, a shorter prefix first: the order of set elements and map keys. */
export function compareBytes(aPtr: usize, aLength: u32, bPtr: usize, bLength: u32): i32 {
  const common = min<u32>(aLength, bLength);
  let offset: u32 = 0;
  while (offset + 8 <= common) {
    const a = load<u64>(aPtr + offset);
    const b = load<u64>(bPtr + offset);
    if (a != b) return bswap<u64>(a) < bswap<u64>(b) ? -1 : 1;
    offset += 8;
  }
  while (offset < common) {
    const a = load<u8>(aPtr + offset);
    const b = load<u8>(bPtr + offset);
    if (a != b) return a < b ? -1 : 1;
    offset++;
  }
  return aLength == bLength ? 0 : aLength < bLength ? -1 : 1;
}

export function bytesEqual(aPtr: usize, bPtr: usize, length: u32): bool {
  let offset: u32 = 0;
  while (offset + 8 <= length) {
    if (load<u64>(aPtr + offset) != load<u64>(bPtr + offset)) return false;
    offset += 8;
  }
  while (offset < length) {
    if (load<u8>(aPtr + offset) != load<u8>(bPtr + offset)) return false;
    offset++;
  }
  return true;
}
