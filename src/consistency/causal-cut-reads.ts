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
 * client heard of its epoch from any node, since that is a fact about every member of it
 * (`CausalCut.stableOfAnswer`).
 */
import { LatticeType } from "../lattices/lattice-type";
import { mergePayloads } from "../lattices/merge";
import { MalformedPayloadError } from "../wire/protobuf";
import type { CausalCut, Closure } from "./causal-cut";
import { ConsistencyError } from "./errors";
import type { VectorClock } from "../lattices/vector-clock";
import { checkType } from "./session";
import type { GetOptions, KeyTransport, StableReport, ValueRead } from "./transport";
import type { EpochStableTimes } from "./epoch-stamps";

const LEVEL = "causal-multi-key";
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
}

/** What the fetches so far say of each key's stable time: present values' and absent answers'. */
class FetchedStable {
  private readonly absent = new Map<string, number>();

  constructor(
    private readonly cut: CausalCut,
    private readonly fetched: ReadonlyMap<string, ValueRead>,
  ) {}

  noteAbsent(key: string, stableMicros: number): void {
    this.absent.set(key, Math.max(this.absent.get(key) ?? 0, stableMicros));
  }

  /** The stable time known held for `key` by what the cut and the fetches hold. */
  of(key: string): number {
    return Math.max(this.cut.stableOf(key), this.fetched.get(key)?.stableMicros ?? 0, this.absent.get(key) ?? 0);
  }

  /**
   * What the read returns for `key` holds: the cut entry's stable time (a fetched value
   * that did not close is not returned, so its stable time does not count), or, where
   * the key is absent, the absent answers'.
   */
  ofReturned(key: string): number {
    return this.cut.get(key) === undefined ? (this.absent.get(key) ?? 0) : this.cut.stableOf(key);
  }
}

/**
 * The stable time the values `valueOf` gives the keys require: the session's, their
 * writers' bases, and what the cut's entries of them rely on.
 */
