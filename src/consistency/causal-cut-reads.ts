/**
 * A multi-key causal read (docs/consistency.md §2.8): fetch the keys, then fetch the
 * dependencies their values need that the cut does not cover, one batch per replica a
 * round, for at most `maxDependencyRounds` rounds within `dependencyWaitMs`. A dependency
 * found behind is asked of the key's next replica the round after. What closes joins the
 * cut; a key whose new value does not close is answered from the cut's older value, which
 * is causal, only stale; with none, the read fails CAUSAL_DEPENDENCY_UNAVAILABLE.
 *
 * With a stable requirement (docs/causal-stability.md), a read must also see every version
 * stamped at or below its session's stable time and the bases of the values it returns,
 * since their writers dropped those dependencies: a key is served, or found absent, only
 * where a replica answered with a stable time at least that high, and one that answered
 * below it is asked of its next replica. An answer counts for the largest stable time the
 * client heard of its epoch from any node before its request went out, since that is a
 * fact about every member of the epoch (`stableOfAnswer`).
 */
import { LatticeType } from "../lattices/lattice-type";
import { mergePayloads } from "../lattices/merge";
import { MalformedPayloadError } from "../wire/protobuf";
import type { CausalCut, Closure } from "./causal-cut";
import { ConsistencyError } from "./errors";
import { checkType } from "./session";
import type { GetOptions, KeyTransport, StableReport, ValueRead } from "./transport";
import type { CausalLevel } from "./causal-options";
import { ANY_EPOCH, type EpochStableTimes, stableReportOf, type StableTimes } from "./epoch-stamps";

/** A node answers requests of at most 10 000 tuples: a round asks for at most that many dependencies, the rest later. */
const FETCH_KEYS_PER_ROUND_MAX = 10_000;

export interface DependencyLimits {
  maxDependencyRounds: number;
  dependencyWaitMs: number;
}

/**
 * What a read must see of the stable time (docs/causal-stability.md): the session's own
 * (the largest of its times), and the base of every value it returns, whose writer dropped
 * the dependencies at or below it. The session's times by epoch also say which
 * dependencies need no closing.
 */
export interface StableRequirement {
  readonly times: EpochStableTimes;
  baseOf(value: ValueRead): number;
  /** The bases of a value that name their epoch: stable times nodes reported, which the client hears of through it. */
  baseReportsOf(value: ValueRead): readonly StableReport[];
}

/** What the fetches so far say of each key's stable time: present values' and absent answers'. */
class FetchedStable<V> {
  private readonly absent = new Map<string, number>();

  constructor(
    private readonly cut: CausalCut<V>,
    private readonly fetched: ReadonlyMap<string, ValueRead>,
  ) {}

  noteAbsent(key: string, stableMicros: number): void {
    this.absent.set(key, Math.max(this.absent.get(key) ?? 0, stableMicros));
  }

  /**
   * The stable time known held for `key` by what the cut and the fetches hold, or what
   * their versions cover by the order alone (a read of a hot key returns a version stamped
   * above the stable time it requires, often from a replica whose report lags the time).
   */
  of(key: string): number {
    const fetched = this.fetched.get(key);
    return Math.max(
      this.cut.heldByEntryOf(key),
      fetched === undefined ? 0 : Math.max(fetched.stableMicros ?? 0, this.cut.coveredByOrderOf(fetched)),
      this.absent.get(key) ?? 0,
    );
  }

  /**
   * What the read returns for `key` holds: the cut entry's stable time (a fetched value
   * that did not close is not returned, so its stable time does not count), and the
   * absent answers'. A replica that answered absent held every version of the key stamped
   * at or below its stable time, so there is none: the cut's entry, even one the session
   * wrote and the replica has not got yet, misses none of them.
   */
  ofReturned(key: string): number {
    return Math.max(this.absent.get(key) ?? 0, this.cut.heldByEntryOf(key));
  }

  /**
   * What the read would return for `key` holds once `closure` is admitted; unbounded for a
   * key it would fail on instead (fetched, not closed, no older value in the cut).
   */
  ofReturnedAfter(key: string, closure: Closure<V>): number {
    if (closure.closed.has(key)) return this.of(key);
    if (this.cut.get(key) === undefined && this.fetched.has(key)) return Infinity;
    return this.ofReturned(key);
  }
}

