/** The store's size limits, with their defaults in one place (docs/wasm-abi.md, `configure`). */
export interface StoreLimits {
  /** Longest key accepted, in bytes. */
  maxKeyBytes: number;
  /** Longest payload, or merged value, accepted, in bytes. */
  maxValueBytes: number;
  /** Memory the store may reserve, in bytes (the Wasm engine rounds down to 64 KiB pages). */
  maxMemoryBytes: number;
}

export const WASM_PAGE_BYTES = 65536;
/** wasm32 can address 4 GiB: 65536 pages. */
export const WASM_MAX_PAGES = 65536;

export const DEFAULT_LIMITS: Readonly<StoreLimits> = Object.freeze({
  maxKeyBytes: 65536,
  maxValueBytes: 8 * 1024 * 1024,
  maxMemoryBytes: 1024 * 1024 * 1024,
});

/**
 * Memory a store keeps for merges from its replicas, out of maxMemoryBytes: a client's
 * write (PUT) is refused with OUT_OF_MEMORY once it would take the memory in use past
 * maxMemoryBytes less this, while a merge (MERGE) may use all of it.
 *
 * Why: replicas accept writes on their own and hear of each other's a gossip period
 * later. A store that let its own clients fill it to the brim could take none of the writes
 * its replicas acknowledged meanwhile, and the replicas would differ for good. The headroom
 * must hold a merge's input region (a 64 KiB chunk, core/merge-records.ts) and what the
 * other replicas accepted in the last period or so. That is a rate, not a share of the
 * store: one actor takes 60 KB PUTs from one client at about 10 MB/s (test/memory-limit),
 * some 1 MB per default 100 ms period. So: an eighth of the limit (128 MiB of 1 GiB),
 * but at least 1 MiB, and at most a quarter in a store under 8 MiB, whose clients keep
 * 3/4 of it. Whole 64 KiB pages, so that both engines keep the same bytes (a store under
 * 256 KiB keeps none). What still does not fit is owed, counted and retried
 * (actor/merge-backlog.ts; docs/operations.md, "At the memory limit").
 */
export function mergeHeadroomBytes(maxMemoryBytes: number): number {
  const bytes = Math.min(Math.max(maxMemoryBytes / 8, MERGE_HEADROOM_BYTES_MIN), maxMemoryBytes / 4);
  return Math.floor(bytes / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
}

/** The least merge headroom a store of 4 MiB or more keeps (see mergeHeadroomBytes). */
const MERGE_HEADROOM_BYTES_MIN = 1024 * 1024;

export function resolveLimits(partial: Partial<StoreLimits> = {}): StoreLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (limits.maxMemoryBytes > WASM_MAX_PAGES * WASM_PAGE_BYTES) {
    throw new RangeError(`maxMemoryBytes must be at most 4 GiB, got ${limits.maxMemoryBytes}`);
  }
  if (limits.maxKeyBytes > 0x7fffffff || limits.maxValueBytes > 0x7fffffff) {
    throw new RangeError("maxKeyBytes and maxValueBytes must be below 2 GiB");
  }
  return limits;
}
