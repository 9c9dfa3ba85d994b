/**
 * A multi-key session's causal past, summarised per key (docs/consistency.md §2.8): for
 * each key, the join of the versions of its writes that happen before the session's next
 * call: the session's own writes, the values it read, and all that those depended on. A
 * write carries it as its dependencies, so whoever reads the write learns the writer's
 * past. What a version is comes from the level's scheme (causal-versions.ts): a clock
 * (causal-multi-key, where a bare write's clock starts from its key's entry, so the past is
 * exact) or an LWW (timestamp, write id) (causal-multi-key-lww).
 *
 * Each entry also keeps the largest stamp among its versions in each epoch
 * (docs/causal-stability.md §7; unknown where one has none). Once the stable time of each
 * of those epochs passes its stamp, every replica holds those versions, and the entry is
 * dropped (`dropStable`): the past then holds what the session depended on within the last
 * stability lag, not all it ever saw. An addition whose version covers its key's entry
 * replaces it: a later version of the key is a dependency on all before it.
 */
import type { CausalLevel } from "./causal-options";
import type { VersionScheme } from "./causal-versions";
import { ConsistencyError } from "./errors";
import { type EpochStamps, isStable, joinEpochStamps, type StableTimes } from "./epoch-stamps";

/** What an entry costs beyond its key (UTF-16) and version: the Map entry and the version's objects. */
const ENTRY_OVERHEAD_BYTES = 64;

export interface CausalPastLimits {
  maxKeys: number;
  maxStateBytes: number;
}

/** A key's entry: the join of its versions, and their stamps by epoch. */
export interface PastEntry<V> {
  readonly version: V;
  readonly stamps: EpochStamps;
}

/** An entry to join into the past. */
export type PastAddition<V> = readonly [key: string, version: V, stamps: EpochStamps];

/** The past's entries after a join, and its bytes then. */
export interface PastUpdate<V> {
  readonly entries: ReadonlyMap<string, PastEntry<V>>;
  readonly bytes: number;
}

export class CausalPast<V> {
  private readonly entries = new Map<string, PastEntry<V>>();
  private bytes = 0;
  private readonly level: CausalLevel;

  constructor(
    private readonly limits: CausalPastLimits,
    private readonly versions: VersionScheme<V>,
  ) {
    this.level = versions.level;
  }

  get keyCount(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get stateBytes(): number {
    return this.bytes;
  }

  versionOf(key: string): V {
    return this.entries.get(key)?.version ?? this.versions.bottom;
  }

  /** Joins entries into the past; SESSION_LIMIT, before any change, when the result would pass its limits. */
  add(additions: Iterable<PastAddition<V>>): void {
    this.take(this.joinedWith(additions));
  }

  /** Drops every entry whose versions are all stamped at or below their epoch's stable time: every replica holds them. */
  dropStable(stable: StableTimes): void {
    for (const [key, entry] of this.entries) {
      if (!isStable(entry.stamps, stable)) continue;
      this.entries.delete(key);
      this.bytes -= this.entryBytes(key, entry.version);
    }
  }

  /**
   * The past joined with `entries`, checked against the limits but not yet taken: a write
   * checks before it is sent, so that one applied never fails for want of room after.
   */
  joinedWith(additions: Iterable<PastAddition<V>>): PastUpdate<V> {
    const { covers, bottom } = this.versions;
    const entries = new Map<string, PastEntry<V>>();
    for (const [key, version, stamps] of additions) {
      // A dependency on nothing of a key adds nothing, and must not take an entry.
      if (covers(bottom, version)) continue;
      const before = entries.get(key) ?? this.entries.get(key);
      entries.set(key, before === undefined ? { version, stamps } : this.joinEntry(before, version, stamps));
    }
    let keyCount = this.entries.size;
    let bytes = this.bytes;
    let grown: string | undefined;
    for (const [key, { version }] of entries) {
      const previous = this.entries.get(key)?.version;
      if (previous === version) continue;
      grown ??= key;
      if (previous === undefined) keyCount++;
      bytes += this.entryBytes(key, version) - (previous === undefined ? 0 : this.entryBytes(key, previous));
    }
    if (keyCount > this.limits.maxKeys || bytes > this.limits.maxStateBytes) {
      const limit =
        keyCount > this.limits.maxKeys
          ? `maxKeys (${this.limits.maxKeys} keys)`
          : `maxStateBytes (${this.limits.maxStateBytes} bytes; it would take ${bytes})`;
      throw new ConsistencyError(
        "SESSION_LIMIT",
        this.level,
        `${this.level}: the session's causal past is at ${limit}, so it cannot keep ${JSON.stringify(grown)}`,
      );
    }
    return { entries, bytes };
  }

  /** Takes an update from `joinedWith`, made since the past last changed. */
  take(update: PastUpdate<V>): void {
    for (const [key, entry] of update.entries) this.entries.set(key, entry);
    this.bytes = update.bytes;
  }

  /** Every key's entry but `key`'s (a write of it covers that one): the dependencies of a write of `key`. */
  entriesExcept(key: string): [string, PastEntry<V>][] {
    return [...this.entries].filter(([other]) => other !== key);
  }

  /** The entry of versions `before` and the addition: the addition alone where it covers `before`. */
  private joinEntry(before: PastEntry<V>, version: V, stamps: EpochStamps): PastEntry<V> {
    if (this.versions.covers(version, before.version)) return { version, stamps };
    return { version: this.versions.join(before.version, version), stamps: joinEpochStamps(before.stamps, stamps) };
  }

  private entryBytes(key: string, version: V): number {
    return 2 * key.length + this.versions.bytesOf(version) + ENTRY_OVERHEAD_BYTES;
  }
}
