// Sorting of decoded records in scratch memory. Records are fixed-width and start with a
// byte slice (ptr u32, length u32); 24-byte dependency records add a kind (u32) and a
// second slice at +12 that order ties; dot and dotted-version records (16, 20 bytes) a
// counter, and the version a value slice. Heap sort: in place, O(n log n) in the worst
// case, and no recursion, so a set of millions of elements cannot exhaust the stack.
import { compareBytes } from "./codec";

export const SLICE_RECORD_BYTES: usize = 8;
export const CLOCK_RECORD_BYTES: usize = 12;
/** A dot (id slice, counter, unused word): ordered by id, then counter. */
export const DOT_RECORD_BYTES: usize = 16;
/** A dotted version (id slice, counter, value slice): by dot, then value bytes from the largest. */
export const VERSION_RECORD_BYTES: usize = 20;
export const DEPENDENCY_RECORD_BYTES: usize = 24;

export function compareRecords(a: usize, b: usize, recordBytes: usize): i32 {
  const order = compareBytes(load<u32>(a), load<u32>(a, 4), load<u32>(b), load<u32>(b, 4));
  if (order != 0) return order;
  if (recordBytes == DOT_RECORD_BYTES || recordBytes == VERSION_RECORD_BYTES) {
    const aCounter = load<u32>(a, 8);
    const bCounter = load<u32>(b, 8);
    if (aCounter != bCounter) return aCounter < bCounter ? -1 : 1;
    if (recordBytes == DOT_RECORD_BYTES) return 0;
    return compareBytes(load<u32>(b, 12), load<u32>(b, 16), load<u32>(a, 12), load<u32>(a, 16));
  }
  if (recordBytes != DEPENDENCY_RECORD_BYTES) return order;
  const aKind = load<u32>(a, 8);
  const bKind = load<u32>(b, 8);
  if (aKind != bKind) return aKind < bKind ? -1 : 1;
  return compareBytes(load<u32>(a, 12), load<u32>(a, 16), load<u32>(b, 12), load<u32>(b, 16));
}

function swapRecords(a: usize, b: usize, recordBytes: usize): void {
  for (let offset: usize = 0; offset < recordBytes; offset += 4) {
    const word = load<u32>(a + offset);
    store<u32>(a + offset, load<u32>(b + offset));
    store<u32>(b + offset, word);
  }
}

function siftDown(records: usize, root: usize, count: usize, recordBytes: usize): void {
  while (true) {
    let child: usize = 2 * root + 1;
    if (child >= count) return;
    const childPtr = records + child * recordBytes;
    if (child + 1 < count && compareRecords(childPtr, childPtr + recordBytes, recordBytes) < 0) child++;
    const rootPtr = records + root * recordBytes;
    const largest = records + child * recordBytes;
    if (compareRecords(rootPtr, largest, recordBytes) >= 0) return;
    swapRecords(rootPtr, largest, recordBytes);
    root = child;
  }
}

function isSorted(records: usize, count: usize, recordBytes: usize): bool {
  for (let index: usize = 1; index < count; index++) {
    const ptr = records + index * recordBytes;
    if (compareRecords(ptr - recordBytes, ptr, recordBytes) > 0) return false;
  }
  return true;
}

/** Sorts `count` records; input that is already sorted (the usual case) costs one pass. */
export function sortRecords(records: usize, count: usize, recordBytes: usize): void {
  if (isSorted(records, count, recordBytes)) return;
  for (let root = count >> 1; root > 0; root--) siftDown(records, root - 1, count, recordBytes);
  for (let last = count - 1; last > 0; last--) {
    swapRecords(records, records + last * recordBytes, recordBytes);
    siftDown(records, 0, last, recordBytes);
  }
}
