/**
 * A multi-key causal read (docs/consistency.md §2.8): fetch the keys, then fetch the
 * dependencies their values need that the cut does not cover, one batch per replica a
 * round, for at most `maxDependencyRounds` rounds within `dependencyWaitMs`. A dependency
 * found behind is asked of the key's next replica the round after. What closes joins the
 * cut; a key whose new value does not close is answered from the cut's older value, which
 * is causal, only stale; with none, the read fails CAUSAL_DEPENDENCY_UNAVAILABLE.
 */
import { LatticeType } from "../lattices/lattice-type";
import { mergePayloads } from "../lattices/merge";
import { MalformedPayloadError } from "../wire/protobuf";
import type { CausalCut, Closure } from "./causal-cut";
import { ConsistencyError } from "./errors";
import { checkType } from "./session";
import type { KeyTransport, ValueRead } from "./transport";

const LEVEL = "causal-multi-key";
/** A node answers requests of at most 10 000 tuples: a round asks for at most that many dependencies, the rest later. */
const FETCH_KEYS_PER_ROUND_MAX = 10_000;

export interface DependencyLimits {
  maxDependencyRounds: number;
  dependencyWaitMs: number;
}

/** Per key, the cut's value once the read is done: undefined where neither the cut nor the store holds one. */
export async function readThroughCut(
  transport: KeyTransport,
  cut: CausalCut,
  keys: readonly string[],
  limits: DependencyLimits,
): Promise<Map<string, ValueRead | undefined>> {
  const startMs = Date.now();
  const deadlineMs = startMs + limits.dependencyWaitMs;
  const fetched = new Map<string, ValueRead>();
  absorb(fetched, await transport.getMany(keys));
  /** Per key, how often it was fetched: a key fetched again goes to its next replica. */
  const fetchCounts = new Map(keys.map((key) => [key, 1]));
  let closure = cut.close(fetched);
  let rounds = 0;
  while (closure.missing.size > 0 && rounds < limits.maxDependencyRounds && Date.now() < deadlineMs) {
    const missing = [...closure.missing.keys()].slice(0, FETCH_KEYS_PER_ROUND_MAX);
    absorb(fetched, await fetchRound(transport, missing, fetchCounts, deadlineMs));
    rounds++;
    closure = cut.close(fetched);
  }
  // No await from `close` to here: the cut has not changed since it was closed against.
  cut.admit(closure.closed);
  const values = new Map<string, ValueRead | undefined>();
  for (const key of keys) {
    const value = cut.get(key);
    if (value === undefined && fetched.has(key)) throw unavailable(key, closure, rounds, Date.now() - startMs);
    values.set(key, value);
  }
  return values;
}

/** One round: keys never fetched in one batch to any replica, keys found behind to their next replica. */
async function fetchRound(
  transport: KeyTransport,
  keys: readonly string[],
  fetchCounts: Map<string, number>,
  deadlineMs: number,
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
    ...(fresh.length === 0 ? [] : [beforeDeadline(transport.getMany(fresh), deadlineMs)]),
    ...[...byReplica].map(([replica, group]) => beforeDeadline(transport.getFromReplica(replica, group), deadlineMs)),
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

/** Joins what was fetched with what was fetched before; LATTICE when a key holds another type. */
function absorb(fetched: Map<string, ValueRead>, values: ReadonlyMap<string, ValueRead | undefined>): void {
  for (const [key, value] of values) {
    if (value === undefined) continue;
    checkType(key, value.type, [LatticeType.MULTI_CAUSAL]);
    const earlier = fetched.get(key);
    const payload = earlier === undefined ? value.payload : mergePayloads(value.type, earlier.payload, value.payload);
    if (payload === null) throw new MalformedPayloadError(`the value of ${JSON.stringify(key)}`);
    fetched.set(key, { type: value.type, payload });
  }
}

function unavailable(key: string, closure: Closure, rounds: number, waitedMs: number): ConsistencyError {
  // Follow what keeps `key` out down to a dependency that no value covers.
  let blocking = key;
  const followed = new Set<string>();
  while (!closure.missing.has(blocking) && closure.blockedBy.has(blocking) && !followed.has(blocking)) {
    followed.add(blocking);
    blocking = closure.blockedBy.get(blocking)!;
  }
  return new ConsistencyError(
    "CAUSAL_DEPENDENCY_UNAVAILABLE",
    LEVEL,
    `${LEVEL}: the value of ${JSON.stringify(key)} depends on ${JSON.stringify(blocking)}, which no replica asked ` +
      `held at the version needed (${rounds} rounds, ${waitedMs} ms), and the session has no older value to return`,
  );
}
