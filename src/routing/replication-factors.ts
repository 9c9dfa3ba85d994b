/**
 * Per-key replication factors: the metadata behind selective (hot-key) replication.
 *
 * A map lattice from key to a versioned register (version, factor). Merging keeps, per key,
 * the entry with the larger version (equal versions: the larger factor), so updates may
 * arrive duplicated, late or out of order and every holder still converges on the same
 * map. One decider per node (the hot-key monitor) issues increasing versions; a key that
 * cools down gets a new entry with the default factor rather than being removed, since a
 * removal would not be a join.
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
      if (!wins(update, this.entries.get(update.key))) continue;
      const entry = { key: update.key, factor: update.factor, version: update.version };
      this.entries.set(update.key, entry);
      changed.push(entry);
    }
    return changed;
  }

  values(): IterableIterator<ReplicationFactor> {
    return this.entries.values();
  }
}
