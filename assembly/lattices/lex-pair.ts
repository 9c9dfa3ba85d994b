// The lexicographic pair (first, max bytes): the first components' order decides, the
// larger bytes break a tie. LWW is (max u64, (max bytes write id, max bytes value)) and
// PRIORITY (min f64, max bytes); register.ts orders the scalar before it reads the bytes
// that could break a tie, and uses this for the (write id, value) pair.
import { maxBytesOrder } from "./order";

/** The pairs' order (> 0: a is higher, < 0: b is, 0: equal), given the first components' order. */
export function lexPairOrder(firstOrder: i32, aBytesPtr: usize, aBytesLength: u32, bBytesPtr: usize, bBytesLength: u32): i32 {
  if (firstOrder != 0) return firstOrder;
  return maxBytesOrder(aBytesPtr, aBytesLength, bBytesPtr, bBytesLength);
}
