/**
 * Which actors of a node hold a key: the local ring of actor thread ids, the node's
 * default replication factor and the per-key factors of hot keys. The routing service
 * and every actor build the same placement from the same inputs (and merge the same
 * factor updates), so they agree without talking.
 *
 * A key with factor f lives on the first f actors clockwise from its hash. Raising or
 * lowering a key's factor therefore only adds or removes actors at the end of its list:
 * the primary never changes.
 */
import { keyBytes, keyName } from "../core/key";
import { Hash64, xxhash64 } from "./hash";
import { HashRing } from "./ring";
import { ReplicationFactor, ReplicationFactors } from "./replication-factors";

export class LocalPlacement {
  private readonly ring = new HashRing();
  private readonly allTids: number[];
  /** Ring member name of each thread id. */
  private readonly memberNames: string[];
  private readonly factors = new ReplicationFactors();
  /** Low 32 hash bits of every key with a factor, with how many keys share them: most keys are told apart without their name. */
  private readonly factorHashes = new Map<number, number>();

  constructor(
    readonly threadCount: number,
    /** The factor of every key without an entry of its own. */
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

  /** Every actor holds every key, whatever the per-key factors say. */
  get fullyReplicated(): boolean {
    return this.defaultReplication === this.threadCount;
  }

  /** True while some key has a factor of its own (a hot key, or one that cooled and is not settled yet). */
  get hasKeyFactors(): boolean {
    return this.factors.size > 0;
  }

  /**
   * Joins per-key factor updates (a lattice: duplicates and reordering are harmless) and
   * returns those that changed something.
   */
  mergeFactors(updates: Iterable<ReplicationFactor>): ReplicationFactor[] {
    const changed: ReplicationFactor[] = [];
    for (const update of updates) {
      const isNew = this.factors.get(update.key) === undefined;
      const merged = this.factors.merge([update]);
      if (merged.length === 0) continue;
      if (isNew) this.countFactorHash(update.key, 1);
      changed.push(...merged);
    }
    return changed;
  }

  /**
   * Settles `version` (replication-factors.ts): drops the entries at or below it that hold
   * the default factor, and ignores updates at or below it from now on. Returns the
   * dropped keys.
   */
  settleFactors(version: number): string[] {
    const dropped = this.factors.settle(version, (factor) => factor <= this.defaultReplication);
    for (const key of dropped) this.countFactorHash(key, -1);
    return dropped;
  }

  /** The version settled last (0: none). */
  get settledFactorVersion(): number {
    return this.factors.settled;
  }

  /** How many keys have an entry of their own. */
  get keyFactorCount(): number {
    return this.factors.size;
  }

  private countFactorHash(key: string, delta: number): void {
    const low = xxhash64(keyBytes(key)).low;
    const count = (this.factorHashes.get(low) ?? 0) + delta;
    if (count > 0) this.factorHashes.set(low, count);
    else this.factorHashes.delete(low);
  }

  keyFactors(): IterableIterator<ReplicationFactor> {
    return this.factors.values();
  }

  /**
   * The number of actors holding the key. `name` is the key as a string when the caller
   * has it (saves decoding the bytes).
   */
  replicationOf(key: Uint8Array, name?: string): number {
    if (this.fullyReplicated) return this.threadCount;
    if (!this.hasKeyFactors) return this.defaultReplication;
    return name !== undefined ? this.replicationOfName(name) : this.replicationOfHash(xxhash64(key), key);
  }

  /** replicationOf for a caller that has only the key's name. */
  replicationOfName(name: string): number {
    if (this.fullyReplicated) return this.threadCount;
    const entry = this.factors.get(name);
    if (entry === undefined) return this.defaultReplication;
    return Math.min(this.threadCount, Math.max(this.defaultReplication, entry.factor));
  }

  /** The actors (thread ids) that hold the key, primary first. */
  replicas(key: Uint8Array, name?: string): number[] {
    if (this.fullyReplicated) return this.allTids;
    const hash = xxhash64(key);
    return this.ring.replicasOfHash(hash, this.replicationOfHash(hash, key, name)).map(Number);
  }

  isReplica(key: Uint8Array, tid: number, name?: string): boolean {
    if (this.fullyReplicated) return true;
    const hash = xxhash64(key);
    return this.isReplicaOfHash(hash, tid, this.replicationOfHash(hash, key, name));
  }

  /**
   * For the request hot path: the replica count of the key that is `length` bytes of
   * `source` from `start` (a span of a request frame, hashed where it lies) when actor
   * `tid` holds it, else 0.
   */
  replicationAt(source: Uint8Array, tid: number, start = 0, length = source.length - start): number {
    if (this.fullyReplicated) return this.threadCount;
    return this.replicationAtHash(xxhash64(source, start, length), source, tid, start, length);
  }

  /** replicationAt for a caller that has the key's hash already (the Wasm core's request table). */
  replicationAtHash(hash: Hash64, source: Uint8Array, tid: number, start: number, length: number): number {
    if (this.fullyReplicated) return this.threadCount;
    const replication = this.replicationOfHash(hash, source, undefined, start, length);
    return this.isReplicaOfHash(hash, tid, replication) ? replication : 0;
  }

  /**
   * The key's factor with its hash at hand: its name (given, or decoded from the bytes) is
   * looked up only when a key with the same low hash bits has a factor of its own.
   */
  private replicationOfHash(hash: Hash64, key: Uint8Array, name?: string, start = 0, length = key.length - start): number {
    if (!this.factorHashes.has(hash.low)) return this.defaultReplication;
    return this.replicationOfName(name ?? keyName(key.subarray(start, start + length)));
  }

  /** No arrays when the replication is 1. */
  private isReplicaOfHash(hash: Hash64, tid: number, replication: number): boolean {
    if (replication === 1) return this.ring.ownerOfHash(hash) === this.memberNames[tid];
    return this.ring.replicasOfHash(hash, replication).includes(this.memberNames[tid]);
  }
}
