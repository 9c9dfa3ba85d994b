/**
 * Members' held bounds heard between heartbeats, by `stability` message
 * (docs/causal-stability.md §10). A held bound is a fact about one incarnation of a member
 * in one epoch ("every version it accepted in that epoch at or below this stamp is on every
 * replica"), true from when it was sent on; so within an incarnation and epoch the larger
 * one heard is kept, by whatever path and in whatever order the messages came. Only the
 * latest incarnation and epoch heard of each member is kept: a message of another replaces
 * it, as a heartbeat's data replaces the last.
 */
export interface EarlyBound {
  readonly incarnation: number;
  readonly epoch: number;
  readonly heldMicros: number;
}

export class EarlyBounds {
  private readonly byMember = new Map<string, EarlyBound>();

  /** Takes a member's bound; a smaller one of the same incarnation and epoch says nothing new. */
  note(id: string, bound: EarlyBound): void {
    const known = this.byMember.get(id);
    if (
      known !== undefined &&
      known.incarnation === bound.incarnation &&
      known.epoch === bound.epoch &&
      known.heldMicros >= bound.heldMicros
    )
      return;
    this.byMember.set(id, bound);
  }

  /** The bound heard from that incarnation of a member in `epoch`, if any. */
  heldIn(id: string, incarnation: number, epoch: number): number | undefined {
    const known = this.byMember.get(id);
    return known?.incarnation === incarnation && known.epoch === epoch ? known.heldMicros : undefined;
  }

  /** Drops what was heard from members no longer held under that incarnation (`incarnationOf`: the table's). */
  prune(incarnationOf: (id: string) => number | undefined): void {
    for (const [id, bound] of this.byMember) if (incarnationOf(id) !== bound.incarnation) this.byMember.delete(id);
  }

  get size(): number {
    return this.byMember.size;
  }
}
