/**
 * Per-key replication factors: the metadata behind selective (hot-key) replication.
 *
 * A map lattice from key to a versioned register (version, factor). Merging keeps, per key,
 * the entry with the larger version (equal versions: the larger factor), so updates may
 * arrive duplicated, late or out of order and every holder still converges on the same
 * map. One decider per node (the hot-key monitor) issues increasing versions; a key that
 * cools down gets a new entry with the default factor rather than being removed, since a
 * removal would not be a join.
 *
 * Those default entries are garbage-collected by **settling**: once the decider knows that
 * every holder has seen every update up to version V, it settles V everywhere. Settling
 * drops the entries at or below V that say what the default says anyway, and from then on
 * the map ignores updates at or below V: each is one every holder saw already (a duplicate
 * or a late copy), so ignoring it is what merging it would have converged to, and a late
 * copy of an older, higher factor cannot bring a dropped key back.
 */

export interface ReplicationFactor {
  /** The key, as the client names it (anna.proto keys are strings). */
  key: string;
  /** Actors of this node that hold the key. */
  factor: number;
  /** Orders the decisions about one key; larger wins. */
  version: number;
}

function wins(candidate: ReplicationFactor, current: ReplicationFactor | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.version !== current.version) return candidate.version > current.version;
  return candidate.factor > current.factor;
}

export class ReplicationFactors {
  private readonly entries = new Map<string, ReplicationFactor>();
  /** Updates at or below this version are known to every holder (see settle). */
  private settledVersion = 0;

  get size(): number {
    return this.entries.size;
  }

  get(key: string): ReplicationFactor | undefined {
    return this.entries.get(key);
  }

  /** Joins `updates` into the map; returns the entries that changed it, in input order. */
  merge(updates: Iterable<ReplicationFactor>): ReplicationFactor[] {
    const changed: ReplicationFactor[] = [];
    for (const update of updates) {
      if (!Number.isInteger(update.factor) || update.factor < 1 || !Number.isSafeInteger(update.version)) {
        throw new RangeError(`bad replication factor entry ${JSON.stringify(update)}`);
      }
      if (update.version <= this.settledVersion || !wins(update, this.entries.get(update.key))) continue;
      const entry = { key: update.key, factor: update.factor, version: update.version };
      this.entries.set(update.key, entry);
      changed.push(entry);
    }
    return changed;
  }

  get settled(): number {
    return this.settledVersion;
  }

  /**
   * Settles `version` (every holder has seen every update up to it): drops the entries at
   * or below it whose factor `isDefault` says is the default; returns their keys.
   */
  settle(version: number, isDefault: (factor: number) => boolean): string[] {
    if (!Number.isSafeInteger(version)) throw new RangeError(`bad settled version ${version}`);
    if (version <= this.settledVersion) return [];
    this.settledVersion = version;
    const dropped: string[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.version > version || !isDefault(entry.factor)) continue;
      this.entries.delete(key);
      dropped.push(key);
    }
    return dropped;
  }

  values(): IterableIterator<ReplicationFactor> {
    return this.entries.values();
  }
}
