/**
 * The history format of docs/consistency.md §4.1: one JSON object per line, one event per
 * object. A process is one session and runs one call at a time; a call outside a
 * transaction is recorded as a transaction of one operation.
 */

/** What a read returned: an LWW value, `null` when absent, or a causal key's siblings. */
export type ReadResult = string | null | readonly string[];
type ReadOp = readonly ["r", string, ReadResult];
/** A write of an LWW or causal key; the value is unique in the history (`writtenValue`). */
type WriteOp = readonly ["w", string, string];
/** An element added to a set key; unique like a written value. */
type AddOp = readonly ["a", string, string];
export type Op = ReadOp | WriteOp | AddOp;

/** An LWW version: a u64 microsecond stamp in decimal and the write id in lowercase hex. */
export type Stamp = readonly [stamp: string, writeId: string];
/** A causal write's clock: session name → counter. */
export type VectorClock = Readonly<Record<string, number>>;

/** The versions a transaction gave its writes: per key, the stamp (LWW) or clock (causal) of its last write. */
export interface WriteVersions {
  readonly stamps?: Readonly<Record<string, Stamp>>;
  readonly clocks?: Readonly<Record<string, VectorClock>>;
}

interface EventBase {
  readonly index: number;
  /** process.hrtime.bigint() in decimal: strictly increasing with `index`. */
  readonly timeNs: string;
}

interface TransactionEvent extends EventBase {
  readonly process: number;
  readonly txn: string;
}

/** Reads carry `null` here: their results are known only at `ok`. */
export interface InvokeEvent extends TransactionEvent {
  readonly type: "invoke";
  readonly level: string;
  readonly ops: readonly Op[];
}

/** Committed, results known; every LWW write has a stamp, every causal write a clock. */
export interface OkEvent extends TransactionEvent, WriteVersions {
  readonly type: "ok";
  readonly ops: readonly Op[];
}

/** Certainly no effect. */
export interface FailEvent extends TransactionEvent {
  readonly type: "fail";
  readonly error: string;
}

/**
 * Outcome unknown (COMMIT_UNKNOWN, TIMEOUT): the writes may have happened. `ops` replaces
 * the invoke's when the transaction learnt more of them after invoking; the versions are
 * those the client sent, when it knows them.
 */
export interface InfoEvent extends TransactionEvent, WriteVersions {
  readonly type: "info";
  readonly error: string;
  readonly ops?: readonly Op[];
}

export interface FaultEvent extends EventBase {
  readonly type: "fault";
  readonly phase: "start" | "end";
  readonly fault: string;
  readonly detail?: string;
}

/** What one replica holds of a key after healing. */
export type FinalPayload =
  | { readonly kind: "lww"; readonly value: string | null; readonly stamp?: Stamp }
  | { readonly kind: "set"; readonly elements: readonly string[] }
  | { readonly kind: "causal"; readonly siblings: readonly string[] };

export interface FinalEvent extends EventBase {
  readonly type: "final";
  readonly key: string;
  readonly replica: string;
  readonly payload: FinalPayload;
}

export type HistoryEvent = InvokeEvent | OkEvent | FailEvent | InfoEvent | FaultEvent | FinalEvent;

/** Bounds on what a history may hold, so a runaway workload fails loudly instead of exhausting memory. */
export const HISTORY_EVENTS_MAX = 2_000_000;
/** Vector time costs (operations × processes): a bound keeps the checker's memory in check. */
export const PROCESSES_MAX = 1024;
/** The node's request limit, which also bounds a transaction's keys (docs/consistency.md §3). */
export const OPS_PER_TRANSACTION_MAX = 10_000;
export const SIBLINGS_MAX = 1024;

export type HistoryErrorCode = "HISTORY_LIMIT" | "HISTORY_INVALID" | "RECORDER_MISUSE";

export class HistoryError extends Error {
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "HistoryError";
  }
}

/** The unique value a workload writes: `p<process>.t<txn>.w<n>`. */
export function writtenValue(process: number, txnNumber: number, writeNumber: number): string {
  return `p${process}.t${txnNumber}.w${writeNumber}`;
}

/** The `txn` field: unique across the history because a process numbers its own transactions. */
export function transactionName(process: number, txnNumber: number): string {
  return `${process}.${txnNumber}`;
}
