/**
 * A multi-key session's causal past, summarised per key (docs/consistency.md §2.8): for
 * each key, the join of the clocks of its writes that happen before the session's next
 * call: the session's own writes, the values it read, and all that those depended on. It
 * is exact, not an upper bound: a write's clock starts from it, so the write overwrites
 * the versions in its past and stays concurrent with every other; and the write carries it
 * whole as its dependencies, so whoever reads the write learns the writer's past exactly.
 */
import { compareBytes } from "../lattices/lattice";
import { toByteMap, type MapEntry } from "../lattices/map";
import type { Dependencies } from "../lattices/multi-causal";
import { clockBytes, vectorClock, type VectorClock } from "../lattices/vector-clock";
import type { CausalLevel } from "./causal-options";
import { ConsistencyError } from "./errors";

/** What an entry costs beyond its key (UTF-16) and clock: the Map entry and the clock's objects. */
const ENTRY_OVERHEAD_BYTES = 64;
const utf8 = new TextEncoder();

export interface CausalPastLimits {
  maxKeys: number;
  maxStateBytes: number;
}

/** The past's clocks after a join, and its bytes then. */
export interface PastUpdate {
  readonly clocks: ReadonlyMap<string, VectorClock>;
  readonly bytes: number;
}

function entryBytes(key: string, clock: VectorClock): number {
  return 2 * key.length + clockBytes(clock) + ENTRY_OVERHEAD_BYTES;
}

export class CausalPast {
  private readonly clocks = new Map<string, VectorClock>();
  private bytes = 0;

  constructor(
    private readonly limits: CausalPastLimits,
    private readonly level: CausalLevel,
  ) {}

  get keyCount(): number {
    return this.clocks.size;
  }

  get stateBytes(): number {
    return this.bytes;
  }

  clockOf(key: string): VectorClock {
    return this.clocks.get(key) ?? vectorClock.bottom;
  }

  /** Joins clocks into the past; SESSION_LIMIT, before any change, when the result would pass its limits. */
  add(entries: Iterable<readonly [key: string, clock: VectorClock]>): void {
    this.take(this.joinedWith(entries));
  }

  /**
   * The past joined with `entries`, checked against the limits but not yet taken: a write
   * checks before it is sent, so that one applied never fails for want of room after.
   */
  joinedWith(entries: Iterable<readonly [key: string, clock: VectorClock]>): PastUpdate {
    const clocks = new Map<string, VectorClock>();
    for (const [key, clock] of entries) {
      // An empty clock (a dependency on nothing of a key) adds nothing, and must not take an entry.
      if (clock.length > 0) clocks.set(key, vectorClock.join(clocks.get(key) ?? this.clockOf(key), clock));
    }
    let keyCount = this.clocks.size;
    let bytes = this.bytes;
    let grown: string | undefined;
    for (const [key, clock] of clocks) {
      const previous = this.clocks.get(key);
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
    return { clocks, bytes };
  }

  /** Takes an update from `joinedWith`, made since the past last changed. */
  take(update: PastUpdate): void {
    for (const [key, clock] of update.clocks) this.clocks.set(key, clock);
    this.bytes = update.bytes;
  }

  /** Every key's clock but `key`'s (a write's own clock covers that one): the dependencies of a write of `key`. */
  dependenciesExcept(key: string): Dependencies {
    const keyBytes = utf8.encode(key);
    const entries: MapEntry<VectorClock>[] = [];
    for (const [other, clock] of this.clocks) entries.push({ key: utf8.encode(other), value: clock });
    return toByteMap(entries, vectorClock).filter((entry) => compareBytes(entry.key, keyBytes) !== 0);
  }
}
