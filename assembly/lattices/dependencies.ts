// MULTI_CAUSAL's dependencies: a key-map from key to vector clock (KeyVersion: key 1,
// clock entries 2), joined key by key with the clocks' pointwise max.
import { beginNested, endNested, writeLenField } from "../codec";
import { compareBytes } from "../codec";
import { DEPENDENCY_RECORD_BYTES, sortRecords } from "../sort";
import { joinMaps, KEY_TAG } from "./key-map";
import { joinClocks, writeClockEntry } from "./vector-clock";

export const DEPENDENCY_CLOCK_TAG: u8 = 0x12;
/** A dependency record marks that a KeyVersion with this key exists, even with no entries. */
export const PRESENCE_KIND: u32 = 0;
export const ENTRY_KIND: u32 = 1;

function joinDependencyClocks(aPtr: usize, aEnd: usize, bPtr: usize, bEnd: usize, out: usize): usize {
  return joinClocks(aPtr, aEnd, bPtr, bEnd, DEPENDENCY_CLOCK_TAG, out);
}

/** The key-wise join of two canonical dependency runs (entries `tag`). */
export function joinDependencies(a: usize, aEnd: usize, b: usize, bEnd: usize, tag: u8, out: usize): usize {
  return joinMaps(a, aEnd, b, bEnd, tag, out, joinDependencyClocks);
}

/** Writes one clock entry per distinct clock key of records [from, to), maximum counter, zeros dropped. */
function writeGroupClock(from: usize, to: usize, pos: usize): usize {
  let record = from;
  while (record < to) {
    const keyPtr = load<u32>(record, 12);
    const keyLength = load<u32>(record, 16);
    let counter = load<u32>(record, 20);
    record += DEPENDENCY_RECORD_BYTES;
    while (record < to && compareBytes(keyPtr, keyLength, load<u32>(record, 12), load<u32>(record, 16)) == 0) {
      counter = max<u32>(counter, load<u32>(record, 20));
      record += DEPENDENCY_RECORD_BYTES;
    }
    if (counter != 0) pos = writeClockEntry(pos, DEPENDENCY_CLOCK_TAG, keyPtr, keyLength, counter);
  }
  return pos;
}

/**
 * Writes dependency records (key, kind, clock key, counter) canonically as entries `tag`:
 * one per distinct key, sorted, its clock entries merged. Returns the end.
 */
export function writeDependencies(records: usize, count: usize, tag: u8, out: usize): usize {
  sortRecords(records, count, DEPENDENCY_RECORD_BYTES);
  const end = records + count * DEPENDENCY_RECORD_BYTES;
  let pos = out;
  let group = records;
  while (group < end) {
    const keyPtr = load<u32>(group);
    const keyLength = load<u32>(group, 4);
    let groupEnd = group + DEPENDENCY_RECORD_BYTES;
    while (groupEnd < end && compareBytes(keyPtr, keyLength, load<u32>(groupEnd), load<u32>(groupEnd, 4)) == 0) {
      groupEnd += DEPENDENCY_RECORD_BYTES;
    }
    let entries = group;
    while (entries < groupEnd && load<u32>(entries, 8) == PRESENCE_KIND) entries += DEPENDENCY_RECORD_BYTES;
    const contentStart = beginNested(pos, tag);
    let content = contentStart;
    if (keyLength > 0) content = writeLenField(content, KEY_TAG, keyPtr, keyLength);
    content = writeGroupClock(entries, groupEnd, content);
    pos = endNested(contentStart, content);
    group = groupEnd;
  }
  return pos;
}