/**
 * The stable time the values `valueOf` gives the keys require: the session's, their
 * writers' bases, and what the cut's entries of them rely on.
 */
function requiredStable<V>(
  stability: StableRequirement,
  cut: CausalCut<V>,
  keys: readonly string[],
  valueOf: (key: string) => ValueRead | undefined,
): number {
  let required = stability.times.anyMicros;
  for (const key of keys) {
    const value = valueOf(key);
    if (value !== undefined) required = Math.max(required, stability.baseOf(value), cut.requiredOf(key));
  }
  return required;
}

/** A read's values, and the stable time it relied on, which its session must require from then on. */
export interface CutRead {
  /** Per key, the cut's value once the read is done: undefined where neither the cut nor the store holds one. */
  readonly values: Map<string, ValueRead | undefined>;
  readonly stableMicros: number;
  /** What the answers said of the stable time and epoch, in the order they came. */
  readonly reports: readonly StableReport[];
}

export async function readThroughCut<V>(
  transport: KeyTransport,
  cut: CausalCut<V>,
  keys: readonly string[],
  limits: DependencyLimits,
  stability?: StableRequirement,
): Promise<CutRead> {
  const startMs = Date.now();
  const deadlineMs = startMs + limits.dependencyWaitMs;
  const fetched = new Map<string, ValueRead>();
  const fetchedStable = new FetchedStable(cut, fetched);
  const reports: StableReport[] = [];
  const getOptions = { absentAsValues: stability !== undefined };
  // Answers count for what the client heard before their request went out, never for what came with them.
  let heardBefore = cut.heardSnapshot();
  absorb(cut, stability, heardBefore, fetched, fetchedStable, reports, await transport.getMany(keys, getOptions));
  /** Per key, how often it was fetched: a key fetched again goes to its next replica. */
  const fetchCounts = new Map(keys.map((key) => [key, 1]));
  // Dependencies at or below a stable time heard in their epoch need no covering (CausalCut.close); every key
  // the read returns must then hold the largest of them, and the session requires it from now on. So none counts
  // above what every key the read would return holds: one counted above a key's answer would send that key to
  // another replica, and a read chasing a stable time that rises between its rounds ran out of rounds. A key whose
  // new value does not close returns the cut's older one, which holds less: counting less then may leave other
  // values unclosed as well, and they too return older ones (stale, as the level allows, rather than an error).
  const closeWithStable = () => {
    if (stability === undefined) return cut.close(fetched);
    const times = cut.withHeard(stability.times);
    // What every key's answers hold bounds it from the start: a closed key returns no more.
    let capMicros = Math.min(...keys.map((key) => fetchedStable.of(key)));
    for (;;) {
      const closure = cut.close(fetched, capStableTimes(times, capMicros));
      const returnedMicros = Math.min(...keys.map((key) => fetchedStable.ofReturnedAfter(key, closure)));
      if (returnedMicros >= capMicros) return closure;
      capMicros = returnedMicros;
    }
  };
  /** What the values `valueOf` gives the keys require, and what the closure relied on. */
  const required = (closure: Closure<V>, valueOf: (key: string) => ValueRead | undefined) =>
    stability === undefined ? 0 : Math.max(closure.reliedMicros, requiredStable(stability, cut, keys, valueOf));
  /** Keys the read would return holding less than the values read require: asked of the next replica. */
  const behindStable = (closure: Closure<V>) => {
    // What the read would return: a closed key the cut's entry joined with what was fetched (which may be a newer
    // version than fetched, written meanwhile by another session of the client), any other the cut's entry.
    const wanted = required(closure, (key) => closure.closed.get(key) ?? cut.get(key));
    return keys.filter((key) => fetchedStable.ofReturnedAfter(key, closure) < wanted);
  };
  let closure = closeWithStable();
  let behind = behindStable(closure);
  let rounds = 0;
  while (
    (closure.missing.size > 0 || behind.length > 0) &&
    rounds < limits.maxDependencyRounds &&
    Date.now() < deadlineMs
  ) {
    const wanted = [...new Set([...behind, ...closure.missing.keys()])].slice(0, FETCH_KEYS_PER_ROUND_MAX);
    heardBefore = cut.heardSnapshot();
    const answers = await fetchRound(transport, wanted, fetchCounts, deadlineMs, getOptions);
    absorb(cut, stability, heardBefore, fetched, fetchedStable, reports, answers);
    rounds++;
    closure = closeWithStable();
    behind = behindStable(closure);
  }
  // No await from `close` to here: the cut has not changed since it was closed against.
  cut.admit(closure.closed, fetched, closure.reliedMicros);
  const requiredMicros = required(closure, (key) => cut.get(key));
  const values = new Map<string, ValueRead | undefined>();
  for (const key of keys) {
    const value = cut.get(key);
    if (value === undefined && fetched.has(key)) throw unavailable(cut, key, closure, rounds, Date.now() - startMs);
    if (fetchedStable.ofReturned(key) < requiredMicros)
      throw notStable(cut.level, key, requiredMicros, fetchedStable.ofReturned(key), rounds, Date.now() - startMs);
    values.set(key, value);
  }
  return { values, stableMicros: requiredMicros, reports };
}

