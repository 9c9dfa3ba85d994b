/**
 * Sessions (docs/consistency.md §2.2): the four guarantees of Terry et al., per key, kept
 * by the client alone. The floor holds, per key, a value every read must reach: read your
 * writes feeds it the session's acknowledged writes, monotonic reads every value read, and
 * a read returns the server's value joined with it, so the client never waits or retries
 * for a guarantee. Monotonic writes and writes follow reads are the hybrid clock's: its
 * stamps only rise, and absorb the stamps read. Nothing new goes on the wire.
 */
import { LatticeType } from "../lattices/lattice-type";
import {
  decodeLww,
  decodePriority,
  decodeSet,
  encodeLww,
  encodePriority,
  encodeSet,
  type Bytes,
  type LwwValue,
  type PriorityValue,
} from "../lattices/values";
import { HybridClock } from "./clock";
import { ConsistencyError, type Guarantee } from "./errors";
import { Floor } from "./floor";
import {
  resolveSessionOptions,
  resolveTransactionOptions,
  type ResolvedSessionOptions,
  type SessionGuarantee,
  type SessionOptions,
  type TransactionOptions,
} from "./options";
import { composeTransaction, type Transaction } from "./transaction";
import type { KeyTransport, PutOptions, PutOutcome, PutTuple, ValueRead } from "./transport";
import type { TransactionNumbers } from "./write-id";

/** What a session is built on: the cluster, and its client's transaction numbers. */
export interface SessionContext {
  transport: KeyTransport;
  transactionNumbers: TransactionNumbers;
  /** The wall clock in microseconds; tests give skewed ones. */
  nowMicros?: () => bigint;
}

/** The guarantees' state and the read and write paths under them: what a Session and its transactions share. */
export class SessionCore {
  readonly guarantees: ReadonlySet<SessionGuarantee>;
  private readonly clock: HybridClock;
  private readonly floor: Floor;
  /** Per key, the greatest stamp read that was too far ahead to absorb: a later write of the key must follow it. */
  private readonly stampsAhead = new Map<string, bigint>();
  private closed = false;

  constructor(
    readonly context: SessionContext,
    private readonly options: ResolvedSessionOptions,
  ) {
    this.guarantees = options.guarantees;
    this.clock = new HybridClock({ maxClockAheadMs: options.maxClockAheadMs, nowMicros: context.nowMicros });
    this.floor = new Floor(options);
  }

  /** The floor's keys and bytes: what the session holds for its guarantees. */
  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.floor.keyCount, stateBytes: this.floor.stateBytes };
  }

  /** Each key's value joined with its floor; monotonic reads raise the floor to it, writes follow reads absorbs its stamp. */
  async read(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    this.assertOpen();
    const fromServer = await this.context.transport.getMany(keys);
    const values = new Map<string, ValueRead | undefined>();
    for (const key of keys) {
      const server = fromServer.get(key);
      // With monotonic reads the floor is raised to what is returned: one merge serves both.
      const value =
        server === undefined
          ? this.floor.get(key)
          : this.guarantees.has("monotonic-reads")
            ? this.floor.raise(key, server, "monotonic-reads")
            : this.floor.joined(key, server);
      if (value !== undefined && this.guarantees.has("writes-follow-reads")) this.observe(key, value);
      values.set(key, value);
    }
    return values;
  }

  /**
   * Sends the writes, one outcome per key; read your writes holds room in the floor first
   * and raises the floor by the writes applied. Rejects only before sending (SESSION_LIMIT).
   */
  async write(puts: readonly PutTuple[], options?: PutOptions): Promise<Map<string, PutOutcome>> {
    this.assertOpen();
    if (!this.guarantees.has("read-your-writes")) return this.send(puts, options);
    const reservation = this.floor.reserve(puts, "read-your-writes");
    const outcomes = await this.send(puts, options);
    // A write whose outcome is unknown stays out: it may not have happened, and either answer is then legal.
    this.floor.settle(
      reservation,
      puts.filter(({ key }) => outcomes.get(key)!.status === "applied"),
    );
    return outcomes;
  }

  /** A stamp for writes of `keys` that follows `afterMicros` and every stamp of theirs read too far ahead to absorb. */
  stampFor(keys: Iterable<string>, afterMicros: bigint, guarantee: Guarantee): bigint {
    const followed: string[] = [];
    for (const key of keys) {
      const ahead = this.stampsAhead.get(key);
      if (ahead === undefined) continue;
      this.clock.follow(ahead, "writes-follow-reads");
      followed.push(key);
    }
    this.clock.follow(afterMicros, guarantee);
    for (const key of followed) this.stampsAhead.delete(key);
    return this.clock.next();
  }

  /** CLOCK_AHEAD when a write of `key` stamped `stamp` (taken earlier) would not follow a stamp of it read too far ahead. */
  checkFollowsReads(key: string, stamp: bigint): void {
    const ahead = this.stampsAhead.get(key);
    if (ahead === undefined || ahead < stamp) return;
    throw new ConsistencyError(
      "CLOCK_AHEAD",
      "writes-follow-reads",
      `writes-follow-reads: ${JSON.stringify(key)} was read at stamp ${ahead} µs, too far ahead to absorb, and the write's stamp ${stamp} µs is not above it`,
    );
  }

  close(): void {
    this.closed = true;
  }

  assertOpen(): void {
    if (this.closed) throw new ConsistencyError("SESSION_CLOSED", undefined, "the session is closed");
  }

  private async send(puts: readonly PutTuple[], options: PutOptions | undefined): Promise<Map<string, PutOutcome>> {
    try {
      return await this.context.transport.putManySettled(puts, options);
    } catch (error) {
      // The call failed as a whole, perhaps after an attempt had sent the writes: each may have happened.
      return new Map(puts.map(({ key }) => [key, { status: "unknown", error: error as Error }]));
    }
  }

  private observe(key: string, value: ValueRead): void {
    // Only LWW values carry stamps; a set or priority write follows what was read by its lattice alone.
    if (value.type !== LatticeType.LWW) return;
    const stamp = decodeLww(value.payload).timestamp;
    if (this.clock.observe(stamp)) return;
    const known = this.stampsAhead.get(key);
    if (known === undefined && this.stampsAhead.size >= this.options.maxKeys) {
      throw new ConsistencyError(
        "SESSION_LIMIT",
        "writes-follow-reads",
        `writes-follow-reads: the session holds maxKeys (${this.options.maxKeys}) stamps read too far ahead, so it cannot keep the guarantee for ${JSON.stringify(key)}`,
      );
    }
    if (known === undefined || stamp > known) this.stampsAhead.set(key, stamp);
  }
}

