// The hash table of byte keys. Entries live in a dense array of fixed chunks allocated
// from the arena, so an entry never moves and its index is a stable scan cursor; freed
// entry slots are reused last-freed-first (as TsStore reuses its slots). An open-
// addressing index of 8-byte slots (entry index + 1, high 32 hash bits) finds them:
// linear probing, backward-shift deletion, load at most 3/4. The home slot comes from the
// same high bits, so growing rehashes from the index alone, touching no entry.
import { alloc, blockBytes, free } from "./arena";
import { bytesEqual } from "./codec";

// Entry layout (32 bytes).
// @ts-ignore: decorator
@inline const ENTRY_BYTES: usize = 32;
// @ts-ignore: decorator
@inline export const E_HASH: usize = 0;
/** The block holding key bytes then value bytes; for a free slot, the next free index. */
// @ts-ignore: decorator
@inline export const E_BLOCK: usize = 8;
// @ts-ignore: decorator
@inline export const E_KEY_LENGTH: usize = 12;
// @ts-ignore: decorator
@inline export const E_VALUE_LENGTH: usize = 16;
/** Position in the dirty list while the DIRTY flag is set. */
// @ts-ignore: decorator
@inline export const E_DIRTY_POSITION: usize = 20;
/** Reserved for a per-key access counter (hot-key detection); always 0 for now. */
// @ts-ignore: decorator
@inline export const E_ACCESS_COUNT: usize = 24;
// @ts-ignore: decorator
@inline export const E_TYPE: usize = 28;
// @ts-ignore: decorator
@inline export const E_FLAGS: usize = 29;

export const FLAG_LIVE: u8 = 1;
export const FLAG_DIRTY: u8 = 2;
export const NO_ENTRY: u32 = 0xffffffff;

// @ts-ignore: decorator
@inline const CHUNK_SHIFT: u32 = 12;
// @ts-ignore: decorator
@inline const CHUNK_ENTRIES: u32 = 1 << CHUNK_SHIFT;
// @ts-ignore: decorator
@inline const CHUNK_BYTES: u64 = <u64>CHUNK_ENTRIES * ENTRY_BYTES;
// @ts-ignore: decorator
@inline const INDEX_SLOTS_MIN: u32 = 16;
/** Index slots up to 2^30: 8 GiB of index would exceed wasm32 memory anyway. */
// @ts-ignore: decorator
@inline const INDEX_SLOTS_MAX: u32 = 1 << 30;

let chunkDirectory: usize = 0;
let chunkDirectoryCapacity: u32 = 0;
let chunkCount: u32 = 0;
/** Entry slots ever handed out: scans run over [0, entryHighWater). */
export let entryHighWater: u32 = 0;
let freeEntryHead: u32 = NO_ENTRY;
export let keyCount: u32 = 0;
let indexPtr: usize = 0;
let indexCapacity: u32 = 0;
let indexMask: u32 = 0;
/** Bytes of the key-and-value blocks, as the arena rounds them. */
let blockBytesTotal: u64 = 0;

// @ts-ignore: decorator
@inline
export function entryAddress(index: u32): usize {
  return <usize>load<u32>(chunkDirectory + (<usize>(index >> CHUNK_SHIFT) << 2)) + <usize>(index & (CHUNK_ENTRIES - 1)) * ENTRY_BYTES;
}

export function isLive(entry: usize): bool {
  return (load<u8>(entry, E_FLAGS) & FLAG_LIVE) != 0;
}

export function tableBytes(): u64 {
  return blockBytesTotal + <u64>chunkCount * CHUNK_BYTES + <u64>chunkDirectoryCapacity * 4 + <u64>indexCapacity * 8;
}

/** The entry index of the key, or NO_ENTRY. */
export function findEntry(hash: u64, keyPtr: usize, keyLength: u32): u32 {
  if (keyCount == 0) return NO_ENTRY;
  const tag = <u32>(hash >> 32);
  let position = tag & indexMask;
  while (true) {
    const slot = load<u64>(indexPtr + (<usize>position << 3));
    if (slot == 0) return NO_ENTRY;
    if (<u32>(slot >> 32) == tag) {
      const index = <u32>slot - 1;
      const entry = entryAddress(index);
      if (load<u64>(entry, E_HASH) == hash && load<u32>(entry, E_KEY_LENGTH) == keyLength && bytesEqual(load<u32>(entry, E_BLOCK), keyPtr, keyLength)) {
        return index;
      }
    }
    position = (position + 1) & indexMask;
  }
}

