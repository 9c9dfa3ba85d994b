// LWWValue's tags and the limits of its fields, shared by register.ts (the committed part's
// plain path) and lww-window.ts (payloads with a write set or versions). The same numbers
// as src/lattices/lww.ts; past a limit a payload is MALFORMED (docs/wasm-abi.md).
export const TIMESTAMP_TAG: u8 = 0x08;
/** Field 2, length-delimited: LWWValue's value, and PriorityValue's. */
export const VALUE_TAG: u8 = 0x12;
export const WRITE_ID_TAG: u8 = 0x6a;
export const WRITE_SET_TAG: u8 = 0x72;
export const VERSION_TAG: u8 = 0x7a;
export const WRITE_ID_FIELD: u64 = 13;
export const WRITE_SET_FIELD: u64 = 14;
export const VERSION_FIELD: u64 = 15;

export const WRITE_ID_BYTES_MAX: u32 = 64;
/** Keys in one write set: a read-atomic transaction writes at most this many. */
export const WRITE_SET_KEYS_MAX: u32 = 64;
export const WRITE_SET_KEY_BYTES_MAX: u32 = 1024;
/** Fields 15 in one payload, and entries a window keeps (the greatest). */
export const VERSIONS_MAX: u32 = 32;
/** W: a window keeps versions at most this far below the committed timestamp. */
export const WINDOW_MICROS: u64 = 5_000_000;
/** N: a window keeps at most this many committed versions, the greatest. */
export const COMMITTED_VERSIONS_KEPT: u32 = 4;
