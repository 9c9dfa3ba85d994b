/**
 * Failure detection by heartbeats spread through gossip (docs/cluster.md, "Failure"):
 * every node notes when each member's heartbeat last rose, by whatever path it came, so a
 * member is suspected only when nobody this node hears from has heard from it. Silent for
 * half the timeout: suspect; for the whole of it: dead.
 *
 * A node whose own timers ran late (the process was paused, or its event loop starved)
 * heard nothing meanwhile through no fault of the others: it forgives that round, starting
 * every member's clock anew, instead of declaring the whole cluster dead.
 */
import { MemberEntry, Suspicion } from "./member";

export interface Verdict {
  id: string;
  suspicion: Suspicion;
}

interface Heard {
  incarnation: number;
  heartbeat: number;
  /** Local monotonic time (ms) when the heartbeat last rose. */
  atMs: number;
}

export class FailureDetector {
  private readonly heard = new Map<string, Heard>();

  constructor(
    private readonly failureTimeoutMs: number,
    /** A tick later than this (ms) means this node, not its peers, was not running. */
    private readonly lateToleranceMs: number,
  ) {}

  /** Notes an entry as merged into the table: a new incarnation or a higher heartbeat is a sign of life. */
  observe(entry: MemberEntry, nowMs: number): void {
    const last = this.heard.get(entry.id);
    if (last !== undefined && last.incarnation === entry.incarnation && last.heartbeat >= entry.heartbeat) return;
    if (last !== undefined && last.incarnation > entry.incarnation) return;
    this.heard.set(entry.id, { incarnation: entry.incarnation, heartbeat: entry.heartbeat, atMs: nowMs });
  }

  /**
   * The suspicion each member has earned by its silence, for the members given (the live
   * ones other than this node); `lateMs` is how late this tick ran.
   */
  judge(members: readonly MemberEntry[], nowMs: number, lateMs: number): Verdict[] {
    if (lateMs > this.lateToleranceMs) {
      for (const heard of this.heard.values()) heard.atMs = nowMs;
      return [];
    }
    const verdicts: Verdict[] = [];
    for (const member of members) {
      const heard = this.heard.get(member.id);
      if (heard === undefined) {
        this.observe(member, nowMs);
        continue;
      }
      const silentMs = nowMs - heard.atMs;
      const suspicion =
        silentMs >= this.failureTimeoutMs
          ? Suspicion.DEAD
          : silentMs >= this.failureTimeoutMs / 2
            ? Suspicion.SUSPECT
            : Suspicion.NONE;
      if (suspicion > member.suspicion) verdicts.push({ id: member.id, suspicion });
    }
    return verdicts;
  }

  /** Milliseconds since the member's heartbeat last rose (for status), or undefined if never heard. */
  silenceMs(id: string, nowMs: number): number | undefined {
    const heard = this.heard.get(id);
    return heard === undefined ? undefined : nowMs - heard.atMs;
  }
}