// ---- warming a group of lookups ----
// A lookup in a large table misses the cache up to three times, one miss after the other:
// the home index slot, the entry it names, the entry's key block. Looking up a group of
// keys level by level instead (all slots, then all entries, then all blocks) lets the
// misses of the group overlap. Wasm has no prefetch instruction: these are plain loads,
// summed into a value stored in memory so that the optimiser keeps them.

/** Level 1: reads the home index slot of `hash`. */
function warmSlot(hash: u64): u64 {
  if (keyCount == 0) return 0;
  return load<u64>(indexPtr + (<usize>(<u32>(hash >> 32) & indexMask) << 3));
}

/** Level 2: reads the entry named by the home slot of `hash`, if any. */
function warmEntry(hash: u64): u64 {
  const slot = warmSlot(hash);
  if (slot == 0) return 0;
  return <u64>load<u32>(entryAddress(<u32>slot - 1), E_BLOCK);
}

/** Level 3: reads the first bytes of that entry's key block. */
function warmBlock(hash: u64): u64 {
  const block = warmEntry(hash);
  if (block == 0) return 0;
  return <u64>load<u8>(<usize>block);
}

/** Lookups warmed together: enough to overlap their misses, few enough to stay cached. */
// Inlined: callers size static arrays by it, which needs a constant at compile time.
// @ts-ignore: decorator
@inline export const WARM_GROUP: u32 = 16;
/** Where the warming loads' sum goes, so that they are not optimised away. */
const warmSink: usize = memory.data(8, 8);

/** Warms the lookups of the `count` (at most WARM_GROUP) key hashes at `hashes`, level by level. */
export function warmLookups(hashes: usize, count: u32): void {
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) sum += warmSlot(load<u64>(hashes + (<usize>i << 3)));
  for (let i: u32 = 0; i < count; i++) sum += warmEntry(load<u64>(hashes + (<usize>i << 3)));
  for (let i: u32 = 0; i < count; i++) sum += warmBlock(load<u64>(hashes + (<usize>i << 3)));
  store<u64>(warmSink, sum);
}

// ---- reservations: everything an insert allocates, before anything changes ----

/** Makes sure an insert finds an entry slot and index room; false when memory is short. */
export function reserveInsert(): bool {
  return reserveEntrySlot() && reserveIndexSlot();
}

function reserveEntrySlot(): bool {
  if (freeEntryHead != NO_ENTRY || entryHighWater < chunkCount * CHUNK_ENTRIES) return true;
  if (chunkCount == chunkDirectoryCapacity && !growChunkDirectory()) return false;
  const chunk = alloc(CHUNK_BYTES);
  if (chunk == 0) return false;
  store<u32>(chunkDirectory + (<usize>chunkCount << 2), chunk);
  chunkCount++;
  return true;
}

function growChunkDirectory(): bool {
  const capacity = max<u32>(16, chunkDirectoryCapacity * 2);
  const directory = alloc(<u64>capacity * 4);
  if (directory == 0) return false;
  if (chunkDirectory != 0) {
    memory.copy(directory, chunkDirectory, <usize>chunkCount << 2);
    free(chunkDirectory, <u64>chunkDirectoryCapacity * 4);
  }
  chunkDirectory = directory;
  chunkDirectoryCapacity = capacity;
  return true;
}

function reserveIndexSlot(): bool {
  if ((<u64>keyCount + 1) * 4 <= <u64>indexCapacity * 3) return true;
  if (indexCapacity >= INDEX_SLOTS_MAX) return false;
  return growIndex(indexCapacity == 0 ? INDEX_SLOTS_MIN : indexCapacity * 2);
}

/** Allocates the doubled index, rehashes into it from the tags, frees the old one. */
function growIndex(capacity: u32): bool {
  const grown = alloc(<u64>capacity * 8);
  if (grown == 0) return false;
  memory.fill(grown, 0, <usize>capacity * 8);
  const mask = capacity - 1;
  for (let position: u32 = 0; position < indexCapacity; position++) {
    const slot = load<u64>(indexPtr + (<usize>position << 3));
    if (slot == 0) continue;
    let target = <u32>(slot >> 32) & mask;
    while (load<u64>(grown + (<usize>target << 3)) != 0) target = (target + 1) & mask;
    store<u64>(grown + (<usize>target << 3), slot);
  }
  if (indexPtr != 0) free(indexPtr, <u64>indexCapacity * 8);
  indexPtr = grown;
  indexCapacity = capacity;
  indexMask = mask;
  return true;
}

