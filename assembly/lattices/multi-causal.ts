// MULTI_CAUSAL (MultiKeyCausalValue: clock entries 1, dependencies 2, values 3) = causal
// pair of a vector clock and (dependency map, byte-string set).
import { BAD, endOfRun, fieldLength, fieldNumber, fieldPtr, readField, WIRE_LEN, wireType } from "../codec";
import { scratchAlloc } from "../buffers";
import { CLOCK_RECORD_BYTES, DEPENDENCY_RECORD_BYTES, SLICE_RECORD_BYTES } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { unionSets, writeSet } from "./byte-set";
import { CLOCK_TAG, joinCausal } from "./causal-pair";
import { ENTRY_KIND, joinDependencies, PRESENCE_KIND, writeDependencies } from "./dependencies";
import { setResult, WRITE_SLACK_BYTES } from "./result";
import { storeClockRecord, storeSliceRecord } from "./single-causal";
import { clockEntryCounter, clockEntryKeyLength, clockEntryKeyPtr, readClockEntry, writeClock } from "./vector-clock";

const DEPENDENCY_TAG: u8 = 0x12;
const VALUE_TAG: u8 = 0x1a;

let clockCount: usize = 0;
let dependencyRecordCount: usize = 0;
let valueCount: usize = 0;

function storeDependencyRecord(record: usize, keyPtr: usize, keyLength: u32, kind: u32): void {
  store<u32>(record, keyPtr);
  store<u32>(record, keyLength, 4);
  store<u32>(record, kind, 8);
  store<u32>(record, kind == PRESENCE_KIND ? keyPtr : clockEntryKeyPtr, 12);
  store<u32>(record, kind == PRESENCE_KIND ? 0 : clockEntryKeyLength, 16);
  store<u32>(record, kind == PRESENCE_KIND ? 0 : clockEntryCounter, 20);
}

/**
 * Decodes a KeyVersion (key 1, clock entries 2): returns its record count (a presence
 * record plus one per clock entry), filling records when `records` is not 0; -1 if
 * malformed. The key is known only at the end (the last one wins), hence two passes.
 */
function decodeKeyVersion(ptr: usize, length: u32, records: usize): i64 {
  const end = ptr + length;
  let keyPtr = ptr;
  let keyLength: u32 = 0;
  let entryCount: i64 = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return -1;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN) return -1;
      keyPtr = fieldPtr;
      keyLength = fieldLength;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN || !readClockEntry(fieldPtr, fieldLength)) return -1;
      entryCount++;
    }
  }
  if (records == 0) return entryCount + 1;
  storeDependencyRecord(records, keyPtr, keyLength, PRESENCE_KIND);
  let record = records + DEPENDENCY_RECORD_BYTES;
  pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (fieldNumber != 2) continue;
    readClockEntry(fieldPtr, fieldLength);
    storeDependencyRecord(record, keyPtr, keyLength, ENTRY_KIND);
    record += DEPENDENCY_RECORD_BYTES;
  }
  return entryCount + 1;
}

function decodeMultiCausal(ptr: usize, end: usize, clockRecords: usize, dependencyRecords: usize, valueRecords: usize): bool {
  clockCount = 0;
  dependencyRecordCount = 0;
  valueCount = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN || !readClockEntry(fieldPtr, fieldLength)) return false;
      if (clockRecords != 0) storeClockRecord(clockRecords + clockCount * CLOCK_RECORD_BYTES);
      clockCount++;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_LEN) return false;
      const records = dependencyRecords == 0 ? <usize>0 : dependencyRecords + dependencyRecordCount * DEPENDENCY_RECORD_BYTES;
      const recordCount = decodeKeyVersion(fieldPtr, fieldLength, records);
      if (recordCount < 0) return false;
      dependencyRecordCount += <usize>recordCount;
    } else if (fieldNumber == 3) {
      if (wireType != WIRE_LEN) return false;
      if (valueRecords != 0) storeSliceRecord(valueRecords + valueCount * SLICE_RECORD_BYTES, fieldPtr, fieldLength);
      valueCount++;
    }
  }
  return true;
}

export function canonicalizeMultiCausal(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  if (!decodeMultiCausal(ptr, end, 0, 0, 0)) return MALFORMED;
  const clockRecords = scratchAlloc(<u64>clockCount * CLOCK_RECORD_BYTES);
  const dependencyRecords = clockRecords == 0 ? <usize>0 : scratchAlloc(<u64>dependencyRecordCount * DEPENDENCY_RECORD_BYTES);
  const valueRecords = dependencyRecords == 0 ? <usize>0 : scratchAlloc(<u64>valueCount * SLICE_RECORD_BYTES);
  const out = valueRecords == 0 ? <usize>0 : scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  decodeMultiCausal(ptr, end, clockRecords, dependencyRecords, valueRecords);
  let written = writeClock(clockRecords, clockCount, CLOCK_TAG, out);
  written = writeDependencies(dependencyRecords, dependencyRecordCount, DEPENDENCY_TAG, written);
  written = writeSet(valueRecords, valueCount, VALUE_TAG, written);
  setResult(out, <u32>(written - out));
  return OK;
}

function joinDependenciesAndValues(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  const aDependenciesEnd = endOfRun(a, aEnd, DEPENDENCY_TAG);
  const bDependenciesEnd = endOfRun(b, bEnd, DEPENDENCY_TAG);
  const written = joinDependencies(a, aDependenciesEnd, b, bDependenciesEnd, DEPENDENCY_TAG, out);
  return unionSets(aDependenciesEnd, aEnd, bDependenciesEnd, bEnd, written);
}

export function joinMultiCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const out = scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  joinCausal(a, aLength, b, bLength, out, joinDependenciesAndValues);
  return OK;
}
