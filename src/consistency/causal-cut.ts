/**
 * The causal cut of docs/consistency.md §2.8, after hydro-project/anna-cache: per client,
 * the values its multi-key sessions of one level have read or written, kept closed under
 * dependencies: for every entry and each dependency (d, v) of it, the cut's version of d
 * covers v. It only grows by joins, so every session that reads through it gets monotonic
 * reads and read your writes across keys. Values fetched from the store wait outside it
 * until their dependencies are covered; `close` says which may come in. What a version is
 * comes from the level's scheme (causal-versions.ts): clocks by default.
 */
import type { VectorClock } from "../lattices/vector-clock";
import { CAUSAL_CUT_LIMITS_DEFAULT, type CausalCutLimits, type CausalLevel } from "./causal-options";
import type { Dependency, VersionedValue, VersionScheme } from "./causal-versions";
import { ConsistencyError } from "./errors";
import { Floor, type FloorReservation } from "./floor";
import { multiCausalVersions } from "./causal-stamps";
import { EpochStableTimes, isStable, type StableTimes, topStampMicros } from "./epoch-stamps";
import { RECENT_DECODES_PER_GENERATION, RecentDecodes } from "./recent-decodes";
import type { PutTuple, StableReport, ValueRead } from "./transport";
import { LatticeType } from "../lattices/lattice-type";
import { bytesEqual } from "../lattices/lattice";

/** A fetched value decoded as far as closing needs. */
interface CutEntry<V> extends VersionedValue<V> {
  readonly value: ValueRead;
}

/** Which fetched values may join the cut now, and what the others wait for. */
export interface Closure<V = VectorClock> {
  /** Per fetched key whose dependencies are all covered: the cut's value joined with what was fetched. */
  readonly closed: ReadonlyMap<string, ValueRead>;
  /** Dependencies neither the cut nor a fetched value covers: per key, the version needed. */
  readonly missing: ReadonlyMap<string, V>;
  /** Per fetched key left out, the dependency that keeps it out (itself fetched, or missing). */
  readonly blockedBy: ReadonlyMap<string, string>;
  /**
   * The largest stamp of a dependency of a closed value that nothing covers but the stable
   * time (0: none): every key a reader is shown with these values must hold it.
   */
  readonly reliedMicros: number;
}

export class CausalCut<V = VectorClock> {
  private readonly values: Floor;
  private readonly versions: VersionScheme<V>;
  /**
   * Per key, the largest stable time reported with a value joined into its entry
   * (docs/causal-stability.md): the entry holds every stamped version of the key at or
   * below it. Keys of the cut only.
   */
  private readonly stableByKey = new Map<string, number>();
  /**
   * Per key, the stable time its entry relies on: a value joined in with dependencies
   * counted as stable (`close`) is causal only for a reader that requires that stable time
   * of the keys it reads, so every session served the entry must require it. Keys of the
   * cut only.
   */
  private readonly requiredByKey = new Map<string, number>();
  /**
   * Per key, its entry's version: what closing compares every dependency with. Kept apart
   * from the entries' decodes, which are kept only while recent (recent-decodes.ts).
   */
  private readonly entryVersions = new Map<string, V>();
  /** Values' versions and dependencies, decoded once while recent. */
  private readonly decodes: RecentDecodes<VersionedValue<V>>;
  /** The epoch the client last heard a node name (docs/causal-stability.md §7; 0: none): what a new session stamps in. */
  private latestEpoch = 0;
  /**
   * The stable times any session of this client heard, per epoch. A stable time of epoch E
   * is a fact about every member of E, not only the node that reported it: every version
   * stamped in E at or below it was acknowledged by all its replicas (GentleRain's global
   * stable time). So a replica answering in E a request sent after the client heard it
   * holds at least that, however far behind its own report lags (docs/causal-stability.md
   * §7, "as built"). Not one sent before: the fact may have become true since.
   */
  private readonly heard = new EpochStableTimes();

  /** A cut of `versions`' level; causal-multi-key's (clocks) when none is given. */
  constructor(
    private readonly limits: CausalCutLimits = CAUSAL_CUT_LIMITS_DEFAULT,
    versions?: VersionScheme<V>,
  ) {
    this.values = new Floor({ maxKeys: limits.maxCutKeys, maxStateBytes: limits.maxCutBytes });
    // V defaults to clocks, which the default scheme names.
    const scheme = versions ?? (multiCausalVersions as unknown as VersionScheme<V>);
    this.versions = scheme;
    this.decodes = new RecentDecodes(RECENT_DECODES_PER_GENERATION, (payload) => scheme.decode(payload));
  }

