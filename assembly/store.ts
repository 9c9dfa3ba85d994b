// The store's operations on keys in the input region: the logic behind every export of
// index.ts, shared by the per-op calls and the batch. Each operation allocates all it
// needs before it changes anything, so a failing one leaves the store as it was.
import { alloc, closeHeadroom, free, sameBlockClass } from "./arena";
import { reserveOutput, scratchRelease, setOutput, setOutputToBuffer } from "./buffers";
import { bytesEqual } from "./codec";
import { clearDirty, markDirty, NONE_DIRTY, oldestDirty, reserveDirtyMark } from "./dirty";
import { resultLength, resultPtr } from "./lattices/result";
import { plainLwwReplaces } from "./lattices/register";
import { pendingValue, replaceInPlace, settle } from "./deferred";
import { canonicalize, join } from "./lattices/wire-types";
import {
  isKnownLatticeType, KEY_TOO_LARGE, LATTICE, LWW, MALFORMED, NOT_FOUND, OK, OUT_OF_MEMORY, VALUE_TOO_LARGE,
} from "./status";
import {
  E_BLOCK, E_KEY_LENGTH, E_TYPE, E_VALUE_LENGTH, entryAddress, entryHighWater, findEntry, insertEntry,
  isLive, NO_ENTRY, removeEntry, replaceValue, reserveInsert,
} from "./table";

export let maxKeyBytes: u32 = 65536;
export let maxValueBytes: u32 = 8388608;
/** The lattice type of the last successful get. */
export let resultType: u32 = 0;
/** The entry the last successful findValue found. */
let foundEntry: usize = 0;

/** latticeType u8, keyLength u32, payloadLength u32. */
export const RECORD_HEADER_BYTES: u64 = 9;
/** scan and drainDirty return this when not even one record fits in memory. */
export const NO_ROOM: u32 = 0xffffffff;

export function setLimits(keyBytes: u32, valueBytes: u32): void {
  maxKeyBytes = keyBytes;
  maxValueBytes = valueBytes;
}

// Every operation takes the key's hash from its caller (computed once per operation: the
// batch hashes its keys while warming their lookups); a caller that refuses to read the key
// (outside the input region, or over maxKeyBytes) passes 0, which is then never used.

/** Finds the key (OK, with foundEntry set) or says why not. */
export function findValue(keyHash: u64, keyPtr: usize, keyLength: u32, inRegion: bool): u32 {
  if (keyLength > maxKeyBytes) return KEY_TOO_LARGE;
  if (!inRegion) return MALFORMED;
  const index = findEntry(keyHash, keyPtr, keyLength);
  if (index == NO_ENTRY) return NOT_FOUND;
  settle(index);
  foundEntry = entryAddress(index);
  resultType = load<u8>(foundEntry, E_TYPE);
  return OK;
}

/** GET for the per-op call: the output points at the stored value, no copy. */
export function getValue(keyHash: u64, keyPtr: usize, keyLength: u32, inRegion: bool): u32 {
  const status = findValue(keyHash, keyPtr, keyLength, inRegion);
  if (status == OK) setOutput(foundValuePtr(), foundValueLength());
  else setOutput(0, 0);
  return status;
}

export function foundValuePtr(): usize {
  return <usize>load<u32>(foundEntry, E_BLOCK) + load<u32>(foundEntry, E_KEY_LENGTH);
}

export function foundValueLength(): u32 {
  return load<u32>(foundEntry, E_VALUE_LENGTH);
}

export function removeValue(keyHash: u64, keyPtr: usize, keyLength: u32, inRegion: bool): u32 {
  if (keyLength > maxKeyBytes) return KEY_TOO_LARGE;
  if (!inRegion) return MALFORMED;
  const index = findEntry(keyHash, keyPtr, keyLength);
  if (index == NO_ENTRY) return NOT_FOUND;
  settle(index);
  clearDirty(index);
  removeEntry(index);
  return OK;
}

