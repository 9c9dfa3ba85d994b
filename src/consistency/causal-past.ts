/**
 * A multi-key session's causal past, summarised per key (docs/consistency.md §2.8): for
 * each key, the join of the clocks of its writes that happen before the session's next
 * call: the session's own writes, the values it read, and all that those depended on. It
 * is exact, not an upper bound: a write's clock starts from it, so the write overwrites
 * the versions in its past and stays concurrent with every other; and the write carries it
 * whole as its dependencies, so whoever reads the write learns the writer's past exactly.
 *
 * Each entry also keeps the largest stamp among its versions in each epoch
 * (docs/causal-stability.md §7; unknown where one has none). Once the stable time of each
 * of those epochs passes its stamp, every replica holds those versions, and the entry is
 * dropped (`dropStable`): the past then holds what the session depended on within the last
 * stability lag, not all it ever saw. An addition whose clock covers its key's entry
 * replaces it: a later version of the key is a dependency on all before it.
 */
import { compareBytes } from "../lattices/lattice";
import { toByteMap, type MapEntry } from "../lattices/map";
import type { Dependencies } from "../lattices/multi-causal";
import { Order } from "../lattices/lattice";
import { clockBytes, vectorClock, type VectorClock } from "../lattices/vector-clock";
import type { CausalLevel } from "./causal-options";
import { compareDependencyStamps, type DependencyStamp } from "../lattices/causal-stamp";
import { ConsistencyError } from "./errors";
import { type EpochStamps, isStable, joinEpochStamps, type StableTimes } from "./epoch-stamps";

/** What an entry costs beyond its key (UTF-16) and clock: the Map entry and the clock's objects. */
const ENTRY_OVERHEAD_BYTES = 64;
const utf8 = new TextEncoder();

export interface CausalPastLimits {
  maxKeys: number;
  maxStateBytes: number;
}

/** A key's entry: the join of its versions' clocks, and their stamps by epoch. */
export interface PastEntry {
  readonly clock: VectorClock;
  readonly stamps: EpochStamps;
}

/** An entry to join into the past. */
export type PastAddition = readonly [key: string, clock: VectorClock, stamps: EpochStamps];

/** The past's entries after a join, and its bytes then. */
export interface PastUpdate {
  readonly entries: ReadonlyMap<string, PastEntry>;
  readonly bytes: number;
}

/** A write's dependencies: per key, the clock needed, and the stamps of those that have one. */
export interface WriteDependencies {
  readonly clocks: Dependencies;
  readonly stamps: DependencyStamp[];
}

function entryBytes(key: string, clock: VectorClock): number {
  return 2 * key.length + clockBytes(clock) + ENTRY_OVERHEAD_BYTES;
}

/** The entry of versions `before` and the addition: the addition alone where its clock covers `before`'s. */
function joinEntry(before: PastEntry, clock: VectorClock, stamps: EpochStamps): PastEntry {
  const order = vectorClock.compare(before.clock, clock);
  if (order === Order.LESS || order === Order.EQUAL) return { clock, stamps };
  return { clock: vectorClock.join(before.clock, clock), stamps: joinEpochStamps(before.stamps, stamps) };
}

export class CausalPast {
  private readonly entries = new Map<string, PastEntry>();
  private bytes = 0;

  constructor(
    private readonly limits: CausalPastLimits,
    private readonly level: CausalLevel,
  ) {}

  get keyCount(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get stateBytes(): number {
    return this.bytes;
  }

  clockOf(key: string): VectorClock {
    return this.entries.get(key)?.clock ?? vectorClock.bottom;
  }

  /** Joins entries into the past; SESSION_LIMIT, before any change, when the result would pass its limits. */
  add(additions: Iterable<PastAddition>): void {
    this.take(this.joinedWith(additions));
  }

  /** Drops every entry whose versions are all stamped at or below their epoch's stable time: every replica holds them. */
  dropStable(stable: StableTimes): void {
    for (const [key, entry] of this.entries) {
      if (!isStable(entry.stamps, stable)) continue;
      this.entries.delete(key);
      this.bytes -= entryBytes(key, entry.clock);
    }
  }

  /**
   * The past joined with `entries`, checked against the limits but not yet taken: a write
   * checks before it is sent, so that one applied never fails for want of room after.
   */
  joinedWith(additions: Iterable<PastAddition>): PastUpdate {
    const entries = new Map<string, PastEntry>();
    for (const [key, clock, stamps] of additions) {
      // An empty clock (a dependency on nothing of a key) adds nothing, and must not take an entry.
      if (clock.length === 0) continue;
      const before = entries.get(key) ?? this.entries.get(key);
      entries.set(key, before === undefined ? { clock, stamps } : joinEntry(before, clock, stamps));
    }
    let keyCount = this.entries.size;
    let bytes = this.bytes;
    let grown: string | undefined;
    for (const [key, { clock }] of entries) {
      const previous = this.entries.get(key)?.clock;
      if (previous === clock) continue;
      grown ??= key;
      if (previous === undefined) keyCount++;
      bytes += entryBytes(key, clock) - (previous === undefined ? 0 : entryBytes(key, previous));
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
  take(update: PastUpdate): void {
    for (const [key, entry] of update.entries) this.entries.set(key, entry);
    this.bytes = update.bytes;
  }

  /** Every key's entry but `key`'s (a write's own clock covers that one): the dependencies of a write of `key`. */
  dependenciesExcept(key: string): WriteDependencies {
    const keyBytes = utf8.encode(key);
    const clocks: MapEntry<VectorClock>[] = [];
    const stamps: DependencyStamp[] = [];
    for (const [other, entry] of this.entries) {
      const otherBytes = utf8.encode(other);
      if (compareBytes(otherBytes, keyBytes) === 0) continue;
      clocks.push({ key: otherBytes, value: entry.clock });
      // Unknown stamps are listed too (never stable), or a reader would bound them by the base.
      for (const [epoch, stampMicros] of entry.stamps) stamps.push({ key: otherBytes, stampMicros, epoch });
    }
    stamps.sort(compareDependencyStamps);
    return { clocks: toByteMap(clocks, vectorClock), stamps };
  }
}
