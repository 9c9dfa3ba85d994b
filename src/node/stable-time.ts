/**
 * The stable time on a node's main thread (docs/causal-stability.md §6, §7).
 *
 * Node bound: in the node's epoch, the least held bound of its actors, once each has
 * reported one in that epoch. Cluster stable time S: in that epoch, the least bound of the
 * epoch's members, each from its own heartbeat (this node's: its current bound), once every
 * member reports one in that epoch. Every replica then holds every stamped causal version
 * (MULTI_CAUSAL or causal LWW) stamped in that epoch at or below S. S only rises within an
 * epoch and starts anew (none) in the next: a member gone since may have held versions no
 * other replica has.
 */
import type { HeldBound } from "../actor/causal-stability";

export interface StableTime {
  readonly micros: number;
  readonly epoch: number;
}

export class NodeStableTime {
  private readonly heldByActor: (HeldBound | undefined)[];
  private stable: StableTime = { micros: 0, epoch: 0 };

  constructor(private readonly actorCount: number) {
    this.heldByActor = new Array<HeldBound | undefined>(actorCount).fill(undefined);
  }

  /** Takes an actor's report; its bound only rises within an epoch (a lower one says nothing new). */
  noteHeld(tid: number, held: HeldBound): void {
    if (!(Number.isInteger(tid) && tid >= 0 && tid < this.actorCount)) throw new RangeError(`actor ${tid}`);
    const before = this.heldByActor[tid];
    if (before !== undefined && before.epoch === held.epoch && before.micros >= held.micros) return;
    this.heldByActor[tid] = held;
  }

  /** The node's bound in `epoch`: the least of its actors' (0: not every actor has reported one in it). */
  nodeHeldIn(epoch: number): number {
    let least = Infinity;
    for (const held of this.heldByActor) {
      if (held === undefined || held.epoch !== epoch || held.micros === 0) return 0;
      least = Math.min(least, held.micros);
    }
    return least;
  }

  /**
   * The cluster's stable time in `epoch` from the bounds of the epoch's members (undefined:
   * a member whose heartbeat has none), when it changed with them; else undefined.
   */
  update(epoch: number, memberBounds: readonly (StableTime | undefined)[]): StableTime | undefined {
    let least = memberBounds.length === 0 ? 0 : Infinity;
    for (const bound of memberBounds) least = bound?.epoch === epoch ? Math.min(least, bound.micros) : 0;
    const micros = epoch === this.stable.epoch ? Math.max(this.stable.micros, least) : least;
    if (epoch === this.stable.epoch && micros === this.stable.micros) return undefined;
    this.stable = { micros, epoch };
    return this.stable;
  }
}
