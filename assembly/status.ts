// The status codes of docs/wasm-abi.md ("Status codes"); the numbers are ABI.
export const OK: u32 = 0;
export const NOT_FOUND: u32 = 1;
export const LATTICE: u32 = 2;
export const MALFORMED: u32 = 3;
export const KEY_TOO_LARGE: u32 = 4;
export const VALUE_TOO_LARGE: u32 = 5;
export const OUT_OF_MEMORY: u32 = 6;
export const BAD_BATCH: u32 = 7;

// anna.proto LatticeType numbers.
export const LWW: u32 = 1;
export const SET: u32 = 2;
export const SINGLE_CAUSAL: u32 = 3;
export const MULTI_CAUSAL: u32 = 4;
export const ORDERED_SET: u32 = 5;
export const PRIORITY: u32 = 6;
/** annakv's, not Anna's: a multi-value register over a dotted causal context. */
export const DOTTED_CAUSAL: u32 = 16;

export function isKnownLatticeType(type: u32): bool {
  return (type >= LWW && type <= PRIORITY) || type == DOTTED_CAUSAL;
}
