/**
 * Hot-key detection for selective replication (the node's side; Anna's monitoring thread).
 *
 * Every window, each actor reports its sampled key accesses. A key is hot when its request
 * rate is at least `hotKeyMinOpsPerSec` and more than `threshold` times the mean load of
 * one actor (node rate / actors): it then gets as many replicas as it takes for each to
 * serve at most `threshold` x that mean from it, clamped to [default factor, actors]. A key
 * whose factor is above what its load asks for keeps it until the load has stayed lower
 * for `cooldownWindows` windows in a row, then drops to the most any of them asked for:
 * replicas are not torn down by one quiet window.
 *
 * Decisions are per-key factor entries with increasing versions, one apart (this monitor
 * is the only decider of its node, and every decision of a window goes to every actor in
 * one frame); they are merged into the node's placement, which the routing service reads,
 * and posted to every actor. Each actor reports, with its accesses, the version up to
 * which it has seen every decision; the least of those is settled (replication-factors.ts):
 * the entries of keys that cooled back to the default factor are dropped everywhere.
 */
import type { AccessReport } from "../actor/access-sampler";
import type { LocalPlacement } from "../routing/placement";
import type { ReplicationFactor } from "../routing/replication-factors";

export interface HotKeyPolicy {
  /** Share of the mean actor load above which one key counts as hot. */
  threshold: number;
  /** Keys with fewer requests per second are never hot. */
  minOpsPerSec: number;
  /** Windows in a row that a key's load must ask for fewer replicas before they go. */
  cooldownWindows: number;
}

/**
 * Windows after which an actor that has not reported seeing a decision is taken to have
 * lost it: its report of the window after the frame may predate the frame's arrival.
 */
const LAG_WINDOWS = 3;

interface Cooling {
  windows: number;
  /** The most replicas any of those windows asked for. */
  mostWanted: number;
}

/**
 * The policy itself: the replicas a key asks for at `keyRate` requests per second while
 * the node serves `nodeRate` (both in the same unit).
 */
export function wantedReplication(policy: HotKeyPolicy, placement: LocalPlacement, keyRate: number, nodeRate: number): number {
  const perReplicaRate = (policy.threshold * nodeRate) / placement.threadCount;
  if (keyRate < policy.minOpsPerSec || keyRate <= perReplicaRate) return placement.defaultReplication;
  return Math.min(placement.threadCount, Math.max(placement.defaultReplication, Math.ceil(keyRate / perReplicaRate)));
}

export class HotKeyMonitor {
  private readonly reports = new Map<number, { elapsedMs: number; report: AccessReport }>();
  private readonly cooling = new Map<string, Cooling>();
  /** Per actor: the version up to which it has seen every decision. */
  private readonly seenVersions = new Map<number, number>();
  /** The last version issued by each of the last closeWindow calls, oldest first. */
  private readonly issuedVersions: number[] = [];
  /** Per actor: the window in which it was last sent a snapshot. */
  private readonly snapshotWindows = new Map<number, number>();
  private windowCount = 0;
  private version = 0;

  constructor(
    private readonly placement: LocalPlacement,
    private readonly policy: HotKeyPolicy,
  ) {}

  /**
   * Keeps an actor's latest report for the window being collected, and the version up to
   * which it has seen every decision.
   */
  record(tid: number, elapsedMs: number, report: AccessReport, seenVersion: number): void {
    if (elapsedMs > 0) this.reports.set(tid, { elapsedMs, report });
    this.seenVersions.set(tid, Math.max(seenVersion, this.seenVersions.get(tid) ?? 0));
  }

  /**
   * Settles the decisions every actor has seen, in the node's placement: returns the
   * version to settle on the actors too, or undefined when it has not moved.
   */
  settle(): number | undefined {
    let seenByAll = Infinity;
    for (let tid = 0; tid < this.placement.threadCount; tid++) seenByAll = Math.min(seenByAll, this.seenVersions.get(tid) ?? 0);
    if (seenByAll <= this.placement.settledFactorVersion) return undefined;
    this.placement.settleFactors(seenByAll);
    return seenByAll;
  }

