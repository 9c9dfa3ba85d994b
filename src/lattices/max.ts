/** The max lattice over a total order, and its instances: u64 timestamps, u32 counters, bytes, booleans. */
import { compareBytes, EMPTY_BYTES, OrderedLattice, Order } from "./lattice";
import { compareU64, U64, U64_ZERO } from "../wire/u64";

/** Builds the max lattice of a total order given as a comparator (negative: a < b). */
export function maxLattice<T>(bottom: T, compare: (a: T, b: T) => number): OrderedLattice<T> {
  return {
    bottom,
    compare(a, b) {
      const difference = compare(a, b);
      return difference < 0 ? Order.LESS : difference > 0 ? Order.GREATER : Order.EQUAL;
    },
    join(a, b) {
      return compare(a, b) < 0 ? b : a;
    },
  };
}

export const maxU64 = maxLattice<U64>(U64_ZERO, compareU64);
export const maxU32 = maxLattice<number>(0, (a: number, b: number) => a - b);
export const maxBytes = maxLattice<Uint8Array>(EMPTY_BYTES, compareBytes);
/** false < true: a flag that, once set on any replica, stays set (an LWW version's `committed`). */
export const maxBool = maxLattice<boolean>(false, (a: boolean, b: boolean) => Number(a) - Number(b));
