/**
 * Which actors of a node hold a key: the local ring of actor thread ids and the node's
 * replication factor. The routing service and every actor build the same placement from
 * the same inputs, so they agree without talking.
 */
import { xxhash64 } from "./hash";
import { HashRing } from "./ring";

export class LocalPlacement {
  private readonly ring = new HashRing();
  private readonly allTids: number[];
  /** Ring member name of each thread id. */
  private readonly memberNames: string[];

  constructor(
    readonly threadCount: number,
    readonly replication: number,
  ) {
    if (!Number.isInteger(threadCount) || threadCount < 1) {
      throw new RangeError(`threadCount must be a positive integer, got ${threadCount}`);
    }
    if (!Number.isInteger(replication) || replication < 1 || replication > threadCount) {
      throw new RangeError(`replication must be between 1 and ${threadCount}, got ${replication}`);
    }
    this.allTids = Array.from({ length: threadCount }, (_, tid) => tid);
    this.memberNames = this.allTids.map(String);
    for (const name of this.memberNames) this.ring.add(name);
  }

  get fullyReplicated(): boolean {
    return this.replication === this.threadCount;
  }

  /** The actors (thread ids) that hold the key, primary first. */
  replicas(key: Uint8Array): number[] {
    if (this.fullyReplicated) return this.allTids;
    return this.ring.replicasOfHash(xxhash64(key), this.replication).map(Number);
  }

  /** On the request hot path: no arrays when each key has one replica. */
  isReplica(key: Uint8Array, tid: number): boolean {
    if (this.fullyReplicated) return true;
    if (this.replication === 1) return this.ring.ownerOfHash(xxhash64(key)) === this.memberNames[tid];
    return this.replicas(key).includes(tid);
  }
}
