// DOTTED_CAUSAL (annakv's type 16; docs/causal-dots.md §4, §5): a multi-value register over
// a dotted causal context. DottedCausalValue: context 1 {vector entries 1, cloud dots 2},
// versions 2 {dot 1, bytes value 2}; Dot {bytes id 1, uint32 counter 2}. The join keeps a
// version both sides hold, or one the other side's context does not name; contexts unite,
// and cloud dots contiguous with their id's vector counter move into it. Mirrors
// src/lattices/dotted-causal.ts, checked byte for byte by the differential test.
import { scratchAlloc } from "../buffers";
import { BAD, compareBytes, fieldLength, fieldNumber, fieldPtr, fieldValue, lenFieldBytes, readField, varintBytes, WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint } from "../codec";
import { CLOCK_RECORD_BYTES, DOT_RECORD_BYTES, sortRecords, VERSION_RECORD_BYTES } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { setResult, WRITE_SLACK_BYTES } from "./result";
import { clockEntryCounter, clockEntryKeyLength, clockEntryKeyPtr, readClockEntry, writeClockEntry } from "./vector-clock";

const CONTEXT_TAG: u8 = 0x0a;
const VERSION_TAG: u8 = 0x12;
const VECTOR_TAG: u8 = 0x0a;
const CLOUD_TAG: u8 = 0x12;
const DOT_TAG: u8 = 0x0a;
const VALUE_TAG: u8 = 0x12;
const ID_TAG: u8 = 0x0a;
const COUNTER_TAG: u8 = 0x10;

// The dot readDot read last.
let dotIdPtr: usize = 0;
let dotIdLength: u32 = 0;
let dotCounter: u32 = 0;

/** Decodes a Dot (id 1, counter 2; the last of each wins); false if malformed, its id empty or its counter 0. */
function readDot(ptr: usize, length: u32): bool {
  const end = ptr + length;
  let pos = ptr;
  dotIdPtr = ptr;
  dotIdLength = 0;
  dotCounter = 0;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN) return false;
      dotIdPtr = fieldPtr;
      dotIdLength = fieldLength;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_VARINT) return false;
      dotCounter = <u32>fieldValue;
    }
  }
  return dotIdLength > 0 && dotCounter > 0;
}

function storeDot(record: usize, idPtr: usize, idLength: u32, counter: u32): void {
  store<u32>(record, <u32>idPtr);
  store<u32>(record, idLength, 4);
  store<u32>(record, counter, 8);
}

// What decodeDotted counted, or filled when its record pointers are not 0.
let vectorCount: usize = 0;
let dotCount: usize = 0;
let versionCount: usize = 0;

/** Decodes a version's body into a version record (when `record` is not 0); false if malformed. */
function decodeVersion(ptr: usize, length: u32, record: usize): bool {
  const end = ptr + length;
  let pos = ptr;
  let hasDot = false;
  let idPtr: usize = 0;
  let idLength: u32 = 0;
  let counter: u32 = 0;
  let valuePtr = ptr;
  let valueLength: u32 = 0;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN) return false;
      const valueFieldPtr = fieldPtr;
      const valueFieldLength = fieldLength;
      if (!readDot(valueFieldPtr, valueFieldLength)) return false;
      hasDot = true;
      idPtr = dotIdPtr;
      idLength = dotIdLength;
      counter = dotCounter;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return false;
      valuePtr = fieldPtr;
      valueLength = fieldLength;
    }
  }
  if (!hasDot) return false;
  if (record != 0) {
    storeDot(record, idPtr, idLength, counter);
    store<u32>(record, <u32>valuePtr, 12);
    store<u32>(record, valueLength, 16);
  }
  return true;
}

/** Decodes a context's body, appending its records (when the pointers are not 0); false if malformed. */
function decodeContext(ptr: usize, length: u32, vectorRecords: usize, dotRecords: usize): bool {
  const end = ptr + length;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN || !readClockEntry(fieldPtr, fieldLength)) return false;
      // A zero counter is the bottom: no entry.
      if (clockEntryCounter == 0) continue;
      if (vectorRecords != 0) storeDot(vectorRecords + vectorCount * CLOCK_RECORD_BYTES, clockEntryKeyPtr, clockEntryKeyLength, clockEntryCounter);
      vectorCount++;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return false;
      const bodyPtr = fieldPtr;
      const bodyLength = fieldLength;
      if (!readDot(bodyPtr, bodyLength)) return false;
      if (dotRecords != 0) storeDot(dotRecords + dotCount * DOT_RECORD_BYTES, dotIdPtr, dotIdLength, dotCounter);
      dotCount++;
    }
  }
  return true;
}

