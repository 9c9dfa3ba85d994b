// Read atomic's LWW (docs/lattices.md; docs/consistency.md §2.6): an LWWValue with a write
// set (field 14) beside its committed version, and a window of versions (field 15,
// LWWVersion: timestamp 1, write id 2, value 3, write-set keys 4, committed 5).
//   committed part = (max u64 timestamp, (max bytes write id, (max bytes value, write set)))
//   window         = map((timestamp, write id) → (max bytes value, write set, max bool committed))
// pruned after every join to the keys at or above θ (src/lattices/lww.ts says why that keeps
// the join a join). A write set is a union kept to its WRITE_SET_KEYS_MAX least keys.
// register.ts sends only payloads and values with fields 14 or 15 here, so a plain LWW PUT
// never parses them.
//
// Versions are records pointing at their parts, sorted by key: the key (timestamp in 8
// big-endian bytes, then the write id) is written to scratch so that bytes order as
// (timestamp, write id); a value is never copied before the output.
import {
  BAD, compareBytes, endOfRun, fieldLength, fieldNumber, fieldPtr, fieldValue, lenFieldBytes, readField, readVarint,
  skipLenField, varintBytes, WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint,
} from "../codec";
import { scratchAlloc } from "../buffers";
import { SLICE_RECORD_BYTES, compareRecords, sortRecords } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { unionSets, writeSet } from "./byte-set";
import {
  COMMITTED_VERSIONS_KEPT, TIMESTAMP_TAG, VALUE_TAG, VERSION_TAG, VERSIONS_MAX, WINDOW_MICROS, WRITE_ID_BYTES_MAX,
  WRITE_ID_FIELD, WRITE_ID_TAG, WRITE_SET_FIELD, WRITE_SET_KEY_BYTES_MAX, WRITE_SET_KEYS_MAX, WRITE_SET_TAG,
  VERSION_FIELD,
} from "./lww-fields";
import { setResult, WRITE_SLACK_BYTES } from "./result";

// A version record. The key's slice comes first, so sort.ts orders records by key.
const VERSION_RECORD_BYTES: usize = 28;
const RECORD_VALUE: usize = 8;
const RECORD_VALUE_LENGTH: usize = 12;
const RECORD_WRITE_SET: usize = 16;
const RECORD_WRITE_SET_END: usize = 20;
const RECORD_COMMITTED: usize = 24;
const STAMP_KEY_BYTES: u32 = 8;
const KEY_BYTES_MAX: u32 = STAMP_KEY_BYTES + WRITE_ID_BYTES_MAX;

const VERSION_TIMESTAMP_TAG: u8 = 0x08;
const VERSION_WRITE_ID_TAG: u8 = 0x12;
const VERSION_VALUE_TAG: u8 = 0x1a;
const VERSION_WRITE_SET_TAG: u8 = 0x22;
const VERSION_COMMITTED_TAG: u8 = 0x28;
const COMMITTED_FIELD_BYTES: u32 = 2;

/** θ's first candidate, stampKey(committed timestamp − W): 8 bytes, an empty write id. */
const stampFloorKey: usize = memory.data(8, 8);

// ---- records ----

function storeRecord(record: usize, keyPtr: usize, keyLength: u32, valuePtr: usize, valueLength: u32, writeSetStart: usize, writeSetEnd: usize, committed: bool): void {
  store<u32>(record, keyPtr);
  store<u32>(record, keyLength, 4);
  store<u32>(record, valuePtr, RECORD_VALUE);
  store<u32>(record, valueLength, RECORD_VALUE_LENGTH);
  store<u32>(record, writeSetStart, RECORD_WRITE_SET);
  store<u32>(record, writeSetEnd, RECORD_WRITE_SET_END);
  store<u32>(record, committed ? 1 : 0, RECORD_COMMITTED);
}

function writeStampKey(out: usize, stamp: u64, writeIdPtr: usize, writeIdLength: u32): void {
  store<u64>(out, bswap<u64>(stamp));
  memory.copy(out + STAMP_KEY_BYTES, writeIdPtr, writeIdLength);
}

function recordStamp(record: usize): u64 {
  return bswap<u64>(load<u64>(load<u32>(record)));
}

function compareRecordKey(record: usize, keyPtr: usize, keyLength: u32): i32 {
  return compareBytes(load<u32>(record), load<u32>(record, 4), keyPtr, keyLength);
}

