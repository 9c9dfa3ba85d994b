// The allocator for everything the store keeps in linear memory. Two layers:
//
// Pages: runs of 64 KiB pages, handed out first-fit from an address-ordered free list
// whose neighbours are coalesced on free. The store holds few page runs (index, entry
// chunks, slabs, buffers, large values), so a linear walk is short; address order with
// coalescing keeps big runs whole for the index's doubling (Wilson et al.'s survey finds
// address-ordered first fit among the least fragmenting policies). A free run keeps its
// header (page count, next run) in its own first bytes, so the list costs no memory.
//
// Blocks: sizes up to LARGEST_CLASS_BYTES come from size-class slabs: multiples of 8 up
// to 256 bytes, then four classes per doubling up to 32 KiB, so no block wastes more
// than 7 bytes or 25%. Each class has a free list threaded through its freed blocks, so
// a delete followed by an insert of a similar size reuses the same bytes. Slabs are never
// returned to the page layer: a class that was busy once is likely busy again.
//
// Memory grows in steps of at least 1/16 of its size (and 1 MiB), never beyond
// maxMemoryPages; an allocation that would need more returns 0. The last
// mergeHeadroomPages of the limit are kept for merges from replicas: while a client's
// write runs (closeHeadroom), the pages in use may not pass the limit less them.

// @ts-ignore: decorator
@inline export const PAGE_BYTES: usize = 65536;
// @ts-ignore: decorator
@inline const PAGE_SHIFT: usize = 16;
// @ts-ignore: decorator
@inline export const LARGEST_CLASS_BYTES: usize = 32768;
// @ts-ignore: decorator
@inline const CLASS_COUNT: usize = 60;
// @ts-ignore: decorator
@inline const FINE_CLASS_COUNT: usize = 32;
// @ts-ignore: decorator
@inline const GROWTH_PAGES_MIN: i32 = 16;
// @ts-ignore: decorator
@inline export const WASM_PAGES_MAX: u32 = 65536;
/** A slab holds at least this many blocks, so big classes do not grab a page per block. */
// @ts-ignore: decorator
@inline const SLAB_BLOCKS_MIN: usize = 16;

export let maxMemoryPages: u32 = 16384;
let mergeHeadroomPages: u32 = 0;
let headroomClosed = false;

