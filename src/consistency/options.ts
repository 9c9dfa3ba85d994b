/**
 * The options of sessions and transactions: their types, their defaults in one place,
 * and their checks, done once where a session or transaction is opened.
 */

export type SessionGuarantee = "read-your-writes" | "monotonic-reads" | "monotonic-writes" | "writes-follow-reads";
export type Isolation = "read-uncommitted" | "read-committed" | "item-cut" | "read-atomic";

export const SESSION_GUARANTEES: readonly SessionGuarantee[] = [
  "read-your-writes",
  "monotonic-reads",
  "monotonic-writes",
  "writes-follow-reads",
];
export const ISOLATIONS: readonly Isolation[] = ["read-uncommitted", "read-committed", "item-cut", "read-atomic"];

export interface SessionOptions {
  /** The guarantees kept per key; "all" for the four. Default none: eventual, as AnnaClient's own calls. */
  guarantees?: readonly SessionGuarantee[] | "all";
  /** Keys the session's state may hold (its floor, and stamps read too far ahead). */
  maxKeys?: number;
  /** Bytes the session's floor may hold: keys, values and a fixed cost per entry. */
  maxStateBytes?: number;
  /** A stamp read further ahead of this machine's clock is not absorbed (docs/consistency.md §2.0). */
  maxClockAheadMs?: number;
}

export interface TransactionOptions {
  isolation: Isolation;
  /** Distinct keys the transaction reads or writes. */
  maxKeys?: number;
  /** Bytes of the write buffer and read cache together (keys and values). */
  maxBufferBytes?: number;
  /** Read atomic: replica nodes that must hold each prepared version before the commit is sent; 0: the node's default. */
  prepareAcks?: number;
  /** Read atomic: how long a read looks for a version it needs, replica by replica, before VERSION_UNAVAILABLE. */
  versionWaitMs?: number;
}

export interface ResolvedSessionOptions {
  guarantees: ReadonlySet<SessionGuarantee>;
  maxKeys: number;
  maxStateBytes: number;
  maxClockAheadMs: number;
}

export type ResolvedTransactionOptions = Required<TransactionOptions>;

const SESSION_DEFAULTS = { maxKeys: 100_000, maxStateBytes: 64 * 1024 * 1024, maxClockAheadMs: 60_000 };
const TRANSACTION_DEFAULTS = { maxKeys: 1024, maxBufferBytes: 16 * 1024 * 1024, prepareAcks: 1, versionWaitMs: 500 };
/** A session is client memory: a million keys is already hundreds of MiB of floor. */
const SESSION_KEYS_MAX = 1_000_000;
const SESSION_STATE_BYTES_MAX = 1024 * 1024 * 1024;
/** A day: a clock further off than that is broken, not skewed. */
const CLOCK_AHEAD_MS_MAX = 24 * 60 * 60 * 1000;
/** A node answers KeyRequests of at most 10 000 tuples, and a commit sends its keys in one. */
const TRANSACTION_KEYS_MAX = 10_000;
/** A commit's request to one replica carries the whole buffer. */
const TRANSACTION_BUFFER_BYTES_MAX = 256 * 1024 * 1024;
/** More replica nodes than any placement keeps of a key. */
const PREPARE_ACKS_MAX = 16;
/** A read that waits longer for a version has lost it: the writer is gone. */
const VERSION_WAIT_MS_MAX = 60_000;
const READ_ATOMIC_OPTIONS = ["prepareAcks", "versionWaitMs"] as const;

export function resolveSessionOptions(options: SessionOptions = {}): ResolvedSessionOptions {
  return {
    guarantees: resolveGuarantees(options.guarantees ?? []),
    maxKeys: checkedCount("maxKeys", options.maxKeys ?? SESSION_DEFAULTS.maxKeys, 1, SESSION_KEYS_MAX),
    maxStateBytes: checkedCount(
      "maxStateBytes",
      options.maxStateBytes ?? SESSION_DEFAULTS.maxStateBytes,
      1,
      SESSION_STATE_BYTES_MAX,
    ),
    maxClockAheadMs: checkedCount(
      "maxClockAheadMs",
      options.maxClockAheadMs ?? SESSION_DEFAULTS.maxClockAheadMs,
      0,
      CLOCK_AHEAD_MS_MAX,
    ),
  };
}

export function resolveTransactionOptions(options: TransactionOptions): ResolvedTransactionOptions {
  if (!ISOLATIONS.includes(options?.isolation)) {
    throw new RangeError(`isolation must be one of ${ISOLATIONS.join(", ")}, got ${options?.isolation}`);
  }
  for (const name of READ_ATOMIC_OPTIONS) {
    if (options[name] !== undefined && options.isolation !== "read-atomic") {
      throw new RangeError(`${name} applies to read-atomic transactions only, not ${options.isolation}`);
    }
  }
  return {
    isolation: options.isolation,
    maxKeys: checkedCount("maxKeys", options.maxKeys ?? TRANSACTION_DEFAULTS.maxKeys, 1, TRANSACTION_KEYS_MAX),
    maxBufferBytes: checkedCount(
      "maxBufferBytes",
      options.maxBufferBytes ?? TRANSACTION_DEFAULTS.maxBufferBytes,
      1,
      TRANSACTION_BUFFER_BYTES_MAX,
    ),
    prepareAcks: checkedCount(
      "prepareAcks",
      options.prepareAcks ?? TRANSACTION_DEFAULTS.prepareAcks,
      0,
      PREPARE_ACKS_MAX,
    ),
    versionWaitMs: checkedCount(
      "versionWaitMs",
      options.versionWaitMs ?? TRANSACTION_DEFAULTS.versionWaitMs,
      0,
      VERSION_WAIT_MS_MAX,
    ),
  };
}

function resolveGuarantees(guarantees: readonly SessionGuarantee[] | "all"): ReadonlySet<SessionGuarantee> {
  if (guarantees === "all") return new Set(SESSION_GUARANTEES);
  if (!Array.isArray(guarantees)) throw new TypeError(`guarantees must be an array or "all", got ${guarantees}`);
  for (const guarantee of guarantees) {
    if (!SESSION_GUARANTEES.includes(guarantee)) {
      throw new RangeError(`unknown session guarantee ${JSON.stringify(guarantee)}: ${SESSION_GUARANTEES.join(", ")}`);
    }
  }
  return new Set(guarantees);
}

function checkedCount(name: string, value: number, least: number, most: number): number {
  if (!Number.isSafeInteger(value) || value < least || value > most) {
    throw new RangeError(`${name} must be an integer from ${least} to ${most}, got ${value}`);
  }
  return value;
}