function requiredStable(
  stability: StableRequirement,
  cut: CausalCut,
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

export async function readThroughCut(
  transport: KeyTransport,
  cut: CausalCut,
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
  absorb(cut, fetched, fetchedStable, reports, await transport.getMany(keys, getOptions));
  /** Per key, how often it was fetched: a key fetched again goes to its next replica. */
  const fetchCounts = new Map(keys.map((key) => [key, 1]));
  // Dependencies at or below a stable time a replica reported in their epoch need no covering (CausalCut.close), if
  // the session requires the largest from now on, and this read's keys too.
  const reportedStable = () => stability?.times.with(reports);
  let stable = reportedStable();
  let stableMicros = stable?.anyMicros ?? 0;
  /** Keys whose replica answered with a stable time below what the values read require: asked of the next replica. */
  const behindStable = () => {
    if (stability === undefined) return [];
    const required = Math.max(
      stableMicros,
      requiredStable(stability, cut, keys, (key) => fetched.get(key) ?? cut.get(key)),
    );
    return keys.filter((key) => fetchedStable.of(key) < required);
  };
  let closure = cut.close(fetched, stable);
  let behind = behindStable();
  let rounds = 0;
  while (
    (closure.missing.size > 0 || behind.length > 0) &&
    rounds < limits.maxDependencyRounds &&
    Date.now() < deadlineMs
  ) {
    const wanted = [...new Set([...behind, ...closure.missing.keys()])].slice(0, FETCH_KEYS_PER_ROUND_MAX);
    const answers = await fetchRound(transport, wanted, fetchCounts, deadlineMs, getOptions);
    absorb(cut, fetched, fetchedStable, reports, answers);
    rounds++;
    stable = reportedStable();
    stableMicros = stable?.anyMicros ?? 0;
    closure = cut.close(fetched, stable);
    behind = behindStable();
  }
  // No await from `close` to here: the cut has not changed since it was closed against.
  cut.admit(closure.closed, fetched, stableMicros);
  const required =
    stability === undefined
      ? 0
      : Math.max(
          stableMicros,
          requiredStable(stability, cut, keys, (key) => cut.get(key)),
        );
  const values = new Map<string, ValueRead | undefined>();
  for (const key of keys) {
    const value = cut.get(key);
    if (value === undefined && fetched.has(key)) throw unavailable(key, closure, rounds, Date.now() - startMs);
    if (fetchedStable.ofReturned(key) < required)
      throw notStable(key, required, fetchedStable.ofReturned(key), rounds, Date.now() - startMs);
    values.set(key, value);
  }
  return { values, stableMicros: required, reports };
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
 * type. Every answer's stable time and epoch go to `reports` and to the cut; an answer
 * counts for the stable time of its epoch that the client heard (`CausalCut.stableOfAnswer`),
 * absent ones too.
 */
function absorb(
  cut: CausalCut,
  fetched: Map<string, ValueRead>,
  fetchedStable: FetchedStable,
  reports: StableReport[],
  values: ReadonlyMap<string, ValueRead | undefined>,
): void {
  const reportOf = (value: ValueRead): StableReport => ({
    micros: value.stableMicros ?? 0,
    epoch: value.stableEpoch ?? 0,
  });
  for (const value of values.values()) {
    if (value === undefined || (value.stableMicros === undefined && value.stableEpoch === undefined)) continue;
    reports.push(reportOf(value));
    cut.noteStable(reportOf(value));
  }
  for (const [key, value] of values) {
    if (value === undefined) continue;
    const answerStableMicros = cut.stableOfAnswer(reportOf(value));
    if (value.type === LatticeType.NONE) {
      fetchedStable.noteAbsent(key, answerStableMicros);
      continue;
    }
    checkType(key, value.type, [LatticeType.MULTI_CAUSAL]);
    const earlier = fetched.get(key);
    const payload = earlier === undefined ? value.payload : mergePayloads(value.type, earlier.payload, value.payload);
    if (payload === null) throw new MalformedPayloadError(`the value of ${JSON.stringify(key)}`);
    const stableMicros = Math.max(earlier?.stableMicros ?? 0, answerStableMicros);
    fetched.set(key, stableMicros === 0 ? { type: value.type, payload } : { type: value.type, payload, stableMicros });
    // The joined value holds what each answer held; its epoch is no longer one replica's, so it is left out.
  }
}

function notStable(key: string, required: number, held: number, rounds: number, waitedMs: number): ConsistencyError {
  return new ConsistencyError(
    "CAUSAL_DEPENDENCY_UNAVAILABLE",
    LEVEL,
    `${LEVEL}: no replica of ${JSON.stringify(key)} asked reported a stable time at or above the session's ` +
      `(${required} µs; best ${held} µs, ${rounds} rounds, ${waitedMs} ms), so a dependency stamped below it might be missing`,
  );
}

/** A clock as the error messages show it: {entry: counter, ...}. */
function clockText(clock: VectorClock): string {
  const decoder = new TextDecoder();
  return `{${clock.map(({ key, value }) => `${decoder.decode(key)}: ${value}`).join(", ")}}`;
}

function unavailable(key: string, closure: Closure, rounds: number, waitedMs: number): ConsistencyError {
  // Follow what keeps `key` out down to a dependency that no value covers.
  let blocking = key;
  const followed = new Set<string>();
  while (!closure.missing.has(blocking) && closure.blockedBy.has(blocking) && !followed.has(blocking)) {
    followed.add(blocking);
    blocking = closure.blockedBy.get(blocking)!;
  }
  const needed = closure.missing.get(blocking);
  const version = needed === undefined ? "" : ` ${clockText(needed)}`;
  return new ConsistencyError(
    "CAUSAL_DEPENDENCY_UNAVAILABLE",
    LEVEL,
    `${LEVEL}: the value of ${JSON.stringify(key)} depends on ${JSON.stringify(blocking)}, which no replica asked ` +
      `held at the version needed${version} (${rounds} rounds, ${waitedMs} ms), and the session has no older value to return`,
  );
}