  get level(): CausalLevel {
    return this.versions.level;
  }

  /** The lattice type of the values the cut holds. */
  get type(): LatticeType {
    return this.versions.type;
  }

  /** A version as error messages show it. */
  versionText(version: V): string {
    return this.versions.text(version);
  }

  get keyCount(): number {
    return this.values.keyCount;
  }

  get(key: string): ValueRead | undefined {
    return this.values.get(key);
  }

  /**
   * The cut's own array for `key` where it holds the same bytes as `payload`, else
   * `payload`: a read that fetches a version the cut has already then decodes nothing,
   * since decodes are kept by array (a compare of the bytes against a decode of them all).
   */
  knownPayload(key: string, payload: Uint8Array): Uint8Array {
    const entry = this.values.get(key);
    return entry !== undefined && entry.payload !== payload && bytesEqual(entry.payload, payload)
      ? entry.payload
      : payload;
  }

  get epoch(): number {
    return this.latestEpoch;
  }

  /** A node's report of its epoch and its stable time in it. */
  noteStable(report: StableReport): void {
    if (report.epoch > 0) this.latestEpoch = report.epoch;
    this.hear(report);
  }

  /** A stable time some node reported in its epoch, heard first- or second-hand (a writer's base). */
  hear(report: StableReport): void {
    this.heard.learn(report);
  }

  /** The largest stable time the client heard of `epoch` (0: none). */
  heardIn(epoch: number): number {
    return this.heard.of(epoch);
  }

  /** What the client has heard so far, fixed: what answers to a request sent now may count for. */
  heardSnapshot(): StableTimes {
    return this.heard.with([]);
  }

  /** `times` joined with every stable time the client heard. */
  withHeard(times: EpochStableTimes): StableTimes {
    return times.with(this.heard.reports());
  }

  /** The stable time the entry of `key` is known to hold (0: none). */
  stableOf(key: string): number {
    return this.stableByKey.get(key) ?? 0;
  }

  /**
   * The stamp at or below which `value`, a value of the level's type, covers every version
   * of its key by the order alone (VersionScheme.coveredByOrderMicros): for a read of that
   * key only, never a stable time to pass on.
   */
  coveredByOrderOf(value: ValueRead): number {
    return this.versions.coveredByOrderMicros(this.versionedValueOf(value).version);
  }

  /**
   * What the entry of `key` holds for a read of that key: its stable time, or what its
   * version covers by the order alone, from the entry's kept version (no decode); 0 with no
   * entry.
   */
  heldByEntryOf(key: string): number {
    const version = this.entryVersions.get(key);
    return version === undefined ? 0 : Math.max(this.stableOf(key), this.versions.coveredByOrderMicros(version));
  }

  /** The stable time a reader of the entry of `key` must require (0: none). */
  requiredOf(key: string): number {
    return this.requiredByKey.get(key) ?? 0;
  }

  /**
   * The greatest set of fetched values that can join together: each one's dependencies are
   * covered by the cut or by another of the set. Synchronous, so that `admit` can follow
   * it before anything else changes the cut.
   *
   * A dependency whose stamps are at or below the stable times of their epochs (`stable`,
   * whose largest the reading session requires of every read from now on) needs no
   * covering: every replica holds it, and, stamps rising along causality, all it depended
   * on (docs/causal-stability.md §6, §7). So a cold cut closes values without walking their
   * whole history.
   */
  close(fetched: ReadonlyMap<string, ValueRead>, stable?: StableTimes): Closure<V> {
    const { covers, join, bottom } = this.versions;
    const cutVersionOf = (key: string) => this.entryVersions.get(key) ?? bottom;
    const candidates = new Map<string, CutEntry<V>>();
    // A read closes the same fetched values several times (each round, each stable-time cap): the floor keeps
    // their joins while the cut's entries stand, and the entries are decoded once while recent.
    for (const [key, value] of fetched) candidates.set(key, this.decodeEntry(this.values.joined(key, value)));
    const closed = new Set(candidates.keys());
    const blockedBy = new Map<string, string>();
    const missing = new Map<string, V>();
    /** Per fetched key, the candidates that stay closed only while it does (it alone covers a dependency of theirs). */
    const dependents = new Map<string, string[]>();
    /** Per candidate, its dependencies counted as stable: covered by nothing else, they are what a reader relies on. */
    const stableDependencies = new Map<string, Dependency<V>[]>();
    const left: string[] = [];
    const leave = (key: string, lacking: string) => {
      if (!closed.delete(key)) return;
      blockedBy.set(key, lacking);
      left.push(key);
    };
    // Each dependency is judged once: covered by the cut (for good), stable, covered by a fetched value (while
    // that one is closed), or missing. Then leaving spreads to dependents, each edge followed once.
    for (const [key, entry] of candidates) {
      for (const listed of entry.dependencies) {
        const [dependency, needed, stamps] = listed;
        if (covers(cutVersionOf(dependency), needed)) continue;
        if (stable !== undefined && isStable(stamps, stable)) {
          appendTo(stableDependencies, key, listed);
        } else if (candidates.has(dependency) && covers(candidates.get(dependency)!.version, needed)) {
          appendTo(dependents, dependency, key);
        } else {
          missing.set(dependency, join(missing.get(dependency) ?? bottom, needed));
          leave(key, dependency);
        }
      }
    }
    while (left.length > 0) {
      const gone = left.pop()!;
      for (const dependent of dependents.get(gone) ?? []) leave(dependent, gone);
    }
    let reliedMicros = 0;
    for (const key of closed) {
      for (const [dependency, needed, stamps] of stableDependencies.get(key) ?? []) {
        if (closed.has(dependency) && covers(candidates.get(dependency)!.version, needed)) continue;
        reliedMicros = Math.max(reliedMicros, topStampMicros(stamps));
      }
    }
    return {
      closed: new Map([...closed].map((key) => [key, candidates.get(key)!.value])),
      missing,
      blockedBy,
      reliedMicros,
    };
  }