/** AnnaClient's typed helpers under a session's guarantees (docs/consistency.md §3). */
export class Session {
  private readonly core: SessionCore;

  constructor(context: SessionContext, options?: SessionOptions) {
    this.core = new SessionCore(context, resolveSessionOptions(options));
  }

  get guarantees(): ReadonlySet<SessionGuarantee> {
    return this.core.guarantees;
  }

  /** The floor's size: keys and bytes the session holds for its guarantees. */
  get stateSize(): { keyCount: number; stateBytes: number } {
    return this.core.stateSize;
  }

  async getLww(key: string): Promise<LwwValue | undefined> {
    const payload = await this.readPayload(key, [LatticeType.LWW]);
    return payload && decodeLww(payload);
  }

  /** Last writer wins, stamped by the session's clock: after the session's earlier writes and the versions it read. */
  async putLww(key: string, value: Bytes, options?: PutOptions): Promise<void> {
    this.core.assertOpen();
    const timestamp = this.core.stampFor([key], 0n, "writes-follow-reads");
    await this.writePayload({ key, type: LatticeType.LWW, payload: encodeLww({ timestamp, value }) }, options);
  }

  async getSet(key: string): Promise<Uint8Array[] | undefined> {
    const payload = await this.readPayload(key, [LatticeType.SET, LatticeType.ORDERED_SET]);
    return payload && decodeSet(payload);
  }

  /** Adds elements to a set (union with what is stored). */
  async addToSet(key: string, values: Iterable<Bytes>, ordered = false, options?: PutOptions): Promise<void> {
    const type = ordered ? LatticeType.ORDERED_SET : LatticeType.SET;
    await this.writePayload({ key, type, payload: encodeSet(values) }, options);
  }

  async getPriority(key: string): Promise<PriorityValue | undefined> {
    const payload = await this.readPayload(key, [LatticeType.PRIORITY]);
    return payload && decodePriority(payload);
  }

  /** The lowest priority wins. */
  async putPriority(key: string, priority: number, value: Bytes, options?: PutOptions): Promise<void> {
    await this.writePayload({ key, type: LatticeType.PRIORITY, payload: encodePriority({ priority, value }) }, options);
  }

  /** A transaction over LWW keys whose reads keep this session's guarantees too. */
  transaction(options: TransactionOptions): Transaction {
    this.core.assertOpen();
    return composeTransaction(this.core, resolveTransactionOptions(options));
  }

  /** Ends the session: later calls, its transactions' too, fail SESSION_CLOSED. */
  close(): void {
    this.core.close();
  }

  private async readPayload(key: string, types: readonly LatticeType[]): Promise<Uint8Array | undefined> {
    const value = (await this.core.read([key])).get(key);
    if (value === undefined) return undefined;
    checkType(key, value.type, types);
    return value.payload;
  }

  private async writePayload(put: PutTuple, options: PutOptions | undefined): Promise<void> {
    const outcome = (await this.core.write([put], options)).get(put.key)!;
    if (outcome.status !== "applied") throw outcome.error;
  }
}

/** LATTICE when a key holds another type than the call reads. */
export function checkType(key: string, type: LatticeType, types: readonly LatticeType[]): void {
  if (types.includes(type)) return;
  throw new ConsistencyError(
    "LATTICE",
    undefined,
    `${JSON.stringify(key)} holds a ${LatticeType[type]} value, not ${types.map((t) => LatticeType[t]).join(" or ")}`,
  );
}
