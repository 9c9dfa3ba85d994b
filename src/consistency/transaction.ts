/**
 * Transactions over LWW keys (docs/consistency.md §2.3–2.6). A level is a composition of
 * two pieces: where writes go (transaction-writes.ts, read-atomic-writes.ts) and where
 * reads come from (transaction-reads.ts, read-atomic-reads.ts). This class keeps what every
 * level shares: the states, one call at a time, the key limit, the greatest stamp read,
 * and the verdict of a commit.
 */
import { LatticeType } from "../lattices/lattice-type";
import { decodeLww, type Bytes } from "../lattices/values";
import { BufferBudget } from "./buffer-budget";
import { CommitError, ConsistencyError } from "./errors";
import type { Isolation, ResolvedTransactionOptions } from "./options";
import { AtomicReads } from "./read-atomic-reads";
import { AtomicWrites } from "./read-atomic-writes";
import { checkType, type SessionCore } from "./session";
import { CachedReads, StoreReads } from "./transaction-reads";
import { BufferedWrites, ImmediateWrites } from "./transaction-writes";
import type { PutOutcome, ValueRead } from "./transport";
import { transactionIdOf, type TransactionTag } from "./write-id";

export type TransactionState = "active" | "committing" | "committed" | "aborted" | "failed" | "unknown";

export interface CommitResult {
  /** The stamp every write of the transaction carries; undefined when it wrote nothing. */
  stamp: bigint | undefined;
}

/** What a transaction's pieces share. */
export interface TransactionContext {
  readonly core: SessionCore;
  readonly tag: TransactionTag;
  readonly id: string;
  readonly isolation: Isolation;
  readonly budget: BufferBudget;
}

/** What became of a transaction's writes at its commit. */
export interface WritesCommitted {
  stamp: bigint | undefined;
  /** Per key written, the outcome that decides it. */
  outcomes: ReadonlyMap<string, PutOutcome>;
  /** What the level does about writes whose outcome is unknown, for the error's message. */
  unknownNote?: string;
}

export interface TransactionWrites {
  /** The value this transaction holds back for `key`, which its reads return. */
  pending(key: string): Uint8Array | undefined;
  put(key: string, value: Uint8Array): Promise<void>;
  /** Rejects only when nothing became visible: before anything is sent (CLOCK_AHEAD, SESSION_LIMIT), or read atomic's failed prepare. */
  commit(readStampMax: bigint): Promise<WritesCommitted>;
  abort(): void;
}

export interface TransactionReads {
  read(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>>;
}

interface LevelPieces {
  writes(context: TransactionContext, options: ResolvedTransactionOptions): TransactionWrites;
  reads(context: TransactionContext, options: ResolvedTransactionOptions): TransactionReads;
}

const LEVELS: Record<Isolation, LevelPieces> = {
  "read-uncommitted": { writes: (c) => new ImmediateWrites(c), reads: (c) => new StoreReads(c) },
  "read-committed": { writes: (c) => new BufferedWrites(c), reads: (c) => new StoreReads(c) },
  "item-cut": { writes: (c) => new BufferedWrites(c), reads: (c) => new CachedReads(c) },
  "read-atomic": {
    writes: (c, o) => new AtomicWrites(c, o.prepareAcks),
    reads: (c, o) => new AtomicReads(c, o.versionWaitMs),
  },
};

/** Keys a commit error names in its message; its lists hold them all. */
const KEYS_IN_MESSAGE_MAX = 8;
const encoder = new TextEncoder();

/** A new transaction of the session `core`, with the next transaction number of its client. */
export function composeTransaction(core: SessionCore, options: ResolvedTransactionOptions): Transaction {
  const tag = core.context.transactionNumbers.next();
  const id = transactionIdOf(tag);
  const budget = new BufferBudget(options.maxBufferBytes, options.isolation, id);
  const context: TransactionContext = { core, tag, id, isolation: options.isolation, budget };
  const pieces = LEVELS[options.isolation];
  return new Transaction(context, options.maxKeys, pieces.writes(context, options), pieces.reads(context, options));
}

/** Sequential: one call at a time. States: active → committing → committed | failed | unknown, or active → aborted. */
export class Transaction {
  readonly id: string;
  readonly isolation: Isolation;
  private currentState: TransactionState = "active";
  private busy = false;
  /** Distinct keys read or written, within maxKeys. */
  private readonly keys = new Set<string>();
  /** The greatest stamp read from the store: a commit's stamp goes above it. */
  private readStampMax = 0n;

  constructor(
    private readonly context: TransactionContext,
    private readonly maxKeys: number,
    private readonly writes: TransactionWrites,
    private readonly reads: TransactionReads,
  ) {
    this.id = context.id;
    this.isolation = context.isolation;
  }