/** The end of a canonical run of write-set keys kept to its WRITE_SET_KEYS_MAX least. */
function keepLeastKeys(start: usize, end: usize): usize {
  let pos = start;
  for (let index: u32 = 0; index < WRITE_SET_KEYS_MAX && pos < end; index++) pos = skipLenField(pos);
  return pos;
}

/** Joins the record `other` of an equal key into `into`: larger value, write sets united, committed if either. */
function joinRecord(into: usize, other: usize): bool {
  const intoValue = load<u32>(into, RECORD_VALUE);
  const intoValueLength = load<u32>(into, RECORD_VALUE_LENGTH);
  const otherValue = load<u32>(other, RECORD_VALUE);
  const otherValueLength = load<u32>(other, RECORD_VALUE_LENGTH);
  if (compareBytes(otherValue, otherValueLength, intoValue, intoValueLength) > 0) {
    store<u32>(into, otherValue, RECORD_VALUE);
    store<u32>(into, otherValueLength, RECORD_VALUE_LENGTH);
  }
  const intoSet = load<u32>(into, RECORD_WRITE_SET);
  const intoSetEnd = load<u32>(into, RECORD_WRITE_SET_END);
  const otherSet = load<u32>(other, RECORD_WRITE_SET);
  const otherSetEnd = load<u32>(other, RECORD_WRITE_SET_END);
  if (otherSetEnd > otherSet) {
    const united = scratchAlloc(<u64>(intoSetEnd - intoSet) + <u64>(otherSetEnd - otherSet));
    if (united == 0) return false;
    const unitedEnd = unionSets(intoSet, intoSetEnd, otherSet, otherSetEnd, united);
    store<u32>(into, united, RECORD_WRITE_SET);
    store<u32>(into, keepLeastKeys(united, unitedEnd), RECORD_WRITE_SET_END);
  }
  store<u32>(into, load<u32>(into, RECORD_COMMITTED) | load<u32>(other, RECORD_COMMITTED), RECORD_COMMITTED);
  return true;
}

/** Sorts `count` records and writes one per key into `out`, joining equal keys; the count written, or -1 (memory). */
function collapseRecords(records: usize, count: usize, out: usize): i32 {
  sortRecords(records, count, VERSION_RECORD_BYTES);
  let written: i32 = 0;
  let last = out;
  for (let index: usize = 0; index < count; index++) {
    const record = records + index * VERSION_RECORD_BYTES;
    if (written > 0 && compareRecords(last, record, VERSION_RECORD_BYTES) == 0) {
      if (!joinRecord(last, record)) return -1;
      continue;
    }
    last = out + <usize>written * VERSION_RECORD_BYTES;
    memory.copy(last, record, VERSION_RECORD_BYTES);
    written++;
  }
  return written;
}

// ---- the window's output: θ, then the versions at or above it ----

/** The index of the first record at or above θ (docs in src/lattices/lww.ts). */
function firstKeptRecord(records: usize, count: i32, committedStamp: u64): i32 {
  store<u64>(stampFloorKey, bswap<u64>(committedStamp > WINDOW_MICROS ? committedStamp - WINDOW_MICROS : 0));
  let thresholdPtr = stampFloorKey;
  let thresholdLength = STAMP_KEY_BYTES;
  let committedSeen: u32 = 0;
  for (let index = count - 1; index >= 0; index--) {
    const record = records + <usize>index * VERSION_RECORD_BYTES;
    if (load<u32>(record, RECORD_COMMITTED) == 0 || ++committedSeen < COMMITTED_VERSIONS_KEPT) continue;
    if (compareRecordKey(record, thresholdPtr, thresholdLength) > 0) {
      thresholdPtr = load<u32>(record);
      thresholdLength = load<u32>(record, 4);
    }
    break;
  }
  if (count >= <i32>VERSIONS_MAX) {
    const record = records + <usize>(count - <i32>VERSIONS_MAX) * VERSION_RECORD_BYTES;
    if (compareRecordKey(record, thresholdPtr, thresholdLength) > 0) {
      thresholdPtr = load<u32>(record);
      thresholdLength = load<u32>(record, 4);
    }
  }
  let first: i32 = 0;
  while (first < count && compareRecordKey(records + <usize>first * VERSION_RECORD_BYTES, thresholdPtr, thresholdLength) < 0) first++;
  return first;
}

