// SINGLE_CAUSAL (SingleKeyCausalValue: clock entries 1, values 2) = causal pair of a
// vector clock and a byte-string set.
import { BAD, fieldLength, fieldNumber, fieldPtr, readField, WIRE_LEN, wireType } from "../codec";
import { scratchAlloc } from "../buffers";
import { CLOCK_RECORD_BYTES, SLICE_RECORD_BYTES } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { unionSets, writeSet } from "./byte-set";
import { CLOCK_TAG, joinCausal } from "./causal-pair";
import { setResult, WRITE_SLACK_BYTES } from "./result";
import { clockEntryCounter, clockEntryKeyLength, clockEntryKeyPtr, readClockEntry, writeClock } from "./vector-clock";

const VALUE_TAG: u8 = 0x12;

let clockCount: usize = 0;
let valueCount: usize = 0;

/** Stores the decoded clock entry as a clock record at `record`. */
export function storeClockRecord(record: usize): void {
  store<u32>(record, clockEntryKeyPtr);
  store<u32>(record, clockEntryKeyLength, 4);
  store<u32>(record, clockEntryCounter, 8);
}

export function storeSliceRecord(record: usize, ptr: usize, length: u32): void {
  store<u32>(record, ptr);
  store<u32>(record, length, 4);
}

/** Counts clock entries and values, filling records when the pointers are not 0. */
function decodeSingleCausal(ptr: usize, end: usize, clockRecords: usize, valueRecords: usize): bool {
  clockCount = 0;
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
      if (valueRecords != 0) storeSliceRecord(valueRecords + valueCount * SLICE_RECORD_BYTES, fieldPtr, fieldLength);
      valueCount++;
    }
  }
  return true;
}

export function canonicalizeSingleCausal(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  if (!decodeSingleCausal(ptr, end, 0, 0)) return MALFORMED;
  const clockRecords = scratchAlloc(<u64>clockCount * CLOCK_RECORD_BYTES);
  const valueRecords = clockRecords == 0 ? <usize>0 : scratchAlloc(<u64>valueCount * SLICE_RECORD_BYTES);
  const out = valueRecords == 0 ? <usize>0 : scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  decodeSingleCausal(ptr, end, clockRecords, valueRecords);
  let written = writeClock(clockRecords, clockCount, CLOCK_TAG, out);
  written = writeSet(valueRecords, valueCount, VALUE_TAG, written);
  setResult(out, <u32>(written - out));
  return OK;
}

function joinValueSets(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  return unionSets(a, aEnd, b, bEnd, out);
}

export function joinSingleCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const out = scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  joinCausal(a, aLength, b, bLength, out, joinValueSets);
  return OK;
}
