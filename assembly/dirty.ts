// Dirty keys in the order they became dirty (as TsStore's Set keeps them): a list of
// entry indices with the DIRTY flag in the entry and the entry's position in the list,
// so that a delete tombstones its position in O(1). The list is compacted (or grown)
// only when its tail is full, so every mark costs O(1) amortised.
import { alloc, free } from "./arena";
import { E_DIRTY_POSITION, E_FLAGS, entryAddress, FLAG_DIRTY } from "./table";

const TOMBSTONE: u32 = 0xffffffff;
const LIST_ENTRIES_MIN: u32 = 64;

let listPtr: usize = 0;
let listCapacity: u32 = 0;
let listHead: u32 = 0;
let listTail: u32 = 0;
export let dirtyCount: u32 = 0;

function isDirty(entry: usize): bool {
  return (load<u8>(entry, E_FLAGS) & FLAG_DIRTY) != 0;
}

export function dirtyListBytes(): u64 {
  return <u64>listCapacity * 4;
}

/** Makes room for one more mark; false when memory is short. Changes no mark. */
export function reserveDirtyMark(): bool {
  if (listTail < listCapacity) return true;
  if (dirtyCount * 2 <= listCapacity && listCapacity > 0) {
    compactInto(listPtr);
    return true;
  }
  const capacity = max<u32>(LIST_ENTRIES_MIN, listCapacity * 2);
  const grown = alloc(<u64>capacity * 4);
  if (grown == 0) return false;
  const old = listPtr;
  const oldCapacity = listCapacity;
  compactInto(grown);
  if (old != 0) free(old, <u64>oldCapacity * 4);
  listCapacity = capacity;
  return true;
}

/** Moves the live marks, in order, to the start of `target`. */
function compactInto(target: usize): void {
  let written: u32 = 0;
  for (let position = listHead; position < listTail; position++) {
    const index = load<u32>(listPtr + (<usize>position << 2));
    if (index == TOMBSTONE) continue;
    store<u32>(target + (<usize>written << 2), index);
    store<u32>(entryAddress(index), written, E_DIRTY_POSITION);
    written++;
  }
  assert(written == dirtyCount);
  listPtr = target;
  listHead = 0;
  listTail = written;
}

/** Marks the entry dirty; reserveDirtyMark must have succeeded. */
export function markDirty(index: u32): void {
  const entry = entryAddress(index);
  if (isDirty(entry)) return;
  assert(listTail < listCapacity);
  store<u8>(entry, load<u8>(entry, E_FLAGS) | FLAG_DIRTY, E_FLAGS);
  store<u32>(entry, listTail, E_DIRTY_POSITION);
  store<u32>(listPtr + (<usize>listTail << 2), index);
  listTail++;
  dirtyCount++;
}

export function clearDirty(index: u32): void {
  const entry = entryAddress(index);
  if (!isDirty(entry)) return;
  store<u8>(entry, load<u8>(entry, E_FLAGS) & ~FLAG_DIRTY, E_FLAGS);
  store<u32>(listPtr + (<usize>load<u32>(entry, E_DIRTY_POSITION) << 2), TOMBSTONE);
  dirtyCount--;
  if (dirtyCount == 0) {
    listHead = 0;
    listTail = 0;
  }
}

/** Clears every dirty mark without reading a value; returns how many there were. */
export function clearAllDirty(): u32 {
  const cleared = dirtyCount;
  for (let position = listHead; position < listTail; position++) {
    const index = load<u32>(listPtr + (<usize>position << 2));
    if (index == TOMBSTONE) continue;
    const entry = entryAddress(index);
    store<u8>(entry, load<u8>(entry, E_FLAGS) & ~FLAG_DIRTY, E_FLAGS);
  }
  listHead = 0;
  listTail = 0;
  dirtyCount = 0;
  return cleared;
}

/** The oldest dirty entry index, or TOMBSTONE when none is dirty (skips tombstones). */
export function oldestDirty(): u32 {
  while (listHead < listTail) {
    const index = load<u32>(listPtr + (<usize>listHead << 2));
    if (index != TOMBSTONE) return index;
    listHead++;
  }
  return TOMBSTONE;
}

export const NONE_DIRTY: u32 = TOMBSTONE;
