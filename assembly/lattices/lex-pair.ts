// The lexicographic pair (first, max bytes): the first components' order decides, the
// larger bytes break a tie. LWW is (max u64, max bytes); PRIORITY is (min f64, max bytes).
import { maxBytesOrder } from "./order";

/** Whether the join of pairs a and b is b, given the first components' order. */
export function lexPairPrefersB(firstOrder: i32, aBytesPtr: usize, aBytesLength: u32, bBytesPtr: usize, bBytesLength: u32): bool {
  if (firstOrder != 0) return firstOrder < 0;
  return maxBytesOrder(aBytesPtr, aBytesLength, bBytesPtr, bBytesLength) < 0;
}