/** Counts (records at 0) or fills a payload's records: vector entries, cloud dots, versions. */
function decodeDotted(ptr: usize, end: usize, vectorRecords: usize, dotRecords: usize, versionRecords: usize): bool {
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN) return false;
      const bodyPtr = fieldPtr;
      const bodyLength = fieldLength;
      if (!decodeContext(bodyPtr, bodyLength, vectorRecords, dotRecords)) return false;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return false;
      const record = versionRecords == 0 ? <usize>0 : versionRecords + versionCount * VERSION_RECORD_BYTES;
      if (!decodeVersion(fieldPtr, fieldLength, record)) return false;
      versionCount++;
    }
  }
  return true;
}

/** The counter of `id` among `count` vector records sorted by id, merged (one per id); 0 when absent. */
function vectorCounterOf(records: usize, count: usize, idPtr: usize, idLength: u32): u32 {
  let low: usize = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >> 1;
    const record = records + middle * CLOCK_RECORD_BYTES;
    const order = compareBytes(load<u32>(record), load<u32>(record, 4), idPtr, idLength);
    if (order == 0) return load<u32>(record, 8);
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return 0;
}

/** Whether the context of (vector, cloud) records names the dot. Cloud records sorted by id then counter. */
function contextHas(vector: usize, vectorRecordCount: usize, cloud: usize, cloudCount: usize, idPtr: usize, idLength: u32, counter: u32): bool {
  if (counter <= vectorCounterOf(vector, vectorRecordCount, idPtr, idLength)) return true;
  for (let index: usize = 0; index < cloudCount; index++) {
    const record = cloud + index * DOT_RECORD_BYTES;
    if (load<u32>(record, 8) == counter && compareBytes(load<u32>(record), load<u32>(record, 4), idPtr, idLength) == 0) return true;
  }
  return false;
}

/**
 * Merges sorted vector records in place (one per id, the largest counter); returns the count.
 */
function mergeVector(records: usize, count: usize): usize {
  sortRecords(records, count, CLOCK_RECORD_BYTES);
  let kept: usize = 0;
  for (let index: usize = 0; index < count; index++) {
    const record = records + index * CLOCK_RECORD_BYTES;
    const last = records + (kept - 1) * CLOCK_RECORD_BYTES;
    if (kept > 0 && compareBytes(load<u32>(last), load<u32>(last, 4), load<u32>(record), load<u32>(record, 4)) == 0) {
      store<u32>(last, max<u32>(load<u32>(last, 8), load<u32>(record, 8)), 8);
      continue;
    }
    if (kept != index) memory.copy(records + kept * CLOCK_RECORD_BYTES, record, CLOCK_RECORD_BYTES);
    kept++;
  }
  return kept;
}

/**
 * Writes the canonical value of vector records (room for `vectorRoom` of them), dot
 * records (the cloud's and every version's) and version records: the context compacted,
 * the versions one per dot (the larger value bytes). Returns the end, or 0 when out of memory.
 */
