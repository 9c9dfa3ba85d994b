// The vector clock: a map from client id to a max u32 counter (a key-map of max
// counters). Canonically a zero counter is no entry at all, so a key missing from one
// clock compares as 0.
import {
  BAD, fieldLength, fieldNumber, fieldPtr, fieldValue, lenFieldBytes, readField, readVarint,
  varintBytes, WIRE_LEN, WIRE_VARINT, wireType, writeLenField, writeVarint,
} from "../codec";
import { compareBytes } from "../codec";
import { CLOCK_RECORD_BYTES, compareRecords, sortRecords } from "../sort";
import { joinMaps, KEY_TAG } from "./key-map";

const COUNTER_TAG: u8 = 0x10;

export let clockEntryKeyPtr: usize = 0;
export let clockEntryKeyLength: u32 = 0;
export let clockEntryCounter: u32 = 0;

/** Decodes a map entry (key 1, uint32 counter 2) of an incoming payload; false if malformed. */
export function readClockEntry(ptr: usize, length: u32): bool {
  const end = ptr + length;
  let pos = ptr;
  clockEntryKeyPtr = ptr;
  clockEntryKeyLength = 0;
  clockEntryCounter = 0;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return false;
    if (fieldNumber == 1) {
      if (wireType != WIRE_LEN) return false;
      clockEntryKeyPtr = fieldPtr;
      clockEntryKeyLength = fieldLength;
    } else if (fieldNumber == 2) {
      if (wireType != WIRE_VARINT) return false;
      clockEntryCounter = <u32>fieldValue;
    }
  }
  return true;
}

export function writeClockEntry(pos: usize, tag: u8, keyPtr: usize, keyLength: u32, counter: u32): usize {
  const contentBytes = (keyLength > 0 ? lenFieldBytes(keyLength) : 0) + 1 + varintBytes(counter);
  store<u8>(pos, tag);
  pos = writeVarint(pos + 1, contentBytes);
  if (keyLength > 0) pos = writeLenField(pos, KEY_TAG, keyPtr, keyLength);
  store<u8>(pos, COUNTER_TAG);
  return writeVarint(pos + 1, counter);
}

/**
 * Writes clock records (key slice, counter) canonically as entries `tag`: sorted by key,
 * a repeated key merged by maximum, zero counters dropped. Returns the end.
 */
export function writeClock(records: usize, count: usize, tag: u8, out: usize): usize {
  sortRecords(records, count, CLOCK_RECORD_BYTES);
  let pos = out;
  let index: usize = 0;
  while (index < count) {
    const first = records + index * CLOCK_RECORD_BYTES;
    let counter = load<u32>(first, 8);
    index++;
    while (index < count && compareRecords(first, records + index * CLOCK_RECORD_BYTES, CLOCK_RECORD_BYTES) == 0) {
      counter = max<u32>(counter, load<u32>(records + index * CLOCK_RECORD_BYTES, 8));
      index++;
    }
    if (counter != 0) pos = writeClockEntry(pos, tag, load<u32>(first), load<u32>(first, 4), counter);
  }
  return pos;
}

/** The counter of a canonical entry's value part ("10 counter"). */
function counterOf(valuePtr: usize, valueEnd: usize): u32 {
  if (valuePtr >= valueEnd || load<u8>(valuePtr) != COUNTER_TAG) return 0;
  readVarint(valuePtr + 1, valueEnd);
  return <u32>fieldValue;
}

/** The max-counter join of two entries' value parts. */
function joinCounters(aPtr: usize, aEnd: usize, bPtr: usize, bEnd: usize, out: usize): usize {
  store<u8>(out, COUNTER_TAG);
  return writeVarint(out + 1, max<u32>(counterOf(aPtr, aEnd), counterOf(bPtr, bEnd)));
}

/** The pointwise-max join of two canonical clocks (runs of entries `tag`). */
export function joinClocks(a: usize, aEnd: usize, b: usize, bEnd: usize, tag: u8, out: usize): usize {
  return joinMaps(a, aEnd, b, bEnd, tag, out, joinCounters);
}

export const A_AHEAD: u32 = 1;
export const B_AHEAD: u32 = 2;

/**
 * Compares two canonical clocks: A_AHEAD if some counter of `a` is larger, B_AHEAD if
 * some counter of `b` is; both for concurrent clocks, neither for equal ones.
 */
export function compareClocks(a: usize, aEnd: usize, b: usize, bEnd: usize): u32 {
  let ahead: u32 = 0;
  while (a < aEnd && b < bEnd) {
    const aNext = readCanonicalEntry(a);
    const aKeyPtr = canonicalKeyPtr;
    const aKeyLength = canonicalKeyLength;
    const aCounter = canonicalCounter;
    const bNext = readCanonicalEntry(b);
    const order = compareBytes(aKeyPtr, aKeyLength, canonicalKeyPtr, canonicalKeyLength);
    if (order < 0) {
      ahead |= A_AHEAD;
      a = aNext;
    } else if (order > 0) {
      ahead |= B_AHEAD;
      b = bNext;
    } else {
      if (aCounter > canonicalCounter) ahead |= A_AHEAD;
      if (aCounter < canonicalCounter) ahead |= B_AHEAD;
      a = aNext;
      b = bNext;
    }
  }
  if (a < aEnd) ahead |= A_AHEAD;
  if (b < bEnd) ahead |= B_AHEAD;
  return ahead;
}

let canonicalKeyPtr: usize = 0;
let canonicalKeyLength: u32 = 0;
let canonicalCounter: u32 = 0;

function readCanonicalEntry(pos: usize): usize {
  const next = readVarint(pos + 1, <usize>-1);
  const length = <u32>fieldValue;
  const content = next;
  const end = content + length;
  let valuePtr = content;
  canonicalKeyPtr = content;
  canonicalKeyLength = 0;
  if (content < end && load<u8>(content) == KEY_TAG) {
    valuePtr = readVarint(content + 1, end);
    canonicalKeyLength = <u32>fieldValue;
    canonicalKeyPtr = valuePtr;
    valuePtr += canonicalKeyLength;
  }
  canonicalCounter = counterOf(valuePtr, end);
  return end;
}
