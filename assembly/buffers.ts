// The three working regions of an instance, each reused from call to call so that the
// hot path allocates nothing: the input region the host writes into, the output region
// results are written to, and a scratch stack for decoding and merging.
import { allocPages, freePages, pagesFor, PAGE_BYTES } from "./arena";

/** Regions shrink back when a request is this much smaller than what they hold. */
// @ts-ignore: decorator
@inline const SHRINK_FACTOR: u64 = 4;
// @ts-ignore: decorator
@inline const KEEP_BYTES_MAX: u64 = 1 << 20;

// ---- input ----

export let inputPtr: usize = 0;
let inputCapacity: u64 = 0;

/** A region of at least `bytes` bytes, or 0 (memory limit); contents are not kept. */
export function reserveInput(bytes: u64): usize {
  const tooSmall = bytes > inputCapacity;
  const tooBig = inputCapacity > KEEP_BYTES_MAX && bytes * SHRINK_FACTOR < inputCapacity;
  if (inputPtr != 0 && !tooSmall && !tooBig) return inputPtr;
  const oldPages = pagesFor(inputCapacity);
  if (inputPtr != 0) freePages(inputPtr, oldPages);
  const pages = pagesFor(max<u64>(bytes, 1));
  inputPtr = allocPages(pages);
  if (inputPtr != 0) {
    inputCapacity = pages * PAGE_BYTES;
    return inputPtr;
  }
  // The old region's pages were just freed, so taking them back cannot fail.
  inputPtr = oldPages == 0 ? 0 : allocPages(oldPages);
  assert(oldPages == 0 || inputPtr != 0);
  inputCapacity = inputPtr == 0 ? 0 : oldPages * PAGE_BYTES;
  return 0;
}

/** Whether `bytes` bytes from the start of the input region lie inside it. */
export function inputHolds(bytes: u64): bool {
  return bytes <= inputCapacity;
}

// ---- output ----

export let outputPtr: usize = 0;
export let outputLength: u32 = 0;
let outputBufferPtr: usize = 0;
let outputCapacity: u64 = 0;

/** Points the output at bytes held elsewhere (a stored value), with no copy. */
export function setOutput(ptr: usize, length: u32): void {
  outputPtr = ptr;
  outputLength = length;
}

/**
 * Makes the output buffer hold at least `bytes`, keeping its first `keepBytes`; returns
 * the buffer (which may have moved) or 0 when memory is short.
 */
export function reserveOutput(bytes: u64, keepBytes: u64): usize {
  if (bytes <= outputCapacity) return outputBufferPtr;
  const pages = pagesFor(max<u64>(bytes, outputCapacity * 2));
  let grown = allocPages(pages);
  let grownPages = pages;
  if (grown == 0) {
    grownPages = pagesFor(bytes);
    grown = allocPages(grownPages);
    if (grown == 0) return 0;
  }
  if (outputBufferPtr != 0) {
    memory.copy(grown, outputBufferPtr, <usize>keepBytes);
    freePages(outputBufferPtr, pagesFor(outputCapacity));
  }
  outputBufferPtr = grown;
  outputCapacity = grownPages * PAGE_BYTES;
  return grown;
}

export function setOutputToBuffer(length: u32): void {
  outputPtr = outputBufferPtr;
  outputLength = length;
}

// ---- scratch: a stack of page runs, emptied after every operation ----

// Each scratch run starts with a header: previous run (u32), page count (u32).
// @ts-ignore: decorator
@inline const SCRATCH_HEADER_BYTES: usize = 8;
let scratchRun: usize = 0;
let scratchTop: usize = 0;
let scratchEnd: usize = 0;

/** `bytes` of scratch (8-aligned) valid until scratchRelease, or 0 when memory is short. */
export function scratchAlloc(bytes: u64): usize {
  const size = (bytes + 7) & ~7;
  if (scratchRun != 0 && size <= <u64>(scratchEnd - scratchTop)) {
    const ptr = scratchTop;
    scratchTop += <usize>size;
    return ptr;
  }
  const pages = pagesFor(size + SCRATCH_HEADER_BYTES);
  const run = allocPages(pages);
  if (run == 0) return 0;
  store<u32>(run, scratchRun);
  store<u32>(run, <u32>pages, 4);
  scratchRun = run;
  scratchTop = run + SCRATCH_HEADER_BYTES + <usize>size;
  scratchEnd = run + (<usize>pages * PAGE_BYTES);
  return run + SCRATCH_HEADER_BYTES;
}

/** Frees all scratch but a small bottom run, which stays for the next operation. */
export function scratchRelease(): void {
  while (scratchRun != 0 && (load<u32>(scratchRun) != 0 || <u64>load<u32>(scratchRun, 4) * PAGE_BYTES > KEEP_BYTES_MAX)) {
    const previous = load<u32>(scratchRun);
    freePages(scratchRun, load<u32>(scratchRun, 4));
    scratchRun = previous;
  }
  scratchTop = scratchRun + SCRATCH_HEADER_BYTES;
  scratchEnd = scratchRun == 0 ? 0 : scratchRun + (<usize>load<u32>(scratchRun, 4) * PAGE_BYTES);
}