function versionBodyBytes(record: usize): u32 {
  const stamp = recordStamp(record);
  const writeIdLength = load<u32>(record, 4) - STAMP_KEY_BYTES;
  const valueLength = load<u32>(record, RECORD_VALUE_LENGTH);
  let bytes: u32 = stamp != 0 ? 1 + varintBytes(stamp) : 0;
  if (writeIdLength != 0) bytes += lenFieldBytes(writeIdLength);
  if (valueLength != 0) bytes += lenFieldBytes(valueLength);
  bytes += load<u32>(record, RECORD_WRITE_SET_END) - load<u32>(record, RECORD_WRITE_SET);
  return load<u32>(record, RECORD_COMMITTED) != 0 ? bytes + COMMITTED_FIELD_BYTES : bytes;
}

/** Writes a record as a canonical field 15; returns the end. */
function writeVersion(pos: usize, record: usize): usize {
  store<u8>(pos, VERSION_TAG);
  pos = writeVarint(pos + 1, versionBodyBytes(record));
  const stamp = recordStamp(record);
  if (stamp != 0) {
    store<u8>(pos, VERSION_TIMESTAMP_TAG);
    pos = writeVarint(pos + 1, stamp);
  }
  const writeIdLength = load<u32>(record, 4) - STAMP_KEY_BYTES;
  if (writeIdLength != 0) pos = writeLenField(pos, VERSION_WRITE_ID_TAG, load<u32>(record) + STAMP_KEY_BYTES, writeIdLength);
  const valueLength = load<u32>(record, RECORD_VALUE_LENGTH);
  if (valueLength != 0) pos = writeLenField(pos, VERSION_VALUE_TAG, load<u32>(record, RECORD_VALUE), valueLength);
  const writeSetStart = load<u32>(record, RECORD_WRITE_SET);
  const writeSetBytes = load<u32>(record, RECORD_WRITE_SET_END) - writeSetStart;
  memory.copy(pos, writeSetStart, writeSetBytes);
  pos += writeSetBytes;
  if (load<u32>(record, RECORD_COMMITTED) == 0) return pos;
  store<u8>(pos, VERSION_COMMITTED_TAG);
  store<u8>(pos + 1, 1);
  return pos + COMMITTED_FIELD_BYTES;
}

/** Writes the versions that survive pruning; returns the end. */
function writeWindow(records: usize, count: i32, committedStamp: u64, pos: usize): usize {
  for (let index = firstKeptRecord(records, count, committedStamp); index < count; index++) {
    pos = writeVersion(pos, records + <usize>index * VERSION_RECORD_BYTES);
  }
  return pos;
}

/** Writes the committed part's timestamp, value and write id (each if not default); the write set follows. */
function writeCommittedHead(pos: usize, stamp: u64, valuePtr: usize, valueLength: u32, writeIdPtr: usize, writeIdLength: u32): usize {
  if (stamp != 0) {
    store<u8>(pos, TIMESTAMP_TAG);
    pos = writeVarint(pos + 1, stamp);
  }
  if (valueLength != 0) pos = writeLenField(pos, VALUE_TAG, valuePtr, valueLength);
  if (writeIdLength != 0) pos = writeLenField(pos, WRITE_ID_TAG, writeIdPtr, writeIdLength);
  return pos;
}

// ---- incoming payloads ----

// The parts of the last LWWVersion readVersion read.
let versionStamp: u64 = 0;
let versionWriteIdPtr: usize = 0;
let versionWriteIdLength: u32 = 0;
let versionValuePtr: usize = 0;
let versionValueLength: u32 = 0;
let versionCommitted: bool = false;

/** Whether the field just read is a write-set key within the limits, `keyCount` keys being read before it. */
function isWriteSetKey(keyCount: u32): bool {
  return wireType == WIRE_LEN && fieldLength <= WRITE_SET_KEY_BYTES_MAX && keyCount < WRITE_SET_KEYS_MAX;
}