  /**
   * Joins values `close` found closed; SESSION_LIMIT, before any joins, when they would
   * pass the cut's limits. `fetched` gives each one's reported stable time; `reliedMicros`
   * is the stable time `close` counted dependencies as covered by.
   */
  admit(closed: ReadonlyMap<string, ValueRead>, fetched: ReadonlyMap<string, ValueRead>, reliedMicros = 0): void {
    // A value the cut holds already (`joined` returned it) takes no room.
    const puts = [...closed]
      .filter(([key, value]) => this.values.get(key) !== value)
      .map(([key, value]) => ({ key, type: value.type, payload: value.payload }));
    this.settle(this.reserve(puts), puts);
    for (const key of closed.keys()) {
      const stableMicros = fetched.get(key)?.stableMicros ?? 0;
      if (stableMicros > this.stableOf(key)) this.stableByKey.set(key, stableMicros);
      if (reliedMicros > this.requiredOf(key)) this.requiredByKey.set(key, reliedMicros);
    }
  }

  /** Holds room for values about to be joined (a write in flight); SESSION_LIMIT when they might not fit. */
  reserve(puts: readonly PutTuple[]): FloorReservation {
    try {
      return this.values.reserve(puts, this.level);
    } catch (error) {
      if (!(error instanceof ConsistencyError && error.code === "SESSION_LIMIT")) throw error;
      const newKey = puts.find(({ key }) => this.values.get(key) === undefined) ?? puts[0];
      throw new ConsistencyError(
        "SESSION_LIMIT",
        this.level,
        `${this.level}: this client's causal cut is at its limit (maxCutKeys ${this.limits.maxCutKeys}, ` +
          `maxCutBytes ${this.limits.maxCutBytes}), so it cannot take ${JSON.stringify(newKey.key)}`,
      );
    }
  }

  /** Gives the room back and joins the values that were applied; their dependencies must be in the cut already. */
  settle(reservation: FloorReservation, applied: readonly PutTuple[]): void {
    this.values.settle(reservation, applied);
    for (const { key } of applied) this.entryVersions.set(key, this.versionedValueOf(this.values.get(key)!).version);
  }

  /**
   * Takes a session's word for what its own write's payload decodes to (the level's scheme
   * builds both from the same parts): an applied write joins the cut, which would otherwise
   * decode the payload it has just been given.
   */
  rememberDecoded(payload: Uint8Array, decoded: VersionedValue<V>): void {
    this.decodes.remember(payload, decoded);
  }

  /** A value's version and dependencies, decoded once while recent (payloads are never changed in place). */
  versionedValueOf(value: ValueRead): VersionedValue<V> {
    if (value.type !== this.versions.type)
      throw new Error(`invariant: a ${LatticeType[value.type]} value in the cut of ${this.level}`);
    return this.decodes.of(value.payload);
  }

  private decodeEntry(value: ValueRead): CutEntry<V> {
    return { value, ...this.versionedValueOf(value) };
  }
}

function appendTo<V>(lists: Map<string, V[]>, key: string, value: V): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [value]);
  else list.push(value);
}
