/**
 * The errors of the consistency levels. They are not AnnaClientErrors: this layer sits
 * below src/client/ and must not import it, so ConsistencyError is its own class with the
 * same shape (a `code`), plus the guarantee or isolation level that could not be kept.
 * Errors of the transport (an AnnaClientError TIMEOUT, say) pass through unchanged.
 */
import type { CausalLevel } from "./causal-options";
import type { Isolation, SessionGuarantee } from "./options";

/** A session guarantee, an isolation level or a causal level: what an error says could not be kept. */
export type Guarantee = SessionGuarantee | Isolation | CausalLevel;

export type ConsistencyErrorCode =
  /** A call on a transaction after its commit or abort. */
  | "TRANSACTION_CLOSED"
  /** A call on a transaction while another of its calls is pending: transactions are sequential. */
  | "TRANSACTION_BUSY"
  /** A transaction over its `maxKeys` or `maxBufferBytes`, or its write numbers spent. */
  | "TRANSACTION_LIMIT"
  /** A commit that made nothing visible: every write refused, or none sent. */
  | "COMMIT_FAILED"
  /** A commit of which some writes may be visible (CommitError lists the keys). */
  | "COMMIT_UNKNOWN"
  /** A write cannot be stamped after a version it must follow: that stamp is too far ahead of this clock. */
  | "CLOCK_AHEAD"
  /** Read atomic: a version would fracture a read returned before, and no older one fits (docs/consistency.md §2.6). */
  | "READ_ATOMIC_CONFLICT"
  /** Read atomic: a version another read's transaction wrote is on no replica within `versionWaitMs`. */
  | "VERSION_UNAVAILABLE"
  /** The session's state would pass `maxKeys` or `maxStateBytes` (causal: also `maxDependencies`, the client's cut); the guarantee is not dropped silently. */
  | "SESSION_LIMIT"
  /** A multi-key causal read cannot reach a dependency of the value it found, and has no older value to fall back on; or a write cannot send the earlier write it depends on. */
  | "CAUSAL_DEPENDENCY_UNAVAILABLE"
  /** A call on a closed session, or on a transaction of one. */
  | "SESSION_CLOSED"
  /** The key holds another lattice type than the call reads or writes (as AnnaClientError's LATTICE). */
  | "LATTICE";

export class ConsistencyError extends Error {
  constructor(
    readonly code: ConsistencyErrorCode,
    /** What could not be kept; undefined where no guarantee is at stake (LATTICE, SESSION_CLOSED). */
    readonly guarantee: Guarantee | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ConsistencyError";
  }
}

/** COMMIT_FAILED or COMMIT_UNKNOWN, with what became of each key the commit wrote. */
export class CommitError extends ConsistencyError {
  constructor(
    code: "COMMIT_FAILED" | "COMMIT_UNKNOWN",
    guarantee: Guarantee,
    message: string,
    /** Keys whose write a replica applied: visible, or soon by gossip. */
    readonly applied: readonly string[],
    /** Keys whose write a replica refused: certainly not stored. */
    readonly refused: readonly string[],
    /** Keys whose write may or may not have been applied (no answer, or fewer replicas than asked). */
    readonly unknown: readonly string[],
  ) {
    super(code, guarantee, message);
    this.name = "CommitError";
  }
}