/** Reads an incoming LWWVersion into the version globals, filling slice records of its write set when `keys` is not 0; its key count, or -1 if malformed. */
function readVersion(ptr: usize, length: u32, keys: usize): i32 {
  const end = ptr + length;
  versionStamp = 0;
  versionWriteIdLength = 0;
  versionValueLength = 0;
  versionCommitted = false;
  let keyCount: u32 = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return -1;
    if (fieldNumber == 1 || fieldNumber == 5) {
      if (wireType != WIRE_VARINT) return -1;
      if (fieldNumber == 1) versionStamp = fieldValue;
      else versionCommitted = fieldValue != 0;
    } else if (fieldNumber == 2 || fieldNumber == 3) {
      if (wireType != WIRE_LEN) return -1;
      if (fieldNumber == 2) {
        versionWriteIdPtr = fieldPtr;
        versionWriteIdLength = fieldLength;
      } else {
        versionValuePtr = fieldPtr;
        versionValueLength = fieldLength;
      }
    } else if (fieldNumber == 4) {
      if (!isWriteSetKey(keyCount)) return -1;
      if (keys != 0) storeSlice(keys + <usize>keyCount * SLICE_RECORD_BYTES, fieldPtr, fieldLength);
      keyCount++;
    }
  }
  return versionWriteIdLength > WRITE_ID_BYTES_MAX ? -1 : <i32>keyCount;
}

function storeSlice(record: usize, ptr: usize, length: u32): void {
  store<u32>(record, ptr);
  store<u32>(record, length, 4);
}

// What a pass over an incoming LWWValue found: the committed part, and counts to size scratch by.
let headStamp: u64 = 0;
let headValuePtr: usize = 0;
let headValueLength: u32 = 0;
let headWriteIdPtr: usize = 0;
let headWriteIdLength: u32 = 0;
let headKeyCount: u32 = 0;
let versionCount: u32 = 0;
let versionKeyCount: u32 = 0;

/** The regions a filling pass writes: slice records of keys, version records, window keys, versions' write sets. */
let headKeys: usize = 0;
let versionKeys: usize = 0;
let versionRecords: usize = 0;
let windowKeys: usize = 0;
let versionWriteSets: usize = 0;

/** One pass over an incoming LWWValue; with `fill`, writes the regions above. False if malformed. */
function readWindowedLww(ptr: usize, end: usize, fill: bool): bool {
  headStamp = 0;
  headValueLength = 0;
  headWriteIdLength = 0;
  headKeyCount = 0;
  versionCount = 0;
  versionKeyCount = 0;
  let keyPos = windowKeys;
  let writeSetPos = versionWriteSets;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_VARINT) return false;
      headStamp = fieldValue;
    } else if (fieldNumber == 2 || fieldNumber == WRITE_ID_FIELD) {
      if (wireType != WIRE_LEN) return false;
      if (fieldNumber == 2) {
        headValuePtr = fieldPtr;
        headValueLength = fieldLength;
      } else {
        headWriteIdPtr = fieldPtr;
        headWriteIdLength = fieldLength;
      }
    } else if (fieldNumber == WRITE_SET_FIELD) {
      if (!isWriteSetKey(headKeyCount)) return false;
      if (fill) storeSlice(headKeys + <usize>headKeyCount * SLICE_RECORD_BYTES, fieldPtr, fieldLength);
      headKeyCount++;
    } else if (fieldNumber == VERSION_FIELD) {
      if (wireType != WIRE_LEN || versionCount == VERSIONS_MAX) return false;
      const keys = fill ? versionKeys + <usize>versionKeyCount * SLICE_RECORD_BYTES : 0;
      const keyCount = readVersion(fieldPtr, fieldLength, keys);
      if (keyCount < 0) return false;
      if (fill) {
        writeStampKey(keyPos, versionStamp, versionWriteIdPtr, versionWriteIdLength);
        const writeSetEnd = writeSet(keys, <usize>keyCount, VERSION_WRITE_SET_TAG, writeSetPos);
        const record = versionRecords + <usize>versionCount * VERSION_RECORD_BYTES;
        storeRecord(record, keyPos, STAMP_KEY_BYTES + versionWriteIdLength, versionValuePtr, versionValueLength, writeSetPos, writeSetEnd, versionCommitted);
        keyPos += STAMP_KEY_BYTES + versionWriteIdLength;
        writeSetPos = writeSetEnd;
      }
      versionCount++;
      versionKeyCount += <u32>keyCount;
    }
  }
  return headWriteIdLength <= WRITE_ID_BYTES_MAX;
}

