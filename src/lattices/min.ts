/** The min lattice of f64s: the max lattice of the reversed order, whose bottom is +Infinity. */
import { maxLattice } from "./max";

export const minF64 = maxLattice<number>(Number.POSITIVE_INFINITY, (a: number, b: number) =>
  a < b ? 1 : a > b ? -1 : 0,
);
