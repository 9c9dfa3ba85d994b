/**
 * The node's stable time (docs/causal-stability.md §2, §6): the least held bound of its
 * actors, once every actor has reported one. Every replica then holds every stamped
 * MULTI_CAUSAL version at or below it. Only while the node is its own cluster: with other
 * members, their actors' bounds would count too, which the heartbeat does not carry yet,
 * so the node reports none (0) and clients list every dependency, as without this.
 */
export class NodeStableTime {
  private readonly heldByActor: number[];
  private reportedCount = 0;
  private stableMicros = 0;

  constructor(private readonly actorCount: number) {
    this.heldByActor = new Array<number>(actorCount).fill(-1);
  }

  /** The stable time to post to the actors when it changed with this report, else undefined. */
  noteHeld(tid: number, heldMicros: number, memberCount: number): number | undefined {
    if (!(Number.isInteger(tid) && tid >= 0 && tid < this.actorCount)) throw new RangeError(`actor ${tid}`);
    if (this.heldByActor[tid] < 0) this.reportedCount++;
    // An actor's bound only rises; a lower report (reordered) says nothing new.
    this.heldByActor[tid] = Math.max(this.heldByActor[tid], heldMicros);
    let stable = 0;
    if (memberCount === 1 && this.reportedCount === this.actorCount) stable = Math.min(...this.heldByActor);
    if (stable === this.stableMicros) return undefined;
    this.stableMicros = stable;
    return stable;
  }
}
