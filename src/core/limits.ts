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