/** One round: keys never fetched in one batch to any replica, keys found behind to their next replica. */
async function fetchRound(
  transport: KeyTransport,
  keys: readonly string[],
  fetchCounts: Map<string, number>,
  deadlineMs: number,
  getOptions: GetOptions,
): Promise<Map<string, ValueRead | undefined>> {
  const fresh = keys.filter((key) => !fetchCounts.has(key));
  const behind = keys.filter((key) => fetchCounts.has(key));
  const replicaLists = await Promise.all(behind.map((key) => beforeDeadline(transport.replicasOf(key), deadlineMs)));
  const byReplica = new Map<string, string[]>();
  behind.forEach((key, index) => {
    const replicas = replicaLists[index];
    if (replicas === undefined || replicas.length === 0) return;
    const replica = replicas[(fetchCounts.get(key)! - 1) % replicas.length];
    byReplica.set(replica, [...(byReplica.get(replica) ?? []), key]);
  });
  for (const key of keys) fetchCounts.set(key, (fetchCounts.get(key) ?? 0) + 1);
  const answers = await Promise.all([
    ...(fresh.length === 0 ? [] : [beforeDeadline(transport.getMany(fresh, getOptions), deadlineMs)]),
    ...[...byReplica].map(([replica, group]) =>
      beforeDeadline(transport.getFromReplica(replica, group, getOptions), deadlineMs),
    ),
  ]);
  const values = new Map<string, ValueRead | undefined>();
  for (const answer of answers) for (const [key, value] of answer ?? []) values.set(key, value);
  return values;
}

/**
 * The call's result, or undefined when it fails or the deadline passes first. A dependency
 * that cannot be fetched is only missing: the read decides what that means.
 */
