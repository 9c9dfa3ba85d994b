/**
 * Every member a node knows of: a map lattice of member entries (member.ts). Merging a
 * table received by gossip keeps, per member, the merged entry. Left and dead members stay
 * as tombstones, so a late message cannot bring them back; a node that restarts returns
 * under a higher incarnation.
 */
import { holds, MemberEntry, mergeMember } from "./member";

/** Members one table holds at most; entries of new ids past it are ignored (and counted). */
export const MEMBERS_MAX = 1024;

export class MembershipTable {
  private readonly entries = new Map<string, MemberEntry>();
  /** Entries of unknown ids ignored because the table was full. */
  ignoredForSpace = 0;

  get size(): number {
    return this.entries.size;
  }

  get(id: string): MemberEntry | undefined {
    return this.entries.get(id);
  }

  all(): MemberEntry[] {
    return [...this.entries.values()];
  }

  /** Joins `incoming` into the table; returns the entries that changed (their new values). */
  merge(incoming: Iterable<MemberEntry>): MemberEntry[] {
    const changed: MemberEntry[] = [];
    for (const entry of incoming) {
      const current = this.entries.get(entry.id);
      if (current === undefined && this.entries.size >= MEMBERS_MAX) {
        this.ignoredForSpace++;
        continue;
      }
      const merged = current === undefined ? entry : mergeMember(current, entry);
      if (merged === current) continue;
      this.entries.set(entry.id, merged);
      changed.push(merged);
    }
    return changed;
  }

  /** Sets the node's own entry, which only it advances (the caller keeps it growing). */
  setOwn(entry: MemberEntry): void {
    const current = this.entries.get(entry.id);
    if (current !== undefined && !holds(entry, current)) {
      throw new Error(
        `own entry of ${entry.id} went backwards: incarnation ${entry.incarnation} heartbeat ${entry.heartbeat}`,
      );
    }
    this.entries.set(entry.id, entry);
  }
}