/** PUT (marksDirty) and MERGE, with the checks in the order docs/wasm-abi.md gives. */
export function putValue(type: u32, keyHash: u64, keyPtr: usize, keyLength: u32, payloadPtr: usize, payloadLength: u32, marksDirty: bool, inRegion: bool): u32 {
  if (keyLength > maxKeyBytes) return KEY_TOO_LARGE;
  if (!isKnownLatticeType(type)) return LATTICE;
  if (payloadLength > maxValueBytes) return VALUE_TOO_LARGE;
  if (!inRegion) return MALFORMED;
  const index = findEntry(keyHash, keyPtr, keyLength);
  if (index != NO_ENTRY && <u32>load<u8>(entryAddress(index), E_TYPE) != type) return LATTICE;
  // A PUT is a client's write: it leaves the merge headroom to the values of its replicas.
  closeHeadroom(marksDirty);
  const status = mergePayload(type, keyHash, index, keyPtr, keyLength, payloadPtr, payloadLength, marksDirty);
  closeHeadroom(false);
  scratchRelease();
  return status;
}

/**
 * The hot path of an LWW write: a plain (timestamp, value) over a stored plain one of the
 * same length and an older timestamp. The general path would find the incoming payload
 * canonical, let it win the join, see different bytes and rewrite the block in place; the
 * caller does the same without the join's reads and the comparison. The stored value may
 * still be a batch's payload whose copy is deferred (deferred.ts).
 */
function replacesStoredPlainLww(index: u32, keyLength: u32, payloadPtr: usize, payloadLength: u32): bool {
  const entry = entryAddress(index);
  if (load<u32>(entry, E_VALUE_LENGTH) != payloadLength) return false;
  const pendingPtr = pendingValue(index);
  const valuePtr = pendingPtr != 0 ? pendingPtr : <usize>load<u32>(entry, E_BLOCK) + keyLength;
  return plainLwwReplaces(payloadPtr, valuePtr, payloadLength);
}

function mergePayload(type: u32, hash: u64, index: u32, keyPtr: usize, keyLength: u32, payloadPtr: usize, payloadLength: u32, marksDirty: bool): u32 {
  if (type == LWW && index != NO_ENTRY && replacesStoredPlainLww(index, keyLength, payloadPtr, payloadLength)) {
    if (marksDirty && !reserveDirtyMark()) return OUT_OF_MEMORY;
    replaceInPlace(index, payloadPtr, payloadLength);
    if (marksDirty) markDirty(index);
    return OK;
  }
  // The general path reads and may rewrite or free the stored bytes.
  if (index != NO_ENTRY) settle(index);
  let status = canonicalize(type, payloadPtr, payloadLength);
  if (status != OK) return status;
  let valuePtr = resultPtr;
  let valueLength = resultLength;
  if (index != NO_ENTRY) {
    const entry = entryAddress(index);
    const storedPtr = <usize>load<u32>(entry, E_BLOCK) + keyLength;
    const storedLength = load<u32>(entry, E_VALUE_LENGTH);
    status = join(type, storedPtr, storedLength, valuePtr, valueLength);
    if (status != OK) return status;
    valuePtr = resultPtr;
    valueLength = resultLength;
    if (valueLength > maxValueBytes) return VALUE_TOO_LARGE;
    if (valueLength == storedLength && (valuePtr == storedPtr || bytesEqual(valuePtr, storedPtr, valueLength))) return OK;
    if (marksDirty && !reserveDirtyMark()) return OUT_OF_MEMORY;
    if (!rewriteValue(entry, keyLength, valuePtr, valueLength)) return OUT_OF_MEMORY;
  } else {
    if (valueLength > maxValueBytes) return VALUE_TOO_LARGE;
    if (marksDirty && !reserveDirtyMark()) return OUT_OF_MEMORY;
    index = insertValue(type, hash, keyPtr, keyLength, valuePtr, valueLength);
    if (index == NO_ENTRY) return OUT_OF_MEMORY;
  }
  if (marksDirty) markDirty(index);
  return OK;
}

