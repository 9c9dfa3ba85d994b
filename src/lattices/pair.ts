/** Pairs of lattices: the product, and the lexicographic pair that LWW, PRIORITY and causal values use. */
import { Lattice, Order, OrderedLattice } from "./lattice";

export interface Pair<A, B> {
  readonly first: A;
  readonly second: B;
}

/** Builds the pair from two joined parts, reusing `a` or `b` when the result is one of them. */
function joinedPair<A, B>(a: Pair<A, B>, b: Pair<A, B>, first: A, second: B): Pair<A, B> {
  if (first === a.first && second === a.second) return a;
  if (first === b.first && second === b.second) return b;
  return { first, second };
}

/** Both parts joined independently (MULTI_CAUSAL's dependencies beside its values). */
export function productLattice<A, B>(first: Lattice<A>, second: Lattice<B>): Lattice<Pair<A, B>> {
  return {
    bottom: { first: first.bottom, second: second.bottom },
    join: (a, b) => joinedPair(a, b, first.join(a.first, b.first), second.join(a.second, b.second)),
  };
}

/**
 * The side whose first part is strictly greater wins whole; when the first parts are
 * equal or concurrent, both parts are joined. With a totally ordered first part this is
 * the lexicographic lattice (LWW: timestamp then bytes; PRIORITY: lowest priority then
 * bytes). With a vector clock first it is Anna's causal rule, which is a join only on
 * well-formed histories (docs/lattices.md).
 */
export function lexicographicPair<A, B>(first: OrderedLattice<A>, second: Lattice<B>): Lattice<Pair<A, B>> {
  return {
    bottom: { first: first.bottom, second: second.bottom },
    join(a, b) {
      const order = first.compare(a.first, b.first);
      if (order === Order.GREATER) return a;
      if (order === Order.LESS) return b;
      return joinedPair(a, b, first.join(a.first, b.first), second.join(a.second, b.second));
    },
  };
}