/** Decodes an incoming LWWValue that has field 14 or 15 into its canonical form (in the result). */
export function canonicalizeWindowedLww(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  if (!readWindowedLww(ptr, end, false)) return MALFORMED;
  headKeys = scratchAlloc(<u64>headKeyCount * SLICE_RECORD_BYTES);
  versionKeys = headKeys == 0 ? 0 : scratchAlloc(<u64>versionKeyCount * SLICE_RECORD_BYTES);
  versionRecords = versionKeys == 0 ? 0 : scratchAlloc(<u64>versionCount * VERSION_RECORD_BYTES * 2);
  windowKeys = versionRecords == 0 ? 0 : scratchAlloc(<u64>versionCount * KEY_BYTES_MAX);
  // A canonical write set is no longer than the fields it came from.
  versionWriteSets = windowKeys == 0 ? 0 : scratchAlloc(<u64>length);
  const out = versionWriteSets == 0 ? <usize>0 : scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  readWindowedLww(ptr, end, true);
  const collapsed = versionRecords + <usize>versionCount * VERSION_RECORD_BYTES;
  const count = collapseRecords(versionRecords, versionCount, collapsed);
  if (count < 0) return OUT_OF_MEMORY;
  let pos = writeCommittedHead(out, headStamp, headValuePtr, headValueLength, headWriteIdPtr, headWriteIdLength);
  pos = writeSet(headKeys, headKeyCount, WRITE_SET_TAG, pos);
  pos = writeWindow(collapsed, count, headStamp, pos);
  setResult(out, <u32>(pos - out));
  return OK;
}

// ---- canonical values ----

// The parts of the last canonical value readCanonical read.
let canonicalStamp: u64 = 0;
let canonicalValuePtr: usize = 0;
let canonicalValueLength: u32 = 0;
let canonicalWriteIdPtr: usize = 0;
let canonicalWriteIdLength: u32 = 0;
let canonicalWriteSet: usize = 0;
let canonicalVersions: usize = 0;

/** Reads a canonical LWWValue's committed part; its write set runs to canonicalVersions, the versions to its end. */
function readCanonical(ptr: usize, end: usize): void {
  let pos = ptr;
  canonicalStamp = 0;
  if (pos < end && load<u8>(pos) == TIMESTAMP_TAG) {
    pos = readVarint(pos + 1, end);
    canonicalStamp = fieldValue;
  }
  canonicalValueLength = 0;
  if (pos < end && load<u8>(pos) == VALUE_TAG) {
    pos = skipLenField(pos);
    canonicalValuePtr = fieldPtr;
    canonicalValueLength = fieldLength;
  }
  canonicalWriteIdLength = 0;
  if (pos < end && load<u8>(pos) == WRITE_ID_TAG) {
    pos = skipLenField(pos);
    canonicalWriteIdPtr = fieldPtr;
    canonicalWriteIdLength = fieldLength;
  }
  canonicalWriteSet = pos;
  canonicalVersions = endOfRun(pos, end, WRITE_SET_TAG);
}

/**
 * Whether a canonical LWWValue carries a write set or versions, which follow its first three
 * fields; `pos` is past its timestamp (the plain join has read that already).
 */
// @ts-ignore: decorator
@inline export function hasWindowFields(pos: usize, end: usize): bool {
  if (pos < end && load<u8>(pos) == VALUE_TAG) pos = skipLenField(pos);
  if (pos < end && load<u8>(pos) == WRITE_ID_TAG) pos = skipLenField(pos);
  return pos < end;
}

