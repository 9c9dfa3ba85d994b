// The set of byte strings under union: canonically its elements are sorted by unsigned
// bytes and unique, each one length-delimited field of one tag.
import { compareBytes, fieldLength, fieldPtr, skipLenField, writeLenField } from "../codec";
import { compareRecords, SLICE_RECORD_BYTES, sortRecords } from "../sort";

/** Writes slice records as a canonical set of fields `tag` at `out`; returns the end. */
export function writeSet(records: usize, count: usize, tag: u8, out: usize): usize {
  sortRecords(records, count, SLICE_RECORD_BYTES);
  let pos = out;
  for (let index: usize = 0; index < count; index++) {
    const record = records + index * SLICE_RECORD_BYTES;
    if (index > 0 && compareRecords(record - SLICE_RECORD_BYTES, record, SLICE_RECORD_BYTES) == 0) continue;
    pos = writeLenField(pos, tag, load<u32>(record), load<u32>(record, 4));
  }
  return pos;
}

/** The union of two canonical runs of fields `tag`, written at `out`; returns the end. */
export function unionSets(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  let pos = out;
  while (a < aEnd && b < bEnd) {
    const aNext = skipLenField(a);
    const aElementPtr = fieldPtr;
    const aElementLength = fieldLength;
    const bNext = skipLenField(b);
    const order = compareBytes(aElementPtr, aElementLength, fieldPtr, fieldLength);
    if (order <= 0) {
      memory.copy(pos, a, aNext - a);
      pos += aNext - a;
      a = aNext;
      if (order == 0) b = bNext;
    } else {
      memory.copy(pos, b, bNext - b);
      pos += bNext - b;
      b = bNext;
    }
  }
  memory.copy(pos, a, aEnd - a);
  pos += aEnd - a;
  memory.copy(pos, b, bEnd - b);
  return pos + (bEnd - b);
}
