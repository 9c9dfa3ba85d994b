// The map from byte-string keys to a lattice, joined key by key. Canonically its entries
// are sorted by key, each a nested message of one tag: field 1 the key (omitted when
// empty), then the value's fields. The value lattice's join is a parameter: a vector
// clock is a map of max counters, a dependency list a map of vector clocks.
import { beginNested, compareBytes, endNested, fieldLength, fieldPtr, skipLenField, writeLenField } from "../codec";

/** Joins two canonical values at [aPtr, aEnd) and [bPtr, bEnd) into `out`; returns the end. */
export type ValueJoin = (aPtr: usize, aEnd: usize, bPtr: usize, bEnd: usize, out: usize) => usize;

export const KEY_TAG: u8 = 0x0a;

let entryKeyPtr: usize = 0;
let entryKeyLength: u32 = 0;
let entryValuePtr: usize = 0;
let entryValueEnd: usize = 0;

/** Reads the canonical entry at `pos` into the entry globals; returns the position after it. */
function readEntry(pos: usize): usize {
  const next = skipLenField(pos);
  const content = fieldPtr;
  const end = content + fieldLength;
  entryKeyPtr = content;
  entryKeyLength = 0;
  entryValuePtr = content;
  if (content < end && load<u8>(content) == KEY_TAG) {
    entryValuePtr = skipLenField(content);
    entryKeyPtr = fieldPtr;
    entryKeyLength = fieldLength;
  }
  entryValueEnd = end;
  return next;
}

function copyRange(pos: usize, from: usize, to: usize): usize {
  memory.copy(pos, from, to - from);
  return pos + (to - from);
}

/** The key-wise join of two canonical maps (runs of entries `tag`), written at `out`. */
export function joinMaps(a: usize, aEnd: usize, b: usize, bEnd: usize, tag: u8, out: usize, joinValues: ValueJoin): usize {
  let pos = out;
  while (a < aEnd && b < bEnd) {
    const aNext = readEntry(a);
    const aKeyPtr = entryKeyPtr;
    const aKeyLength = entryKeyLength;
    const aValuePtr = entryValuePtr;
    const aValueEnd = entryValueEnd;
    const bNext = readEntry(b);
    const order = compareBytes(aKeyPtr, aKeyLength, entryKeyPtr, entryKeyLength);
    if (order < 0) {
      pos = copyRange(pos, a, aNext);
      a = aNext;
    } else if (order > 0) {
      pos = copyRange(pos, b, bNext);
      b = bNext;
    } else {
      const contentStart = beginNested(pos, tag);
      let content = contentStart;
      if (aKeyLength > 0) content = writeLenField(content, KEY_TAG, aKeyPtr, aKeyLength);
      content = joinValues(aValuePtr, aValueEnd, entryValuePtr, entryValueEnd, content);
      pos = endNested(contentStart, content);
      a = aNext;
      b = bNext;
    }
  }
  pos = copyRange(pos, a, aEnd);
  return copyRange(pos, b, bEnd);
}