async function beforeDeadline<T>(call: Promise<T>, deadlineMs: number): Promise<T | undefined> {
  let expire = () => {};
  const timeout = new Promise<undefined>((resolve) => (expire = () => resolve(undefined)));
  const timer = setTimeout(expire, Math.max(0, deadlineMs - Date.now()));
  try {
    return await Promise.race([call.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Joins what was fetched with what was fetched before; LATTICE when a key holds another
 * type. Every answer's stable time and epoch go to `reports` and to the cut, and so do the
 * bases of the values that name their epoch; an answer counts for the stable time of its
 * epoch that the client heard before its request went out (`heardBefore`), absent ones too.
 */
function absorb<V>(
  cut: CausalCut<V>,
  stability: StableRequirement | undefined,
  heardBefore: StableTimes,
  fetched: Map<string, ValueRead>,
  fetchedStable: FetchedStable<V>,
  reports: StableReport[],
  values: ReadonlyMap<string, ValueRead | undefined>,
): void {
  for (const [key, answer] of values) {
    if (answer === undefined) continue;
    const report = stableReportOf(answer);
    if (answer.stableMicros !== undefined || answer.stableEpoch !== undefined) {
      reports.push(report);
      cut.noteStable(report);
    }
    // Counted against the snapshot, so noting this answer's report first changes nothing for it.
    const answerStableMicros = stableOfAnswer(report, heardBefore);
    if (answer.type === LatticeType.NONE) {
      fetchedStable.noteAbsent(key, answerStableMicros);
      continue;
    }
    checkType(key, answer.type, [cut.type]);
    // A version the cut holds already is taken as the cut's array, whose decode is known.
    const known = cut.knownPayload(key, answer.payload);
    const value = known === answer.payload ? answer : { ...answer, payload: known };
    const earlier = fetched.get(key);
    const payload = earlier === undefined ? value.payload : mergePayloads(value.type, earlier.payload, value.payload);
    if (payload === null) throw new MalformedPayloadError(`the value of ${JSON.stringify(key)}`);
    const stableMicros = Math.max(earlier?.stableMicros ?? 0, answerStableMicros, ownBaseOf(stability, report, value));
    // The joined value holds what each answer held; its epoch is no longer one replica's, so it is left out.
    const joined = stableMicros === 0 ? { type: value.type, payload } : { type: value.type, payload, stableMicros };
    fetched.set(key, joined);
    // The joined payload, which the stable requirement decodes anyway (decodes are cached by payload).
    if (stability !== undefined) for (const base of stability.baseReportsOf(joined)) cut.hear(base);
  }
}

/**
 * The largest base of the value an answer holds that names the answer's epoch (0: none).
 * The value's writer heard that the stable time of the epoch had reached its base before it
 * wrote the value, and the replica answered holding the value, so after that: it then held
 * every version of the epoch stamped at or below the base. Without this, a read of a hot
 * key chased its bases: each round fetched a newer version whose base the client had not
 * heard of before asking, so the key was asked again, until the rounds ran out.
 */
function ownBaseOf(stability: StableRequirement | undefined, report: StableReport, value: ValueRead): number {
  if (stability === undefined || report.epoch === ANY_EPOCH) return 0;
  let micros = 0;
  for (const base of stability.baseReportsOf(value))
    if (base.epoch === report.epoch) micros = Math.max(micros, base.micros);
  return micros;
}

/** `times`, none above `capMicros`. */
function capStableTimes(times: StableTimes, capMicros: number): StableTimes {
  return { anyMicros: Math.min(times.anyMicros, capMicros), of: (epoch) => Math.min(times.of(epoch), capMicros) };
}

/** The stable time an answer proves held: its own, or more heard of its epoch before its request went out. */
function stableOfAnswer(report: StableReport, heardBefore: StableTimes): number {
  return report.epoch === ANY_EPOCH ? report.micros : Math.max(report.micros, heardBefore.of(report.epoch));
}

function notStable(
  level: CausalLevel,
  key: string,
  required: number,
  held: number,
  rounds: number,
  waitedMs: number,
): ConsistencyError {
  return new ConsistencyError(
    "CAUSAL_DEPENDENCY_UNAVAILABLE",
    level,
    `${level}: no replica of ${JSON.stringify(key)} asked reported a stable time at or above the session's ` +
      `(${required} µs; best ${held} µs, ${rounds} rounds, ${waitedMs} ms), so a dependency stamped below it might be missing`,
  );
}

function unavailable<V>(
  cut: CausalCut<V>,
  key: string,
  closure: Closure<V>,
  rounds: number,
  waitedMs: number,
): ConsistencyError {
  // Follow what keeps `key` out down to a dependency that no value covers.
  let blocking = key;
  const followed = new Set<string>();
  while (!closure.missing.has(blocking) && closure.blockedBy.has(blocking) && !followed.has(blocking)) {
    followed.add(blocking);
    blocking = closure.blockedBy.get(blocking)!;
  }
  const needed = closure.missing.get(blocking);
  const version = needed === undefined ? "" : ` ${cut.versionText(needed)}`;
  return new ConsistencyError(
    "CAUSAL_DEPENDENCY_UNAVAILABLE",
    cut.level,
    `${cut.level}: the value of ${JSON.stringify(key)} depends on ${JSON.stringify(blocking)}, which no replica asked ` +
      `held at the version needed${version} (${rounds} rounds, ${waitedMs} ms), and the session has no older value to return`,
  );
}
