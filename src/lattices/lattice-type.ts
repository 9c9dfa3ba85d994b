/** anna.proto's `LatticeType`; the numbers are the wire protocol's and never change. */
export enum LatticeType {
  NONE = 0,
  LWW = 1,
  SET = 2,
  SINGLE_CAUSAL = 3,
  MULTI_CAUSAL = 4,
  ORDERED_SET = 5,
  PRIORITY = 6,
}

export const LATTICE_TYPE_MAX = LatticeType.PRIORITY;

export function isKnownLatticeType(type: number): type is LatticeType {
  return Number.isInteger(type) && type >= LatticeType.LWW && type <= LATTICE_TYPE_MAX;
}