function writeDotted(vector: usize, vectorRecordCount: usize, vectorRoom: usize, dots: usize, dotRecordCount: usize, versions: usize, versionRecordCount: usize, out: usize): usize {
  const merged = mergeVector(vector, vectorRecordCount);
  sortRecords(dots, dotRecordCount, DOT_RECORD_BYTES);
  // Compaction: per id (dots sorted by id, then counter), dots next to the counter extend
  // it; past a gap none does, so the rest stay in the cloud. An id's new counter is added
  // after the merged entries (each id's lookup reads those alone) and merged in at the end.
  const cloud = scratchAlloc(<u64>dotRecordCount * DOT_RECORD_BYTES + 8);
  if (cloud == 0) return 0;
  let cloudCount: usize = 0;
  let raised: usize = 0;
  let index: usize = 0;
  while (index < dotRecordCount) {
    const first = dots + index * DOT_RECORD_BYTES;
    const idPtr = <usize>load<u32>(first);
    const idLength = load<u32>(first, 4);
    const vectorCounter = vectorCounterOf(vector, merged, idPtr, idLength);
    let counter = vectorCounter;
    const cloudStart = cloudCount;
    while (index < dotRecordCount) {
      const dot = dots + index * DOT_RECORD_BYTES;
      if (compareBytes(load<u32>(dot), load<u32>(dot, 4), idPtr, idLength) != 0) break;
      const dotCounter = load<u32>(dot, 8);
      if (dotCounter == counter + 1) counter = dotCounter;
      else if (dotCounter > counter + 1) {
        const previous = cloud + (cloudCount - 1) * DOT_RECORD_BYTES;
        if (cloudCount == cloudStart || load<u32>(previous, 8) != dotCounter) {
          memory.copy(cloud + cloudCount * DOT_RECORD_BYTES, dot, DOT_RECORD_BYTES);
          cloudCount++;
        }
      }
      index++;
    }
    if (counter != vectorCounter) {
      assert(merged + raised < vectorRoom);
      storeDot(vector + (merged + raised) * CLOCK_RECORD_BYTES, idPtr, idLength, counter);
      raised++;
    }
  }
  const vectorKept = raised == 0 ? merged : mergeVector(vector, merged + raised);
  sortRecords(versions, versionRecordCount, VERSION_RECORD_BYTES);
  // The context's body: vector entries, then cloud dots.
  let contextBytes: u32 = 0;
  for (let at: usize = 0; at < vectorKept; at++) contextBytes += lenFieldBytes(entryBodyBytes(vector + at * CLOCK_RECORD_BYTES));
  for (let at: usize = 0; at < cloudCount; at++) contextBytes += lenFieldBytes(dotBodyBytes(cloud + at * DOT_RECORD_BYTES));
  let pos = out;
  if (contextBytes > 0) {
    store<u8>(pos, CONTEXT_TAG);
    pos = writeVarint(pos + 1, contextBytes);
    for (let at: usize = 0; at < vectorKept; at++) {
      const record = vector + at * CLOCK_RECORD_BYTES;
      pos = writeClockEntry(pos, VECTOR_TAG, load<u32>(record), load<u32>(record, 4), load<u32>(record, 8));
    }
    for (let at: usize = 0; at < cloudCount; at++) pos = writeDot(pos, CLOUD_TAG, cloud + at * DOT_RECORD_BYTES);
  }
  for (let at: usize = 0; at < versionRecordCount; at++) {
    const record = versions + at * VERSION_RECORD_BYTES;
    // Sorted by dot, then value bytes from the largest: the first of each dot is kept.
    if (at > 0 && sameDot(record - VERSION_RECORD_BYTES, record)) continue;
    const valueLength = load<u32>(record, 16);
    const dotBytes = lenFieldBytes(dotBodyBytes(record));
    store<u8>(pos, VERSION_TAG);
    pos = writeVarint(pos + 1, dotBytes + lenFieldBytes(valueLength));
    pos = writeDot(pos, DOT_TAG, record);
    pos = writeLenField(pos, VALUE_TAG, <usize>load<u32>(record, 12), valueLength);
  }
  return pos;
}

function sameDot(a: usize, b: usize): bool {
  return load<u32>(a, 8) == load<u32>(b, 8) && compareBytes(load<u32>(a), load<u32>(a, 4), load<u32>(b), load<u32>(b, 4)) == 0;
}

function entryBodyBytes(record: usize): u32 {
  const idLength = load<u32>(record, 4);
  return (idLength > 0 ? lenFieldBytes(idLength) : 0) + 1 + varintBytes(load<u32>(record, 8));
}

function dotBodyBytes(record: usize): u32 {
  return lenFieldBytes(load<u32>(record, 4)) + 1 + varintBytes(load<u32>(record, 8));
}

function writeDot(pos: usize, tag: u8, record: usize): usize {
  store<u8>(pos, tag);
  pos = writeVarint(pos + 1, dotBodyBytes(record));
  pos = writeLenField(pos, ID_TAG, <usize>load<u32>(record), load<u32>(record, 4));
  store<u8>(pos, COUNTER_TAG);
  return writeVarint(pos + 1, load<u32>(record, 8));
}