/** Writes a changed value in place when it keeps its block's size class, else in a new block. */
function rewriteValue(entry: usize, keyLength: u32, valuePtr: usize, valueLength: u32): bool {
  let block = <usize>load<u32>(entry, E_BLOCK);
  const oldBytes = <u64>keyLength + load<u32>(entry, E_VALUE_LENGTH);
  const newBytes = <u64>keyLength + valueLength;
  if (!sameBlockClass(oldBytes, newBytes)) {
    const grown = alloc(newBytes);
    if (grown == 0) return false;
    memory.copy(grown, block, keyLength);
    block = grown;
  }
  memory.copy(block + keyLength, valuePtr, valueLength);
  replaceValue(entry, block, valueLength);
  return true;
}

function insertValue(type: u32, hash: u64, keyPtr: usize, keyLength: u32, valuePtr: usize, valueLength: u32): u32 {
  const bytes = <u64>keyLength + valueLength;
  const block = alloc(bytes);
  if (block == 0) return NO_ENTRY;
  if (!reserveInsert()) {
    free(block, bytes);
    return NO_ENTRY;
  }
  memory.copy(block, keyPtr, keyLength);
  memory.copy(block + keyLength, valuePtr, valueLength);
  return insertEntry(hash, block, keyLength, valueLength, type);
}

// ---- records: scan and drainDirty ----

function recordBytes(entry: usize): u64 {
  return RECORD_HEADER_BYTES + load<u32>(entry, E_KEY_LENGTH) + load<u32>(entry, E_VALUE_LENGTH);
}

function writeRecord(pos: usize, entry: usize): void {
  const keyLength = load<u32>(entry, E_KEY_LENGTH);
  const valueLength = load<u32>(entry, E_VALUE_LENGTH);
  store<u8>(pos, load<u8>(entry, E_TYPE));
  store<u32>(pos + 1, keyLength);
  store<u32>(pos + 5, valueLength);
  memory.copy(pos + <usize>RECORD_HEADER_BYTES, load<u32>(entry, E_BLOCK), keyLength + valueLength);
}

/** Appends the entry's record to the output if it fits; false when memory is short. */
function appendRecord(outputBytes: u64, entry: usize): bool {
  const buffer = reserveOutput(outputBytes + recordBytes(entry), outputBytes);
  if (buffer == 0) return false;
  writeRecord(buffer + <usize>outputBytes, entry);
  return true;
}

function noRoom(): u32 {
  setOutput(0, 0);
  return NO_ROOM;
}

/** One scan page from entry index `cursor`; returns the next cursor, 0 when over. */
export function scanRecords(cursor: u32, maxBytes: u32): u32 {
  let outputBytes: u64 = 0;
  let index = cursor;
  for (; index < entryHighWater; index++) {
    const entry = entryAddress(index);
    if (!isLive(entry)) continue;
    const bytes = recordBytes(entry);
    if (outputBytes > 0 && outputBytes + bytes > <u64>maxBytes) break;
    if (!appendRecord(outputBytes, entry)) {
      if (outputBytes == 0) return noRoom();
      break;
    }
    outputBytes += bytes;
  }
  setOutputToBuffer(<u32>outputBytes);
  return index < entryHighWater ? index : 0;
}

/** Records of the oldest dirty keys, clearing their marks; returns the record count. */
export function drainDirtyRecords(maxBytes: u32): u32 {
  let outputBytes: u64 = 0;
  let count: u32 = 0;
  while (true) {
    const index = oldestDirty();
    if (index == NONE_DIRTY) break;
    const entry = entryAddress(index);
    const bytes = recordBytes(entry);
    if (count > 0 && outputBytes + bytes > <u64>maxBytes) break;
    if (!appendRecord(outputBytes, entry)) {
      if (count == 0) return noRoom();
      break;
    }
    outputBytes += bytes;
    clearDirty(index);
    count++;
  }
  setOutputToBuffer(<u32>outputBytes);
  return count;
}
