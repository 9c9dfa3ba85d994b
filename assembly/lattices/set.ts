// SET and ORDERED_SET (SetValue: repeated bytes values 1) = the byte-string set under union.
import { BAD, fieldLength, fieldNumber, fieldPtr, readField, WIRE_LEN, wireType } from "../codec";
import { scratchAlloc } from "../buffers";
import { SLICE_RECORD_BYTES } from "../sort";
import { MALFORMED, OK, OUT_OF_MEMORY } from "../status";
import { unionSets, writeSet } from "./byte-set";
import { setResult, WRITE_SLACK_BYTES } from "./result";

const ELEMENT_TAG: u8 = 0x0a;

/** Counts the elements (and fills slice records when `records` is not 0); -1 if malformed. */
function decodeSet(ptr: usize, end: usize, records: usize): i64 {
  let count: i64 = 0;
  let pos = ptr;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return -1;
    if (fieldNumber != 1) continue;
    if (wireType != WIRE_LEN) return -1;
    if (records != 0) {
      const record = records + <usize>count * SLICE_RECORD_BYTES;
      store<u32>(record, fieldPtr);
      store<u32>(record, fieldLength, 4);
    }
    count++;
  }
  return count;
}

export function canonicalizeSet(ptr: usize, length: u32): u32 {
  const end = ptr + length;
  const count = decodeSet(ptr, end, 0);
  if (count < 0) return MALFORMED;
  const records = scratchAlloc(<u64>count * SLICE_RECORD_BYTES);
  const out = records == 0 ? <usize>0 : scratchAlloc(<u64>length + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  decodeSet(ptr, end, records);
  const written = writeSet(records, <usize>count, ELEMENT_TAG, out);
  setResult(out, <u32>(written - out));
  return OK;
}

export function joinSet(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const out = scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  const written = unionSets(a, a + aLength, b, b + bLength, out);
  setResult(out, <u32>(written - out));
  return OK;
}