  get state(): TransactionState {
    return this.currentState;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getMany([key])).get(key);
  }

  getMany(keys: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    return this.call(() => this.readValues([...new Set(keys)]));
  }

  /** Read uncommitted: sent now. Otherwise held until the commit. */
  put(key: string, value: Bytes): Promise<void> {
    return this.call(async () => {
      this.admit([key]);
      await this.writes.put(key, typeof value === "string" ? encoder.encode(value) : value.slice());
    });
  }

  /** Resolves when every write was applied; COMMIT_FAILED when none was, COMMIT_UNKNOWN otherwise. */
  commit(): Promise<CommitResult> {
    return this.call(() => this.commitWrites());
  }

  abort(): Promise<void> {
    return this.call(async () => {
      this.writes.abort();
      this.currentState = "aborted";
    });
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    this.context.core.assertOpen();
    if (this.busy) {
      throw new ConsistencyError(
        "TRANSACTION_BUSY",
        this.isolation,
        `${this.isolation}: transaction ${this.id} has a call pending, and takes one at a time`,
      );
    }
    if (this.currentState !== "active") {
      throw new ConsistencyError(
        "TRANSACTION_CLOSED",
        this.isolation,
        `${this.isolation}: transaction ${this.id} is ${this.currentState}`,
      );
    }
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private async readValues(keys: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    this.admit(keys);
    const fromStore = keys.filter((key) => this.writes.pending(key) === undefined);
    const read = fromStore.length === 0 ? new Map<string, ValueRead | undefined>() : await this.reads.read(fromStore);
    const values = new Map<string, Uint8Array | undefined>();
    for (const key of keys) {
      const pending = this.writes.pending(key);
      if (pending !== undefined) {
        values.set(key, pending.slice());
        continue;
      }
      const value = read.get(key);
      if (value === undefined) {
        values.set(key, undefined);
        continue;
      }
      checkType(key, value.type, [LatticeType.LWW]);
      const lww = decodeLww(value.payload);
      if (lww.timestamp > this.readStampMax) this.readStampMax = lww.timestamp;
      values.set(key, lww.value);
    }
    return values;
  }

  private async commitWrites(): Promise<CommitResult> {
    this.currentState = "committing";
    let committed: WritesCommitted;
    try {
      committed = await this.writes.commit(this.readStampMax);
    } catch (error) {
      this.currentState = "failed"; // nothing was sent
      throw error;
    }
    const error = this.verdict(committed);
    if (error === undefined) {
      this.currentState = "committed";
      return { stamp: committed.stamp };
    }
    this.currentState = error.code === "COMMIT_FAILED" ? "failed" : "unknown";
    throw error;
  }

  /** undefined when every write was applied; COMMIT_FAILED when none was nor may have been; else COMMIT_UNKNOWN. */
  private verdict({ outcomes, unknownNote }: WritesCommitted): CommitError | undefined {
    const applied: string[] = [];
    const refused: string[] = [];
    const unknown: string[] = [];
    let cause: Error | undefined;
    for (const [key, outcome] of outcomes) {
      if (outcome.status === "applied") {
        applied.push(key);
        continue;
      }
      (outcome.status === "refused" ? refused : unknown).push(key);
      cause ??= outcome.error;
    }
    if (cause === undefined) return undefined;
    const failed = applied.length === 0 && unknown.length === 0;
    const note = unknown.length > 0 && unknownNote !== undefined ? `, the unknown ${unknownNote}` : "";
    const what = failed
      ? "made nothing visible"
      : `may be partly visible (applied: ${listed(applied)}; refused: ${listed(refused)}; unknown: ${listed(unknown)}${note})`;
    return new CommitError(
      failed ? "COMMIT_FAILED" : "COMMIT_UNKNOWN",
      this.isolation,
      `${this.isolation}: transaction ${this.id}'s commit ${what}; first cause: ${cause.message}`,
      applied,
      refused,
      unknown,
    );
  }

  private admit(keys: readonly string[]): void {
    const added = keys.filter((key) => !this.keys.has(key));
    if (this.keys.size + added.length > this.maxKeys) {
      throw new ConsistencyError(
        "TRANSACTION_LIMIT",
        this.isolation,
        `${this.isolation}: transaction ${this.id} would touch ${this.keys.size + added.length} keys, over maxKeys (${this.maxKeys})`,
      );
    }
    for (const key of added) this.keys.add(key);
  }
}

function listed(keys: readonly string[]): string {
  if (keys.length === 0) return "none";
  const shown = keys.slice(0, KEYS_IN_MESSAGE_MAX).map((key) => JSON.stringify(key));
  return keys.length > KEYS_IN_MESSAGE_MAX
    ? `${shown.join(", ")} and ${keys.length - KEYS_IN_MESSAGE_MAX} more`
    : shown.join(", ");
}
