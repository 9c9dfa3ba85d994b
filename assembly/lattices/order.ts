// The base chains: max of u64, min of f64, max of byte strings. Each returns > 0 when `a`
// is the higher element (the one a join keeps), < 0 when `b` is, 0 when they are equal.
import { compareBytes } from "../codec";

export function maxU64Order(a: u64, b: u64): i32 {
  return a == b ? 0 : a > b ? 1 : -1;
}

/** NaN never reaches here: decoding rejects it. */
export function minF64Order(a: f64, b: f64): i32 {
  return a == b ? 0 : a < b ? 1 : -1;
}

export function maxBytesOrder(aPtr: usize, aLength: u32, bPtr: usize, bLength: u32): i32 {
  return compareBytes(aPtr, aLength, bPtr, bLength);
}