// ---- changes ----

/** Inserts a new key whose block is ready; reserveInsert must have succeeded. */
export function insertEntry(hash: u64, block: usize, keyLength: u32, valueLength: u32, type: u32): u32 {
  let index = freeEntryHead;
  if (index != NO_ENTRY) freeEntryHead = load<u32>(entryAddress(index), E_BLOCK);
  else index = entryHighWater++;
  assert(index < chunkCount * CHUNK_ENTRIES);
  const entry = entryAddress(index);
  store<u64>(entry, hash, E_HASH);
  store<u32>(entry, block, E_BLOCK);
  store<u32>(entry, keyLength, E_KEY_LENGTH);
  store<u32>(entry, valueLength, E_VALUE_LENGTH);
  store<u32>(entry, 0, E_DIRTY_POSITION);
  store<u32>(entry, 0, E_ACCESS_COUNT);
  store<u8>(entry, <u8>type, E_TYPE);
  store<u8>(entry, FLAG_LIVE, E_FLAGS);
  blockBytesTotal += blockBytes(<u64>keyLength + valueLength);
  keyCount++;
  assert(<u64>keyCount * 4 <= <u64>indexCapacity * 3);
  const tag = <u32>(hash >> 32);
  let position = tag & indexMask;
  while (load<u64>(indexPtr + (<usize>position << 3)) != 0) position = (position + 1) & indexMask;
  store<u64>(indexPtr + (<usize>position << 3), (<u64>tag << 32) | <u64>(index + 1));
  return index;
}

/** Points an entry at a new value (in its block, or in a new block already written). */
export function replaceValue(entry: usize, block: usize, valueLength: u32): void {
  const keyLength = load<u32>(entry, E_KEY_LENGTH);
  const oldBlock = <usize>load<u32>(entry, E_BLOCK);
  const oldBytes = <u64>keyLength + load<u32>(entry, E_VALUE_LENGTH);
  const newBytes = <u64>keyLength + valueLength;
  if (block != oldBlock) free(oldBlock, oldBytes);
  if (block != oldBlock || newBytes != oldBytes) blockBytesTotal += blockBytes(newBytes) - blockBytes(oldBytes);
  store<u32>(entry, block, E_BLOCK);
  store<u32>(entry, valueLength, E_VALUE_LENGTH);
}

/** Removes a live entry (its dirty mark must be cleared first) and frees its block. */
export function removeEntry(index: u32): void {
  const entry = entryAddress(index);
  assert(isLive(entry) && (load<u8>(entry, E_FLAGS) & FLAG_DIRTY) == 0);
  const hash = load<u64>(entry, E_HASH);
  const bytes = <u64>load<u32>(entry, E_KEY_LENGTH) + load<u32>(entry, E_VALUE_LENGTH);
  free(load<u32>(entry, E_BLOCK), bytes);
  blockBytesTotal -= blockBytes(bytes);
  removeFromIndex(<u32>(hash >> 32), index);
  store<u8>(entry, 0, E_FLAGS);
  store<u32>(entry, freeEntryHead, E_BLOCK);
  freeEntryHead = index;
  keyCount--;
}

function removeFromIndex(tag: u32, index: u32): void {
  const wanted = (<u64>tag << 32) | <u64>(index + 1);
  let hole = tag & indexMask;
  while (load<u64>(indexPtr + (<usize>hole << 3)) != wanted) {
    assert(load<u64>(indexPtr + (<usize>hole << 3)) != 0);
    hole = (hole + 1) & indexMask;
  }
  let next = (hole + 1) & indexMask;
  while (true) {
    const slot = load<u64>(indexPtr + (<usize>next << 3));
    if (slot == 0) break;
    const home = <u32>(slot >> 32) & indexMask;
    // The slot may fill the hole unless its home lies cyclically after the hole.
    if (((next - home) & indexMask) >= ((next - hole) & indexMask)) {
      store<u64>(indexPtr + (<usize>hole << 3), slot);
      hole = next;
    }
    next = (next + 1) & indexMask;
  }
  store<u64>(indexPtr + (<usize>hole << 3), 0);
}
