/**
 * Hot-key detection for selective replication (the node's side; Anna's monitoring thread).
 *
 * Every window, each actor reports its sampled key accesses. A key is hot when its request
 * rate is at least `minOpsPerSec` and more than `threshold` times the mean load of one
 * actor (node rate / actors): it then asks for as many replicas as it takes for each to
 * serve at most `threshold` × that mean from it. Up to this node's actor count, those are
 * more of its actors (the local factor); past it, more nodes (the global factor: the
 * replicas asked for over the actors a node has). A key whose factors are above what its
 * load asks for keeps them until the load has stayed lower for `cooldownWindows` windows
 * in a row, then drops to the most any of them asked for: replicas are not torn down by
 * one quiet window.
 *
 * The monitor's decisions are one versioned state (routing/key-factors.ts), replaced
 * whole when they change: a key that cools back to the defaults simply leaves it. The node
 * sends it to its actors every window and to the other nodes in its membership entry.
 */
import type { AccessReport } from "../actor/access-sampler";
import type { LocalPlacement } from "../routing/placement";
import { FactorState, KeyFactor, FACTOR_KEY_CHARS_MAX, FACTORS_PER_NODE_MAX } from "../routing/key-factors";

export interface HotKeyPolicy {
  /** Share of the mean actor load above which one key counts as hot. */
  threshold: number;
  /** Keys with fewer requests per second are never hot. */
  minOpsPerSec: number;
  /** Windows in a row that a key's load must ask for fewer replicas before they go. */
  cooldownWindows: number;
}

interface Cooling {
  windows: number;
  /** The most any of those windows asked for. */
  mostWanted: { local: number; global: number };
}

/**
 * The policy itself: the replicas (in actors, possibly more than the node has) a key asks
 * for at `keyRate` requests per second while the node serves `nodeRate` (same unit).
 */
export function wantedReplicas(policy: HotKeyPolicy, local: LocalPlacement, keyRate: number, nodeRate: number): number {
  const perReplicaRate = (policy.threshold * nodeRate) / local.threadCount;
  if (keyRate < policy.minOpsPerSec || keyRate <= perReplicaRate) return local.defaultReplication;
  return Math.max(local.defaultReplication, Math.ceil(keyRate / perReplicaRate));
}

export class HotKeyMonitor {
  private readonly reports = new Map<number, { elapsedMs: number; report: AccessReport }>();
  private readonly decided = new Map<string, KeyFactor>();
  private readonly cooling = new Map<string, Cooling>();
  private version = 0;

  constructor(
    private readonly local: LocalPlacement,
    private readonly policy: HotKeyPolicy,
    /** Nodes holding each key by default (the cluster's global replication). */
    private readonly globalReplication: number,
    /** Nodes serving now: no key can have more. */
    private readonly servingNodes: () => number,
  ) {}

  /** Keeps an actor's latest report for the window being collected. */
  record(tid: number, elapsedMs: number, report: AccessReport): void {
    if (elapsedMs > 0) this.reports.set(tid, { elapsedMs, report });
  }

  /**
   * Closes the window: decides each key's factors from the reports (actors that sent none
   * count as idle); returns the keys whose factors changed, with their new factors.
   */
  closeWindow(): KeyFactor[] {
    let nodeRate = 0;
    const keyRates = new Map<string, number>();
    for (const { elapsedMs, report } of this.reports.values()) {
      const perSecond = 1000 / elapsedMs;
      nodeRate += report.estimatedAccesses * perSecond;
      for (const [key, accesses] of report.topKeys) keyRates.set(key, (keyRates.get(key) ?? 0) + accesses * perSecond);
    }
    this.reports.clear();
    const changes: KeyFactor[] = [];
    for (const key of new Set([...keyRates.keys(), ...this.decided.keys()])) {
      const change = this.decide(
        key,
        this.target(wantedReplicas(this.policy, this.local, keyRates.get(key) ?? 0, nodeRate)),
      );
      if (change !== undefined) changes.push(change);
    }
    if (changes.length > 0) this.version++;
    return changes;
  }

  /** The monitor's decisions as one state: what other nodes and the actors are sent. */
  state(): FactorState {
    return { version: this.version, factors: [...this.decided.values()] };
  }

  /** Keys with factors above the defaults now, most replicas first: actors here, and nodes (at most those serving). */
  hotKeys(): Array<{ key: string; replicas: number; nodes: number }> {
    const serving = this.servingNodes();
    return [...this.decided.values()]
      .map(({ key, local, global }) => ({ key, replicas: local, nodes: Math.min(global, serving) }))
      .sort((a, b) => b.nodes - a.nodes || b.replicas - a.replicas || (a.key < b.key ? -1 : 1));
  }

  /** Actors and nodes for `wanted` replicas (in actors). */
  private target(wanted: number): { local: number; global: number } {
    const local = this.local.clamp(wanted);
    if (wanted <= this.local.threadCount) return { local, global: this.globalReplication };
    const global = Math.min(this.servingNodes(), Math.ceil(wanted / this.local.threadCount));
    return { local, global: Math.max(this.globalReplication, global) };
  }

  /** Moves one key's factors towards `target` (up at once, down after the cooldown); returns its new factors if they changed. */
  private decide(key: string, target: { local: number; global: number }): KeyFactor | undefined {
    const current = this.decided.get(key) ?? {
      key,
      local: this.local.defaultReplication,
      global: this.globalReplication,
    };
    if (target.local > current.local || target.global > current.global) {
      this.cooling.delete(key);
      return this.set(key, {
        local: Math.max(target.local, current.local),
        global: Math.max(target.global, current.global),
      });
    }
    if (target.local === current.local && target.global === current.global) {
      this.cooling.delete(key);
      return undefined;
    }
    const cooling = this.cooling.get(key) ?? { windows: 0, mostWanted: target };
    cooling.windows++;
    cooling.mostWanted = {
      local: Math.max(cooling.mostWanted.local, target.local),
      global: Math.max(cooling.mostWanted.global, target.global),
    };
    this.cooling.set(key, cooling);
    if (cooling.windows < this.policy.cooldownWindows) return undefined;
    this.cooling.delete(key);
    return this.set(key, cooling.mostWanted);
  }

  private set(key: string, factors: { local: number; global: number }): KeyFactor | undefined {
    const entry = { key, ...factors };
    if (factors.local <= this.local.defaultReplication && factors.global <= this.globalReplication)
      this.decided.delete(key);
    else if (key.length > FACTOR_KEY_CHARS_MAX || (!this.decided.has(key) && this.decided.size >= FACTORS_PER_NODE_MAX))
      return undefined;
    else this.decided.set(key, entry);
    return entry;
  }
}
