/** anna.proto's `LatticeType`; the numbers are the wire protocol's and never change. */
export enum LatticeType {
  NONE = 0,
  LWW = 1,
  SET = 2,
  SINGLE_CAUSAL = 3,
  MULTI_CAUSAL = 4,
  ORDERED_SET = 5,
  PRIORITY = 6,
  /** annakv's, not Anna's: a multi-value register over a dotted causal context (dotted-causal.ts). */
  DOTTED_CAUSAL = 16,
}

/** The largest of Anna's own types; annakv's extensions are numbered from 16. */
export const LATTICE_TYPE_MAX = LatticeType.PRIORITY;

export function isKnownLatticeType(type: number): type is LatticeType {
  return (
    Number.isInteger(type) &&
    ((type >= LatticeType.LWW && type <= LATTICE_TYPE_MAX) || type === LatticeType.DOTTED_CAUSAL)
  );
}
