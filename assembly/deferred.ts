// Value copies deferred to the end of a batch (issue #16). A plain LWW PUT that replaces a
// stored plain value of the same length (store.ts, the hot path of a write) would copy its
// payload over the stored bytes; while a batch runs, its payloads stay where they are in
// the input region, so the copy can wait: the entry is noted with the payload that now holds
// its value, and a later PUT of the key in the batch compares with that payload and, if
// newer, replaces the note. A hot key written a hundred times in a batch is copied once,
// at the end. Every operation still sees the value as it is after the ones before it: the
// store reads a noted entry's value from its payload (pendingValue), and any other use of
// the entry's stored bytes (a GET, a delete, a merge by the general path) writes the copy
// first (settle). Nothing here allocates, so no write can fail later for it.
//
// The notes are a direct-mapped cache of PENDING_SLOTS entries by entry index; a note that
// meets another entry's in its slot is written out first. A key's first write in a while is
// copied at once and only remembered: deferring it would move its copy to when the note is
// written out, after its cache lines (and the payload's) have gone cold, which cost 4-11% an
// op on uniform keys (bench/scaling/op-cost.ts); a second write while it is remembered is
// deferred.
import { E_BLOCK, E_KEY_LENGTH, E_VALUE_LENGTH, entryAddress } from "./table";

// @ts-ignore: decorator
@inline const PENDING_SLOTS: u32 = 64;
/**
 * Per slot: the remembered entry's index plus 1 (0: none), then where its value's bytes lie
 * when its copy is deferred (0: its stored bytes hold it).
 */
const slotEntries: usize = memory.data(<i32>PENDING_SLOTS * 4, 4);
const slotPayloads: usize = memory.data(<i32>PENDING_SLOTS * 4, 4);

/** Whether copies are deferred: only inside a batch, whose input stays put until it ends. */
let deferring = false;

// @ts-ignore: decorator
@inline function slotOf(index: u32): usize {
  return <usize>(index & (PENDING_SLOTS - 1)) << 2;
}

function storedValuePtr(index: u32): usize {
  const entry = entryAddress(index);
  return <usize>load<u32>(entry, E_BLOCK) + load<u32>(entry, E_KEY_LENGTH);
}

/** Writes out the note in `slot` (an offset into the arrays), if any, and clears it. */
function writeOut(slot: usize): void {
  const payloadPtr = <usize>load<u32>(slotPayloads + slot);
  if (payloadPtr == 0) return;
  const index = load<u32>(slotEntries + slot) - 1;
  memory.copy(storedValuePtr(index), payloadPtr, load<u32>(entryAddress(index), E_VALUE_LENGTH));
  store<u32>(slotPayloads + slot, 0);
}

/** Starts deferring copies (a batch begins). */
export function beginDeferring(): void {
  assert(!deferring);
  deferring = true;
}

/** Writes out every note and stops deferring (the batch ends). */
export function endDeferring(): void {
  for (let slot: u32 = 0; slot < PENDING_SLOTS; slot++) {
    writeOut(<usize>slot << 2);
    store<u32>(slotEntries + (<usize>slot << 2), 0);
  }
  deferring = false;
}

/** Where entry `index`'s value lies now: a noted payload, or 0 when its stored bytes hold it. */
export function pendingValue(index: u32): usize {
  const slot = slotOf(index);
  return load<u32>(slotEntries + slot) == index + 1 ? <usize>load<u32>(slotPayloads + slot) : 0;
}

/** Writes out entry `index`'s note, if it has one: before its stored bytes are read, rewritten or freed. */
export function settle(index: u32): void {
  const slot = slotOf(index);
  if (load<u32>(slotEntries + slot) == index + 1) writeOut(slot);
}

/**
 * Entry `index`'s value is now the `length` bytes at `payloadPtr` (the same length as the
 * stored one): noted while deferring, else copied at once.
 */
export function replaceInPlace(index: u32, payloadPtr: usize, length: u32): void {
  assert(load<u32>(entryAddress(index), E_VALUE_LENGTH) == length);
  if (!deferring) {
    memory.copy(storedValuePtr(index), payloadPtr, length);
    return;
  }
  const slot = slotOf(index);
  if (load<u32>(slotEntries + slot) == index + 1) {
    store<u32>(slotPayloads + slot, <u32>payloadPtr);
    return;
  }
  writeOut(slot);
  memory.copy(storedValuePtr(index), payloadPtr, length);
  store<u32>(slotEntries + slot, index + 1);
}
