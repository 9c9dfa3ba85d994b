/**
 * A lattice kept pruned: join(a, b) = prune(a ⊔ b), over elements that are already pruned.
 * It is a join (associative, commutative, idempotent) when `prune` satisfies
 *   prune(prune(x)) = prune(x)   and   prune(prune(x) ⊔ y) = prune(x ⊔ y):
 * then join(join(a, b), c) = prune(prune(a ⊔ b) ⊔ c) = prune(a ⊔ b ⊔ c), which is symmetric
 * in a, b and c. What a prune drops must be what the join would drop anyway, whatever is
 * joined later: a threshold that only rises with the state (lww.ts) has that property.
 * `prune` returns its argument itself when it drops nothing, so the join keeps returning
 * `a` itself when the result equals `a`.
 */
import { Lattice } from "./lattice";

export function prunedLattice<T>(lattice: Lattice<T>, prune: (value: T) => T): Lattice<T> {
  return { bottom: lattice.bottom, join: (a, b) => prune(lattice.join(a, b)) };
}