/** Decodes a DOTTED_CAUSAL payload into its canonical form (in the result). */
export function canonicalizeDottedCausal(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  vectorCount = 0;
  dotCount = 0;
  versionCount = 0;
  if (!decodeDotted(ptr, end, 0, 0, 0)) return MALFORMED;
  const vectorRoom = vectorCount + dotCount + versionCount;
  const vector = scratchAlloc(<u64>vectorRoom * CLOCK_RECORD_BYTES + 8);
  const dots = vector == 0 ? <usize>0 : scratchAlloc(<u64>(dotCount + versionCount) * DOT_RECORD_BYTES + 8);
  const versions = dots == 0 ? <usize>0 : scratchAlloc(<u64>versionCount * VERSION_RECORD_BYTES + 8);
  // The context may gain every version's dot: at most the versions' bytes again.
  const out = versions == 0 ? <usize>0 : scratchAlloc(2 * <u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  const counted = versionCount;
  vectorCount = 0;
  dotCount = 0;
  versionCount = 0;
  decodeDotted(ptr, end, vector, dots, versions);
  assert(versionCount == counted);
  for (let at: usize = 0; at < versionCount; at++) memory.copy(dots + (dotCount + at) * DOT_RECORD_BYTES, versions + at * VERSION_RECORD_BYTES, 12);
  const written = writeDotted(vector, vectorCount, vectorRoom, dots, dotCount + versionCount, versions, versionCount, out);
  if (written == 0) return OUT_OF_MEMORY;
  setResult(out, <u32>(written - out));
  return OK;
}

/** Joins canonical DOTTED_CAUSAL values a and b into the result: OK or OUT_OF_MEMORY. */
export function joinDottedCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  // Counts of each side (canonical, so well-formed).
  vectorCount = 0;
  dotCount = 0;
  versionCount = 0;
  decodeDotted(a, a + aLength, 0, 0, 0);
  const aVectors = vectorCount;
  const aDots = dotCount;
  const aVersions = versionCount;
  vectorCount = 0;
  dotCount = 0;
  versionCount = 0;
  decodeDotted(b, b + bLength, 0, 0, 0);
  const vectorRoom = aVectors + vectorCount + aDots + dotCount;
  const allVersions = aVersions + versionCount;
  const vector = scratchAlloc(<u64>vectorRoom * CLOCK_RECORD_BYTES + 8);
  const dots = vector == 0 ? <usize>0 : scratchAlloc(<u64>(aDots + dotCount) * DOT_RECORD_BYTES + 8);
  const versions = dots == 0 ? <usize>0 : scratchAlloc(<u64>allVersions * VERSION_RECORD_BYTES + 8);
  const kept = versions == 0 ? <usize>0 : scratchAlloc(<u64>allVersions * VERSION_RECORD_BYTES + 8);
  const out = kept == 0 ? <usize>0 : scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  // Each side's records, a's first: its vector (sorted, canonical) and cloud give a's context.
  vectorCount = 0;
  dotCount = 0;
  versionCount = 0;
  decodeDotted(a, a + aLength, vector, dots, versions);
  decodeDotted(b, b + bLength, vector, dots, versions);
  const bVector = vector + aVectors * CLOCK_RECORD_BYTES;
  const bCloud = dots + aDots * DOT_RECORD_BYTES;
  const bVectors = vectorCount - aVectors;
  const bDots = dotCount - aDots;
  let keptCount: usize = 0;
  for (let at: usize = 0; at < allVersions; at++) {
    const record = versions + at * VERSION_RECORD_BYTES;
    const fromA = at < aVersions;
    const idPtr = <usize>load<u32>(record);
    const idLength = load<u32>(record, 4);
    const counter = load<u32>(record, 8);
    // Held by both sides (versions of one dot), or unseen by the other side's context.
    const inOther = fromA
      ? holdsDot(versions + aVersions * VERSION_RECORD_BYTES, allVersions - aVersions, record)
      : holdsDot(versions, aVersions, record);
    const seenByOther = fromA
      ? contextHas(bVector, bVectors, bCloud, bDots, idPtr, idLength, counter)
      : contextHas(vector, aVectors, dots, aDots, idPtr, idLength, counter);
    if (!inOther && seenByOther) continue;
    memory.copy(kept + keptCount * VERSION_RECORD_BYTES, record, VERSION_RECORD_BYTES);
    keptCount++;
  }
  const written = writeDotted(vector, vectorCount, vectorRoom, dots, dotCount, kept, keptCount, out);
  if (written == 0) return OUT_OF_MEMORY;
  setResult(out, <u32>(written - out));
  return OK;
}

/** Whether `count` version records hold one with the dot of `record`. */
function holdsDot(records: usize, count: usize, record: usize): bool {
  for (let at: usize = 0; at < count; at++) if (sameDot(records + at * VERSION_RECORD_BYTES, record)) return true;
  return false;
}
