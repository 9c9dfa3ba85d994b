// Causal siblings: the value set of SINGLE_CAUSAL and MULTI_CAUSAL kept to its maximal
// elements. A value that is a canonical CausalEnvelope (docs/consistency.md §2.7, §2.9)
// carries the clock of the write that made it; an envelope whose clock another envelope of
// the same set strictly dominates was overwritten, and is dropped. Anna's causal merge
// would otherwise keep it beside the write that overwrote it whenever the two sets' clocks
// are concurrent, so hot keys would grow without bound. Bare values (no envelope) are never
// dropped. Keeping the maximal elements of a union is itself a join (docs/lattices.md).
// Mirrors src/lattices/causal-envelope.ts, checked byte for byte by the differential test.
import { BAD, compareBytes, fieldLength, fieldPtr, fieldValue, minimalVarintEnd, skipLenField } from "../codec";
import { B_AHEAD, compareClocks } from "./vector-clock";

const CLOCK_ENTRY_TAG: u8 = 0x0a;
const ENTRY_KEY_TAG: u8 = 0x0a;
const ENTRY_COUNTER_TAG: u8 = 0x10;
const ENVELOPE_VALUE_TAG: u8 = 0x12;

/** Lengths and counters fit 32 bits: five varint bytes at most. */
const VARINT_U32_BYTES_MAX: usize = 5;

/** Reads a varint written in its fewest bytes, of at most 32 bits' worth; the position after it, or BAD. */
function readMinimalVarint(pos: usize, end: usize): usize {
  return minimalVarintEnd(pos, end, VARINT_U32_BYTES_MAX);
}

/**
 * The end of the clock of the envelope at [ptr, end) (where its value field starts), or
 * BAD when the bytes are not an envelope in the one canonical form the TypeScript encoder
 * writes: entries sorted by strictly increasing key, an empty key omitted, counters 1 to
 * 2^32-1, every varint minimal, then the value field once, ending the bytes.
 */
function envelopeClockEnd(ptr: usize, end: usize): usize {
  let pos = ptr;
  let previousKeyPtr: usize = 0;
  let previousKeyLength: u32 = 0;
  let isFirstEntry = true;
  while (pos < end && load<u8>(pos) == CLOCK_ENTRY_TAG) {
    let content = readMinimalVarint(pos + 1, end);
    if (content == BAD || fieldValue > <u64>(end - content)) return BAD;
    const entryEnd = content + <usize>fieldValue;
    let keyPtr = content;
    let keyLength: u32 = 0;
    if (content < entryEnd && load<u8>(content) == ENTRY_KEY_TAG) {
      keyPtr = readMinimalVarint(content + 1, entryEnd);
      if (keyPtr == BAD || fieldValue == 0 || fieldValue > <u64>(entryEnd - keyPtr)) return BAD;
      keyLength = <u32>fieldValue;
      content = keyPtr + keyLength;
    }
    if (content >= entryEnd || load<u8>(content) != ENTRY_COUNTER_TAG) return BAD;
    if (readMinimalVarint(content + 1, entryEnd) != entryEnd) return BAD;
    if (fieldValue == 0 || fieldValue > <u64>u32.MAX_VALUE) return BAD;
    if (!isFirstEntry && compareBytes(previousKeyPtr, previousKeyLength, keyPtr, keyLength) >= 0) return BAD;
    isFirstEntry = false;
    previousKeyPtr = keyPtr;
    previousKeyLength = keyLength;
    pos = entryEnd;
  }
  if (pos >= end || load<u8>(pos) != ENVELOPE_VALUE_TAG) return BAD;
  const valuePtr = readMinimalVarint(pos + 1, end);
  if (valuePtr == BAD || fieldValue != <u64>(end - valuePtr)) return BAD;
  return pos;
}

/** Whether some envelope among the value fields at [runStart, runEnd) has a clock strictly above [clock, clockEnd). */
function dominatedIn(clock: usize, clockEnd: usize, runStart: usize, runEnd: usize): bool {
  let pos = runStart;
  while (pos < runEnd) {
    const next = skipLenField(pos);
    const otherPtr = fieldPtr;
    const otherClockEnd = envelopeClockEnd(otherPtr, otherPtr + fieldLength);
    if (otherClockEnd != BAD && compareClocks(clock, clockEnd, otherPtr, otherClockEnd) == B_AHEAD) return true;
    pos = next;
  }
  return false;
}

/**
 * Drops, in place, every envelope of the canonical run of value fields at [start, end)
 * that another envelope of the run strictly dominates; returns the run's new end. Each
 * element is checked against those kept so far (compacted at the front) and those not yet
 * visited: a dropped element never needs checking against, since whatever dominates it is
 * dominated by a maximal element too. Quadratic in the siblings, which the value size
 * limit bounds.
 */
export function keepMaximalSiblings(start: usize, end: usize): usize {
  let write = start;
  let read = start;
  while (read < end) {
    const next = skipLenField(read);
    const valuePtr = fieldPtr;
    const clockEnd = envelopeClockEnd(valuePtr, valuePtr + fieldLength);
    const dominated = clockEnd != BAD && (dominatedIn(valuePtr, clockEnd, start, write) || dominatedIn(valuePtr, clockEnd, next, end));
    if (!dominated) {
      if (write != read) memory.copy(write, read, next - read);
      write += next - read;
    }
    read = next;
  }
  return write;
}