/** Writes a record for each canonical version in [pos, end) at `records`, their keys at `keys`; returns the next free key byte. */
function readCanonicalVersions(pos: usize, end: usize, records: usize, keys: usize): usize {
  let record = records;
  while (pos < end) {
    const next = skipLenField(pos);
    const body = fieldPtr;
    const bodyEnd = body + fieldLength;
    let field = body;
    let stamp: u64 = 0;
    if (field < bodyEnd && load<u8>(field) == VERSION_TIMESTAMP_TAG) {
      field = readVarint(field + 1, bodyEnd);
      stamp = fieldValue;
    }
    let writeIdPtr = field;
    let writeIdLength: u32 = 0;
    if (field < bodyEnd && load<u8>(field) == VERSION_WRITE_ID_TAG) {
      field = skipLenField(field);
      writeIdPtr = fieldPtr;
      writeIdLength = fieldLength;
    }
    let valuePtr = field;
    let valueLength: u32 = 0;
    if (field < bodyEnd && load<u8>(field) == VERSION_VALUE_TAG) {
      field = skipLenField(field);
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    }
    const writeSetEnd = endOfRun(field, bodyEnd, VERSION_WRITE_SET_TAG);
    assert(writeSetEnd == bodyEnd || load<u8>(writeSetEnd) == VERSION_COMMITTED_TAG);
    writeStampKey(keys, stamp, writeIdPtr, writeIdLength);
    storeRecord(record, keys, STAMP_KEY_BYTES + writeIdLength, valuePtr, valueLength, field, writeSetEnd, writeSetEnd < bodyEnd);
    keys += STAMP_KEY_BYTES + writeIdLength;
    record += VERSION_RECORD_BYTES;
    pos = next;
  }
  return keys;
}

function countFields(pos: usize, end: usize): usize {
  let count: usize = 0;
  for (; pos < end; count++) pos = skipLenField(pos);
  return count;
}

/** The join of two canonical LWWValues, one of which has field 14 or 15 (in the result). */
export function joinWindowedLww(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const aEnd = a + aLength;
  const bEnd = b + bLength;
  readCanonical(b, bEnd);
  const bVersions = canonicalVersions;
  const bCount = countFields(bVersions, bEnd);
  readCanonical(a, aEnd);
  const aCount = countFields(canonicalVersions, aEnd);
  const count = aCount + bCount;
  const records = scratchAlloc(<u64>count * VERSION_RECORD_BYTES * 2);
  const keys = records == 0 ? <usize>0 : scratchAlloc(<u64>count * KEY_BYTES_MAX);
  const out = keys == 0 ? <usize>0 : scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  const bKeys = readCanonicalVersions(canonicalVersions, aEnd, records, keys);
  readCanonicalVersions(bVersions, bEnd, records + aCount * VERSION_RECORD_BYTES, bKeys);
  const collapsed = records + count * VERSION_RECORD_BYTES;
  const collapsedCount = collapseRecords(records, count, collapsed);
  if (collapsedCount < 0) return OUT_OF_MEMORY;
  const stamp = joinCommittedParts(a, aEnd, b, bEnd, out);
  setResult(out, <u32>(writeWindow(collapsed, collapsedCount, stamp, committedEnd) - out));
  return OK;
}

/** Where joinCommittedParts stopped writing. */
let committedEnd: usize = 0;

/**
 * Writes the join of two canonical committed parts at `out` (the end in committedEnd) and
 * returns its timestamp: the greater (timestamp, write id) wins whole; equal ones keep the
 * larger value and unite the write sets.
 */
function joinCommittedParts(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): u64 {
  readCanonical(a, aEnd);
  const aStamp = canonicalStamp;
  const aValuePtr = canonicalValuePtr;
  const aValueLength = canonicalValueLength;
  const aWriteIdPtr = canonicalWriteIdPtr;
  const aWriteIdLength = canonicalWriteIdLength;
  const aWriteSet = canonicalWriteSet;
  const aVersions = canonicalVersions;
  readCanonical(b, bEnd);
  let order: i32 = aStamp == canonicalStamp ? 0 : aStamp > canonicalStamp ? 1 : -1;
  if (order == 0) order = compareBytes(aWriteIdPtr, aWriteIdLength, canonicalWriteIdPtr, canonicalWriteIdLength);
  if (order != 0) {
    const from = order > 0 ? a : b;
    const bytes = order > 0 ? aVersions - a : canonicalVersions - b;
    memory.copy(out, from, bytes);
    committedEnd = out + bytes;
    return order > 0 ? aStamp : canonicalStamp;
  }
  const bValueWins = compareBytes(canonicalValuePtr, canonicalValueLength, aValuePtr, aValueLength) > 0;
  const valuePtr = bValueWins ? canonicalValuePtr : aValuePtr;
  const valueLength = bValueWins ? canonicalValueLength : aValueLength;
  const pos = writeCommittedHead(out, aStamp, valuePtr, valueLength, aWriteIdPtr, aWriteIdLength);
  committedEnd = keepLeastKeys(pos, unionSets(aWriteSet, aVersions, canonicalWriteSet, canonicalVersions, pos));
  return aStamp;
}