const heapStart: usize = (__heap_base + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
/** Pages handed out, and the static data below the heap: the memory in use, as the headroom counts it. */
let pagesInUse: u64 = <u64>(heapStart >> PAGE_SHIFT);
let freeRunHead: usize = 0;
const classFreeHeads: usize = memory.data(<i32>CLASS_COUNT * 4);
const classBumpPtrs: usize = memory.data(<i32>CLASS_COUNT * 4);
const classBumpEnds: usize = memory.data(<i32>CLASS_COUNT * 4);

export function setMaxMemoryPages(pageCount: u32, headroomPages: u32): bool {
  if (pageCount == 0 || pageCount > WASM_PAGES_MAX || pageCount < <u32>memory.size() || headroomPages >= pageCount) return false;
  maxMemoryPages = pageCount;
  mergeHeadroomPages = headroomPages;
  return true;
}

/** While closed, allocations leave the merge headroom alone: set around a client's write. */
export function closeHeadroom(closed: bool): void {
  headroomClosed = closed;
}

export function memoryBytes(): u64 {
  return <u64>memory.size() << PAGE_SHIFT;
}

// ---- pages ----

/** Pages needed for `bytes`, computed in u64 so that no length can wrap. */
export function pagesFor(bytes: u64): u64 {
  return (bytes + PAGE_BYTES - 1) >> PAGE_SHIFT;
}

export function allocPages(pageCount: u64): usize {
  const ceilingPages = <u64>(maxMemoryPages - (headroomClosed ? mergeHeadroomPages : 0));
  if (pageCount == 0 || pagesInUse + pageCount > ceilingPages) return 0;
  const pages = <u32>pageCount;
  let run = takeFreeRun(pages);
  if (run == 0 && growFor(pages)) run = takeFreeRun(pages);
  assert(run == 0 || (run >= heapStart && run + (<usize>pages << PAGE_SHIFT) <= <usize>memoryBytes()));
  if (run != 0) pagesInUse += pageCount;
  return run;
}

/** First fit; the pages come off the run's end so the run's header stays where it is. */
function takeFreeRun(pageCount: u32): usize {
  let previous: usize = 0;
  let run = freeRunHead;
  while (run != 0) {
    const runPages = load<u32>(run);
    const next = load<u32>(run, 4);
    if (runPages == pageCount) {
      if (previous == 0) freeRunHead = next;
      else store<u32>(previous, next, 4);
      return run;
    }
    if (runPages > pageCount) {
      store<u32>(run, runPages - pageCount);
      return run + (<usize>(runPages - pageCount) << PAGE_SHIFT);
    }
    previous = run;
    run = next;
  }
  return 0;
}

/** Grows memory so that a run of `pageCount` pages exists, reusing a free run at the top. */
function growFor(pageCount: u32): bool {
  const currentPages = memory.size();
  const memoryEnd = <usize>currentPages << PAGE_SHIFT;
  const topRun = lastFreeRun();
  const topPages = topRun != 0 && topRun + (<usize>load<u32>(topRun) << PAGE_SHIFT) == memoryEnd ? load<u32>(topRun) : 0;
  const firstPage = max<usize>(<usize>currentPages, heapStart >> PAGE_SHIFT);
  const neededPages = <i32>(firstPage - <usize>currentPages) + <i32>(pageCount - topPages);
  const roomPages = <i32>maxMemoryPages - currentPages;
  if (neededPages > roomPages) return false;
  const stepPages = min<i32>(roomPages, max<i32>(neededPages, max<i32>(GROWTH_PAGES_MIN, currentPages >> 4)));
  let grownPages = stepPages;
  if (memory.grow(stepPages) < 0) {
    grownPages = neededPages;
    if (memory.grow(neededPages) < 0) return false;
  }
  const newEnd = <usize>(currentPages + grownPages) << PAGE_SHIFT;
  const freedStart = max<usize>(memoryEnd, heapStart);
  releaseRun(freedStart, (newEnd - freedStart) >> PAGE_SHIFT);
  return true;
}

function lastFreeRun(): usize {
  let run = freeRunHead;
  if (run == 0) return 0;
  while (load<u32>(run, 4) != 0) run = load<u32>(run, 4);
  return run;
}

export function freePages(ptr: usize, pageCount: u64): void {
  assert(pagesInUse >= pageCount);
  pagesInUse -= pageCount;
  releaseRun(ptr, pageCount);
}

/** Puts a run of pages on the free list, coalescing it with its neighbours. */
function releaseRun(ptr: usize, pageCount: u64): void {
  assert(ptr >= heapStart && (ptr & (PAGE_BYTES - 1)) == 0 && pageCount > 0);
  assert(ptr + (<usize>pageCount << PAGE_SHIFT) <= <usize>memoryBytes());
  let previous: usize = 0;
  let next = freeRunHead;
  while (next != 0 && next < ptr) {
    previous = next;
    next = load<u32>(next, 4);
  }
  assert(next != ptr);
  let pages = <u32>pageCount;
  if (next != 0 && ptr + (<usize>pages << PAGE_SHIFT) == next) {
    pages += load<u32>(next);
    next = load<u32>(next, 4);
  }
  if (previous != 0 && previous + (<usize>load<u32>(previous) << PAGE_SHIFT) == ptr) {
    store<u32>(previous, load<u32>(previous) + pages);
    store<u32>(previous, next, 4);
    return;
  }
  store<u32>(ptr, pages);
  store<u32>(ptr, next, 4);
  if (previous == 0) freeRunHead = ptr;
  else store<u32>(previous, ptr, 4);
}

// ---- blocks ----

function classOf(bytes: usize): usize {
  if (bytes <= 256) return bytes == 0 ? 0 : ((bytes + 7) >> 3) - 1;
  const last = bytes - 1;
  const topBit = <usize>(31 - clz<u32>(<u32>last));
  const shift = topBit - 2;
  return FINE_CLASS_COUNT + ((topBit - 8) << 2) + ((last >> shift) & 3);
}

function classBytes(sizeClass: usize): usize {
  if (sizeClass < FINE_CLASS_COUNT) return (sizeClass + 1) << 3;
  const coarse = sizeClass - FINE_CLASS_COUNT;
  return (5 + (coarse & 3)) << ((coarse >> 2) + 6);
}

/** The bytes a block of `bytes` really takes: the arena's rounding of the request. */
export function blockBytes(bytes: u64): u64 {
  if (bytes > <u64>LARGEST_CLASS_BYTES) return pagesFor(bytes) << PAGE_SHIFT;
  return <u64>classBytes(classOf(<usize>bytes));
}

/** A block of at least `bytes` bytes (8-aligned), or 0 when the memory limit is reached. */
export function alloc(bytes: u64): usize {
  if (bytes > <u64>LARGEST_CLASS_BYTES) return allocPages(pagesFor(bytes));
  const sizeClass = classOf(<usize>bytes);
  const slot = sizeClass << 2;
  const head = load<u32>(classFreeHeads + slot);
  if (head != 0) {
    store<u32>(classFreeHeads + slot, load<u32>(head));
    return head;
  }
  const size = classBytes(sizeClass);
  let bump = <usize>load<u32>(classBumpPtrs + slot);
  if (bump + size > <usize>load<u32>(classBumpEnds + slot)) {
    const slabPages = pagesFor(<u64>(size * SLAB_BLOCKS_MIN));
    bump = allocPages(slabPages);
    if (bump == 0) return 0;
    store<u32>(classBumpEnds + slot, bump + (<usize>slabPages << PAGE_SHIFT));
  }
  store<u32>(classBumpPtrs + slot, bump + size);
  return bump;
}

/** Frees a block from `alloc`; `bytes` is any size in the block's class (the request's). */
export function free(ptr: usize, bytes: u64): void {
  if (bytes > <u64>LARGEST_CLASS_BYTES) {
    freePages(ptr, pagesFor(bytes));
    return;
  }
  assert(ptr >= heapStart && ptr < <usize>memoryBytes());
  const slot = classOf(<usize>bytes) << 2;
  store<u32>(ptr, load<u32>(classFreeHeads + slot));
  store<u32>(classFreeHeads + slot, ptr);
}

/** Whether a block allocated for `oldBytes` also holds `newBytes` with no other class fitting better. */
export function sameBlockClass(oldBytes: u64, newBytes: u64): bool {
  // Equal sizes (a register rewritten with a same-length value) need no class lookup.
  return oldBytes == newBytes || blockBytes(oldBytes) == blockBytes(newBytes);
}