  /**
   * Closes the window: returns the factor changes it decides, already merged into the
   * placement. Actors that sent no report this window count as idle.
   */
  closeWindow(): ReplicationFactor[] {
    const { placement, policy } = this;
    let nodeRate = 0;
    const keyRates = new Map<string, number>();
    for (const { elapsedMs, report } of this.reports.values()) {
      const perSecond = 1000 / elapsedMs;
      nodeRate += report.estimatedAccesses * perSecond;
      for (const [key, accesses] of report.topKeys) keyRates.set(key, (keyRates.get(key) ?? 0) + accesses * perSecond);
    }
    this.reports.clear();
    const wanted = (rate: number) => wantedReplication(policy, placement, rate, nodeRate);
    const decisions: ReplicationFactor[] = [];
    const decide = (key: string, factor: number) => decisions.push({ key, factor, version: ++this.version });
    for (const [key, rate] of keyRates) {
      const target = wanted(rate);
      if (target > this.currentFactor(key)) {
        this.cooling.delete(key);
        decide(key, target);
      }
    }
    for (const { key } of this.placement.keyFactors()) {
      const current = this.currentFactor(key);
      if (current <= placement.defaultReplication) {
        this.cooling.delete(key);
        continue;
      }
      const target = wanted(keyRates.get(key) ?? 0);
      if (target >= current) {
        this.cooling.delete(key);
        continue;
      }
      const cooling = this.cooling.get(key) ?? { windows: 0, mostWanted: target };
      cooling.windows++;
      cooling.mostWanted = Math.max(cooling.mostWanted, target);
      this.cooling.set(key, cooling);
      if (cooling.windows >= policy.cooldownWindows) {
        this.cooling.delete(key);
        decide(key, cooling.mostWanted);
      }
    }
    this.windowCount++;
    this.issuedVersions.push(this.version);
    if (this.issuedVersions.length > LAG_WINDOWS) this.issuedVersions.shift();
    const changed = placement.mergeFactors(decisions);
    // Actors tell gaps (a lost frame) by the versions being one apart; each decision is new.
    if (changed.length !== decisions.length) throw new Error(`${decisions.length - changed.length} of ${decisions.length} decisions did not change the placement`);
    return changed;
  }

  /**
   * Actors that missed a decision: every actor reports, within a window of receiving a
   * frame, that it has seen it, so one that still has not after LAG_WINDOWS windows lost it
   * (its connection failed, or its queue passed its bound). Each such actor is due a
   * snapshot, and another LAG_WINDOWS windows later if it is still behind (that one was
   * lost too).
   */
  laggingActors(): number[] {
    if (this.issuedVersions.length < LAG_WINDOWS) return [];
    const due = this.issuedVersions[0];
    const lagging: number[] = [];
    for (let tid = 0; tid < this.placement.threadCount; tid++) {
      if ((this.seenVersions.get(tid) ?? 0) >= due) continue;
      if (this.windowCount - (this.snapshotWindows.get(tid) ?? -Infinity) < LAG_WINDOWS) continue;
      this.snapshotWindows.set(tid, this.windowCount);
      lagging.push(tid);
    }
    return lagging;
  }

  /** Every entry the node holds, standing for every decision up to `version`. */
  snapshot(): { version: number; factors: ReplicationFactor[] } {
    return { version: this.version, factors: [...this.placement.keyFactors()] };
  }

  /** Keys whose factor is above the default now, most replicas first. */
  hotKeys(): Array<{ key: string; replicas: number }> {
    const hot: Array<{ key: string; replicas: number }> = [];
    for (const { key } of this.placement.keyFactors()) {
      const replicas = this.currentFactor(key);
      if (replicas > this.placement.defaultReplication) hot.push({ key, replicas });
    }
    return hot.sort((a, b) => b.replicas - a.replicas || (a.key < b.key ? -1 : 1));
  }

  private currentFactor(key: string): number {
    return this.placement.replicationOfName(key);
  }
}
