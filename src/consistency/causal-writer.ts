/**
 * What a causal session's writes share, whatever the scope: the session's own entry in
 * vector clocks, the value as written (in its envelope or bare, §2.7), and how a write
 * leaves, with one outcome. Entries are named per session, not per client: two sessions
 * of one client writing at once must stay concurrent, or one write would hide the other.
 */
import { randomBytes } from "node:crypto";
import { entryOf, vectorClock, type VectorClock } from "../lattices/vector-clock";
import { encodeEnvelope } from "../lattices/causal-envelope";
import type { CausalLevel } from "./causal-options";
import { ConsistencyError } from "./errors";
import type { KeyTransport, PutOptions, PutOutcome, PutTuple } from "./transport";

/** Clock counters are u32 on the wire. */
const WRITE_COUNT_MAX = 0xffffffff;
/** 64 random bits: sessions that never meet still draw distinct names (2^-32 odds against at 2^16 sessions). */
const SESSION_ID_BYTES = 8;

export function randomSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString("base64url");
}

export class CausalWriter {
  /** The session's vector clock entry, as bytes. */
  readonly id: Uint8Array;
  /** Counts the session's writes to every key, so each write's own entry exceeds all the session's earlier ones. */
  private writeCount = 0;

  constructor(
    private readonly transport: KeyTransport,
    sessionId: string,
    private readonly options: { level: CausalLevel; envelope: boolean },
  ) {
    this.id = new TextEncoder().encode(sessionId);
  }

  /**
   * `base` joined with this session's entry at its next count. With `base` at least every
   * clock the session saw of the key, the write dominates all of them and every earlier
   * write of the session to the key, whether or not that one was applied.
   */
  nextClock(base: VectorClock): VectorClock {
    if (this.writeCount === WRITE_COUNT_MAX) {
      throw new ConsistencyError(
        "SESSION_LIMIT",
        this.options.level,
        `${this.options.level}: the session has written ${WRITE_COUNT_MAX} times, all its clock entry can count; open a new session`,
      );
    }
    return vectorClock.join(base, [{ key: this.id, value: ++this.writeCount }]);
  }

  /** `clock`'s entry of this session alone: how a stamped write of it is named as a dependency. */
  ownEntry(clock: VectorClock): VectorClock {
    const own = entryOf(clock, this.id);
    if (own === undefined) throw new Error("invariant: a clock of this session's write without its entry");
    return own;
  }

  /** The element the write puts in the key's value set. */
  element(clock: VectorClock, value: Uint8Array): Uint8Array {
    return this.options.envelope ? encodeEnvelope({ clock, value }) : value;
  }

  /** CAUSAL_DEPENDENCY_UNAVAILABLE: the session's write of `key` of unknown outcome, which `dependents` follow, failed again when resent. */
  resendFailed(key: string, dependents: string, error: Error): ConsistencyError {
    const { level } = this.options;
    return new ConsistencyError(
      "CAUSAL_DEPENDENCY_UNAVAILABLE",
      level,
      `${level}: the session's write of ${JSON.stringify(key)} may not have happened, and ${dependents} ` +
        `depends on it; sent again, it failed again (${error.message})`,
    );
  }

  /** Sends `put` by the transport's routing, or to `replica` alone where one is named. */
  async send(put: PutTuple, replica?: string, options?: PutOptions): Promise<PutOutcome> {
    try {
      const outcomes =
        replica === undefined
          ? await this.transport.putManySettled([put], options)
          : await this.transport.putToReplica(replica, [put], options);
      return outcomes.get(put.key)!;
    } catch (error) {
      // The call failed as a whole, perhaps after an attempt had sent the write: it may have happened.
      return { status: "unknown", error: error as Error };
    }
  }
}
