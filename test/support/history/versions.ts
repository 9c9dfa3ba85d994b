/**
 * The version order of each key (docs/consistency.md §2.0): LWW versions are totally
 * ordered by (stamp, write id, value); causal versions partially, by vector clock. Only
 * the graph's transactions' last write of a key has a place in the order.
 * Sorting is O(w log w) for w writes; a comparison is O(1) (LWW) or O(clock entries).
 */
import type { VectorClock } from "./events";
import type { History, LwwStamp } from "./history";

/** Stamp as a number, then write id bytes: equal-length lowercase hex sorts like its bytes, and a prefix first. */
export function compareLwwStamps(a: LwwStamp, b: LwwStamp): number {
  if (a.stamp !== b.stamp) return a.stamp < b.stamp ? -1 : 1;
  return a.writeId < b.writeId ? -1 : a.writeId > b.writeId ? 1 : 0;
}

/** The value breaks ties last, as the store's LWW merge does (values are ASCII, so code units order like bytes). */
export function compareLwwVersions(a: LwwStamp, aValue: string, b: LwwStamp, bValue: string): number {
  return compareLwwStamps(a, b) || (aValue < bValue ? -1 : aValue > bValue ? 1 : 0);
}

/**
 * Whether `b` names every write `a` names. An entry counts every write of its name up to
 * it; an entry `id#n` (a dotted context's cloud, docs/causal-dots.md) names the one write
 * (id, n), which `b` names by the same entry or by its entry of `id` at n or above.
 */
function clockCovers(a: VectorClock, b: VectorClock): boolean {
  // for-in, not Object.entries: this runs per comparison and must not allocate (but for dotted entries).
  for (const name in a) {
    const hash = name.indexOf("#");
    if (hash < 0) {
      if (a[name] > (b[name] ?? 0)) return false;
    } else if (b[name] === undefined && (b[name.slice(0, hash)] ?? 0) < Number(name.slice(hash + 1))) return false;
  }
  return true;
}

/** `b` names every write `a` names, and more: `a` happened before `b`. */
function clockBefore(a: VectorClock, b: VectorClock): boolean {
  return clockCovers(a, b) && !clockCovers(b, a);
}

export class VersionOrder {
  /** LWW key → its ordered writes (ids), lowest first. */
  readonly lwwVersions = new Map<string, number[]>();
  /** Position of a write in its key's LWW order; -1 when it has none. */
  private readonly rank: Int32Array;

  constructor(private readonly history: History) {
    this.rank = new Int32Array(history.writes.length).fill(-1);
    for (const write of history.writes) {
      if (write.stamp === null || !write.lastInTransaction || !history.transactions[write.txn].isNode) continue;
      const versions = this.lwwVersions.get(write.key);
      if (versions === undefined) this.lwwVersions.set(write.key, [write.id]);
      else versions.push(write.id);
    }
    const { writes } = history;
    for (const versions of this.lwwVersions.values()) {
      versions.sort((a, b) => compareLwwVersions(writes[a].stamp!, writes[a].value, writes[b].stamp!, writes[b].value));
      versions.forEach((write, position) => (this.rank[write] = position));
    }
  }

  /** Whether the write has a known place in its key's order (LWW rank or causal clock). */
  placed(write: number): boolean {
    return this.rank[write] >= 0 || this.history.writes[write].clock !== null;
  }

  rankOf(write: number): number {
    return this.rank[write];
  }

  /** Whether write `a` is strictly before write `b` (same key); undefined when either has no known version. */
  before(a: number, b: number): boolean | undefined {
    if (a === b) return false;
    const { writes } = this.history;
    if (this.rank[a] >= 0 && this.rank[b] >= 0) return this.rank[a] < this.rank[b];
    const clockA = writes[a].clock;
    const clockB = writes[b].clock;
    if (clockA !== null && clockB !== null) return clockBefore(clockA, clockB);
    return undefined;
  }

  /** Whether a read that returned write `returned` reflects write `wanted`: it is that write or a later one. */
  covers(returned: number, wanted: number): boolean {
    return returned === wanted || this.before(wanted, returned) === true;
  }
}
