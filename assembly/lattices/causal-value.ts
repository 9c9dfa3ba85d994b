// The wire layout both causal types share, decoded once: clock entries (field 1), for
// MULTI_CAUSAL the dependencies (KeyVersion, field 2), and the values (field 2 in
// SingleKeyCausalValue, 3 in MultiKeyCausalValue). Canonicalisation sorts and merges each
// part into its canonical run, the values kept to their maximal siblings (siblings.ts).
import { BAD, fieldLength, fieldNumber, fieldPtr, readField, WIRE_LEN, wireType } from "../codec";
import { scratchAlloc } from "../buffers";
import { CLOCK_RECORD_BYTES, DEPENDENCY_RECORD_BYTES, SLICE_RECORD_BYTES } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { writeSet } from "./byte-set";
import { CLOCK_TAG } from "./causal-pair";
import { ENTRY_KIND, PRESENCE_KIND, writeDependencies } from "./dependencies";
import { setResult, WRITE_SLACK_BYTES } from "./result";
import { keepMaximalSiblings } from "./siblings";
import { clockEntryCounter, clockEntryKeyLength, clockEntryKeyPtr, readClockEntry, writeClock } from "./vector-clock";

/** A field number no message uses (field 0 is malformed): SINGLE_CAUSAL has no dependencies. */
export const NO_FIELD: u32 = 0;

let clockCount: usize = 0;
let dependencyRecordCount: usize = 0;
let valueCount: usize = 0;

function lengthDelimitedTag(field: u32): u8 {
  return <u8>((field << 3) | WIRE_LEN);
}

/** Stores the decoded clock entry as a clock record at `record`. */
function storeClockRecord(record: usize): void {
  store<u32>(record, clockEntryKeyPtr);
  store<u32>(record, clockEntryKeyLength, 4);
  store<u32>(record, clockEntryCounter, 8);
}

function storeSliceRecord(record: usize, ptr: usize, length: u32): void {
  store<u32>(record, ptr);
  store<u32>(record, length, 4);
}

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

/** Counts the parts' records, filling them when the pointers are not 0; false if malformed. */
function decodeCausal(ptr: usize, end: usize, dependencyField: u32, valueField: u32, clockRecords: usize, dependencyRecords: usize, valueRecords: usize): bool {
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
    } else if (fieldNumber == dependencyField) {
      if (wireType != WIRE_LEN) return false;
      const records = dependencyRecords == 0 ? <usize>0 : dependencyRecords + dependencyRecordCount * DEPENDENCY_RECORD_BYTES;
      const recordCount = decodeKeyVersion(fieldPtr, fieldLength, records);
      if (recordCount < 0) return false;
      dependencyRecordCount += <usize>recordCount;
    } else if (fieldNumber == valueField) {
      if (wireType != WIRE_LEN) return false;
      if (valueRecords != 0) storeSliceRecord(valueRecords + valueCount * SLICE_RECORD_BYTES, fieldPtr, fieldLength);
      valueCount++;
    }
  }
  return true;
}

/** Decodes a causal payload into its canonical form (in the result). */
export function canonicalizeCausal(ptr: usize, length: u32, dependencyField: u32, valueField: u32): u32 {
  const end = ptr + length;
  if (!decodeCausal(ptr, end, dependencyField, valueField, 0, 0, 0)) return MALFORMED;
  const hasDependencies = dependencyField != NO_FIELD;
  const clockRecords = scratchAlloc(<u64>clockCount * CLOCK_RECORD_BYTES);
  let dependencyRecords = clockRecords;
  if (hasDependencies && clockRecords != 0) dependencyRecords = scratchAlloc(<u64>dependencyRecordCount * DEPENDENCY_RECORD_BYTES);
  const valueRecords = dependencyRecords == 0 ? <usize>0 : scratchAlloc(<u64>valueCount * SLICE_RECORD_BYTES);
  const out = valueRecords == 0 ? <usize>0 : scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  decodeCausal(ptr, end, dependencyField, valueField, clockRecords, hasDependencies ? dependencyRecords : 0, valueRecords);
  let written = writeClock(clockRecords, clockCount, CLOCK_TAG, out);
  if (hasDependencies) written = writeDependencies(dependencyRecords, dependencyRecordCount, lengthDelimitedTag(dependencyField), written);
  const valuesStart = written;
  written = keepMaximalSiblings(valuesStart, writeSet(valueRecords, valueCount, lengthDelimitedTag(valueField), valuesStart));
  setResult(out, <u32>(written - out));
  return OK;
}
