/**
 * What every lattice offers. The six wire types are compositions of a few base lattices
 * (max.ts, min.ts, set-union.ts, map.ts, pair.ts), each written once (docs/lattices.md).
 */

/** The partial order between two elements. */
export enum Order {
  LESS,
  EQUAL,
  GREATER,
  CONCURRENT,
}

export interface Lattice<T> {
  /** The least element: join(bottom, x) equals x. */
  readonly bottom: T;
  /**
   * The least upper bound. Returns `a` itself, not an equal copy, whenever the result
   * equals `a`: the store tells an unchanged value (no dirty mark) from this for free.
   */
  join(a: T, b: T): T;
}

/** A lattice that can also compare, for compositions that pick a side by order. */
export interface OrderedLattice<T> extends Lattice<T> {
  compare(a: T, b: T): Order;
}

/** Unsigned byte order, a shorter prefix first: the order of set elements and map keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a[i] - b[i];
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
