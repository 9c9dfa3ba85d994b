/**
 * The local ring of one node: which of its actors hold a key that lives on `count` of
 * them. A key with factor f lives on the first f actors clockwise from its hash, so raising
 * or lowering a key's factor only adds or removes actors at the end of its list: the
 * primary never changes. The node's default factor (--local-replication) applies to every
 * key without a factor of its own (those are in ClusterPlacement's FactorIndex).
 */
import { Hash64, xxhash64 } from "./hash";
import { HashRing } from "./ring";

export class LocalPlacement {
  private readonly ring = new HashRing();
  private readonly allTids: number[];
  /** Ring member name of each thread id. */
  private readonly memberNames: string[];
  /** Reused by isReplicaOfHash, so that the request path allocates no replica list. */
  private readonly scratchMembers: string[] = [];

  constructor(
    readonly threadCount: number,
    /** The factor of every key without one of its own. */
    readonly defaultReplication: number,
  ) {
    if (!Number.isInteger(threadCount) || threadCount < 1) {
      throw new RangeError(`threadCount must be a positive integer, got ${threadCount}`);
    }
    if (!Number.isInteger(defaultReplication) || defaultReplication < 1 || defaultReplication > threadCount) {
      throw new RangeError(`replication must be between 1 and ${threadCount}, got ${defaultReplication}`);
    }
    this.allTids = Array.from({ length: threadCount }, (_, tid) => tid);
    this.memberNames = this.allTids.map(String);
    for (const name of this.memberNames) this.ring.add(name);
  }

  /** Every actor holds every key, whatever a key's factor says. */
  get fullyReplicated(): boolean {
    return this.defaultReplication === this.threadCount;
  }

  /** A factor asked for (0: none), within [default, threads]. */
  clamp(factor: number): number {
    return Math.min(this.threadCount, Math.max(this.defaultReplication, factor));
  }

  /**
   * The actors (thread ids) holding a key of this hash on `count` actors, primary first.
   * Under full replication every key's list is the same array, in tid order (every actor
   * being every key's replica, none is its primary).
   */
  replicasOfHash(hash: Hash64, count: number): number[] {
    if (this.fullyReplicated) return this.allTids;
    return this.ring.replicasOfHash(hash, count).map(Number);
  }

  replicas(key: Uint8Array, count = this.defaultReplication): number[] {
    return this.replicasOfHash(xxhash64(key), count);
  }

  /** True when actor `tid` is one of the `count` holding a key of this hash. No arrays for a count of 1. */
  isReplicaOfHash(hash: Hash64, tid: number, count: number): boolean {
    if (count >= this.threadCount) return true;
    if (count === 1) return this.ring.ownerOfHash(hash) === this.memberNames[tid];
    return this.ring.replicasOfHash(hash, count, this.scratchMembers).includes(this.memberNames[tid]);
  }

  isReplica(key: Uint8Array, tid: number, count = this.defaultReplication): boolean {
    return this.isReplicaOfHash(xxhash64(key), tid, count);
  }
}
