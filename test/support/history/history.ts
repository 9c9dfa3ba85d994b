/**
 * Folds events into the checker's model: transactions (invoke paired with its outcome),
 * writes (each value mapped to the one write that made it), reads of committed
 * transactions, each key's kind, and the sessions. Values present before the run belong to
 * the initial transaction T0. One pass over the events, then linear passes over the ops.
 */
import {
  HISTORY_EVENTS_MAX,
  HistoryError,
  OPS_PER_TRANSACTION_MAX,
  PROCESSES_MAX,
  SIBLINGS_MAX,
  type FaultEvent,
  type FinalEvent,
  type HistoryEvent,
  type InvokeEvent,
  type Op,
  type ReadResult,
  type VectorClock,
  type WriteVersions,
} from "./events";

export type Outcome = "ok" | "fail" | "info";
export type KeyKind = "lww" | "causal" | "set";

/** T0's id; its writes sort below every version of the run. */
export const INITIAL_TRANSACTION = 0;
export const INITIAL_TRANSACTION_NAME = "T0";

export interface Transaction {
  /** T0 is 0, then transactions in the order of their invocations. */
  readonly id: number;
  readonly name: string;
  /** As recorded; -1 for T0, which belongs to no session. */
  readonly process: number;
  readonly outcome: Outcome;
  readonly ops: readonly Op[];
  /** In the graph: T0, every `ok` transaction, and `info` ones whose writes someone read. */
  readonly isNode: boolean;
  /** key → id of the transaction's last write of it, the write its version belongs to. */
  readonly lastWrites: ReadonlyMap<string, number>;
}

/** An LWW version without its value: stamp (T0's is -1, below any u64), then write id bytes as hex. */
export interface LwwStamp {
  readonly stamp: bigint;
  readonly writeId: string;
}

export interface Write {
  readonly id: number;
  readonly txn: number;
  readonly key: string;
  readonly value: string;
  /** The transaction's last write of the key, or any add to a set: the others were overwritten within it (G1b if read). */
  readonly lastInTransaction: boolean;
  /** LWW keys: known for `ok` writes (required), for `info` ones when recorded. */
  readonly stamp: LwwStamp | null;
  /** Causal keys, likewise. */
  readonly clock: VectorClock | null;
}

export interface Read {
  readonly txn: number;
  readonly key: string;
  readonly opIndex: number;
  /** What the read returned; [] when absent. */
  readonly values: readonly string[];
  /** The write of each value; -1 where no transaction of the history wrote it. */
  readonly writes: readonly number[];
}

export interface History {
  readonly transactions: readonly Transaction[];
  readonly writes: readonly Write[];
  /** Reads of `ok` transactions, in event order. Reads of set keys are not analysed (sets are checked at the end). */
  readonly reads: readonly Read[];
  readonly writeOfValue: ReadonlyMap<string, number>;
  readonly keyKinds: ReadonlyMap<string, KeyKind>;
  /** process → its node transactions in session order. */
  readonly sessions: ReadonlyMap<number, readonly number[]>;
  readonly finals: readonly FinalEvent[];
  readonly faults: readonly FaultEvent[];
  readonly counts: { readonly ok: number; readonly fail: number; readonly info: number };
}

interface Draft {
  invoke: InvokeEvent;
  outcome: Outcome;
  ops: readonly Op[];
  versions: WriteVersions;
}

export function buildHistory(events: readonly HistoryEvent[], initial: Readonly<Record<string, string>>): History {
  const { drafts, finals, faults } = pairEvents(events);
  const keyKinds = classifyKeys(drafts, finals, initial);
  const transactions: Transaction[] = [];
  const writes: Write[] = [];
  const writeOfValue = new Map<string, number>();
  const addTransaction = (
    name: string,
    process: number,
    outcome: Outcome,
    ops: readonly Op[],
    txnWrites: NewWrite[],
  ) => {
    const lastWrites = new Map<string, number>();
    for (const write of txnWrites) {
      if (writeOfValue.has(write.value)) invalid(`value ${write.value} is written twice`);
      writeOfValue.set(write.value, writes.length);
      if (write.lastInTransaction) lastWrites.set(write.key, writes.length);
      writes.push({ id: writes.length, txn: transactions.length, ...write });
    }
    transactions.push({ id: transactions.length, name, process, outcome, ops, isNode: outcome === "ok", lastWrites });
  };
  addTransaction(INITIAL_TRANSACTION_NAME, -1, "ok", [], initialWrites(initial, keyKinds));
  for (const draft of drafts) {
    addTransaction(draft.invoke.txn, draft.invoke.process, draft.outcome, draft.ops, writesOf(draft, keyKinds));
  }
  const reads = readsOf(transactions, keyKinds, writeOfValue);
  markNodes(transactions, writes, reads);
  return {
    transactions,
    writes,
    reads,
    writeOfValue,
    keyKinds,
    sessions: sessionsOf(transactions),
    finals,
    faults,
    counts: {
      ok: drafts.filter((draft) => draft.outcome === "ok").length,
      fail: drafts.filter((draft) => draft.outcome === "fail").length,
      info: drafts.filter((draft) => draft.outcome === "info").length,
    },
  };
}

type NewWrite = Omit<Write, "id" | "txn">;

function initialWrites(initial: Readonly<Record<string, string>>, keyKinds: ReadonlyMap<string, KeyKind>): NewWrite[] {
  return Object.entries(initial).map(([key, value]) => {
    const kind = keyKinds.get(key);
    return {
      key,
      value,
      lastInTransaction: true,
      stamp: kind === "lww" ? { stamp: -1n, writeId: "" } : null,
      clock: kind === "causal" ? {} : null,
    };
  });
}

/**
 * Pairs each invoke with its completion. A process runs one call at a time; a call still
 * in flight when the history ends may have happened, so it counts as `info`.
 */
function pairEvents(events: readonly HistoryEvent[]): { drafts: Draft[]; finals: FinalEvent[]; faults: FaultEvent[] } {
  if (events.length > HISTORY_EVENTS_MAX) limit(`a history holds at most ${HISTORY_EVENTS_MAX} events`);
  const drafts: Draft[] = [];
  const finals: FinalEvent[] = [];
  const faults: FaultEvent[] = [];
  const inFlight = new Map<number, Draft>();
  const names = new Set<string>();
  const processes = new Set<number>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (i > 0 && event.index <= events[i - 1].index) invalid(`events must be sorted by index (at ${event.index})`);
    if (event.type === "fault") faults.push(event);
    else if (event.type === "final") finals.push(event);
    else if (event.type === "invoke") {
      if (event.ops.length > OPS_PER_TRANSACTION_MAX) limit(`${event.txn} has over ${OPS_PER_TRANSACTION_MAX} ops`);
      if (inFlight.has(event.process)) invalid(`process ${event.process} invokes ${event.txn} with a call in flight`);
      if (names.has(event.txn)) invalid(`transaction ${event.txn} is invoked twice`);
      processes.add(event.process);
      if (processes.size > PROCESSES_MAX) limit(`a history has at most ${PROCESSES_MAX} processes`);
      names.add(event.txn);
      const draft: Draft = { invoke: event, outcome: "info", ops: event.ops, versions: {} };
      inFlight.set(event.process, draft);
      drafts.push(draft);
    } else {
      const draft = inFlight.get(event.process);
      if (draft?.invoke.txn !== event.txn) invalid(`${event.type} of ${event.txn} without its invoke`);
      inFlight.delete(event.process);
      draft.outcome = event.type;
      if (event.type === "ok") draft.ops = event.ops;
      if (event.type === "info" && event.ops !== undefined) draft.ops = event.ops;
      if (event.type !== "fail") draft.versions = { stamps: event.stamps, clocks: event.clocks };
    }
  }
  return { drafts, finals, faults };
}

const ADD = 1;
const ARRAY_READ = 2;
const SCALAR_READ = 4;
const STAMP = 8;
const CLOCK = 16;
const FINAL_LWW = 32;
const FINAL_SET = 64;
const FINAL_CAUSAL = 128;
const WRITE = 256;
const SET_EVIDENCE = ADD | FINAL_SET;
const CAUSAL_EVIDENCE = CLOCK | FINAL_CAUSAL | ARRAY_READ;
const LWW_EVIDENCE = SCALAR_READ | STAMP | FINAL_LWW;

/** A key's kind follows from how it is used; a key used two ways makes the history invalid. */
function classifyKeys(
  drafts: readonly Draft[],
  finals: readonly FinalEvent[],
  initial: Readonly<Record<string, string>>,
): Map<string, KeyKind> {
  const evidence = new Map<string, number>();
  const note = (key: string, flag: number) => evidence.set(key, (evidence.get(key) ?? 0) | flag);
  // A key known only from T0 is an LWW key.
  for (const key of Object.keys(initial)) note(key, 0);
  for (const draft of drafts) {
    for (const [kind, key, value] of draft.ops) {
      if (kind === "a") note(key, ADD);
      else if (kind === "w") note(key, WRITE);
      // Only a committed read's result is known; an invoke lists every read as null.
      else if (draft.outcome === "ok") note(key, Array.isArray(value) ? ARRAY_READ : SCALAR_READ);
    }
    for (const key of Object.keys(draft.versions.stamps ?? {})) note(key, STAMP);
    for (const key of Object.keys(draft.versions.clocks ?? {})) note(key, CLOCK);
  }
  for (const { key, payload } of finals) {
    note(key, payload.kind === "lww" ? FINAL_LWW : payload.kind === "set" ? FINAL_SET : FINAL_CAUSAL);
  }
  const kinds = new Map<string, KeyKind>();
  for (const [key, flags] of evidence) {
    // Array reads of a set key are allowed (and not analysed); anything else of another kind is not.
    const kind: KeyKind = flags & SET_EVIDENCE ? "set" : flags & CAUSAL_EVIDENCE ? "causal" : "lww";
    const conflicting =
      kind === "set"
        ? flags & (WRITE | LWW_EVIDENCE | CLOCK | FINAL_CAUSAL)
        : kind === "causal"
          ? flags & LWW_EVIDENCE
          : 0;
    if (conflicting) invalid(`key ${key} is used as a ${kind} key and as another kind`);
    kinds.set(key, kind);
  }
  return kinds;
}

function writesOf(draft: Draft, keyKinds: ReadonlyMap<string, KeyKind>): NewWrite[] {
  const writes: NewWrite[] = [];
  const seen = new Set<string>();
  for (let opIndex = draft.ops.length - 1; opIndex >= 0; opIndex--) {
    const [kind, key, value] = draft.ops[opIndex];
    if (kind === "r") continue;
    const keyKind = keyKinds.get(key)!;
    // Adds to a set do not overwrite each other: each one must survive.
    const lastInTransaction = keyKind === "set" || !seen.has(key);
    seen.add(key);
    const recordedStamp = lastInTransaction && keyKind === "lww" ? draft.versions.stamps?.[key] : undefined;
    const recordedClock = lastInTransaction && keyKind === "causal" ? draft.versions.clocks?.[key] : undefined;
    if (draft.outcome === "ok" && lastInTransaction && keyKind !== "set" && !recordedStamp && !recordedClock) {
      invalid(`ok transaction ${draft.invoke.txn} records no ${keyKind === "lww" ? "stamp" : "clock"} for ${key}`);
    }
    writes.push({
      key,
      value: value as string,
      lastInTransaction,
      stamp: recordedStamp ? { stamp: BigInt(recordedStamp[0]), writeId: recordedStamp[1] } : null,
      clock: recordedClock ?? null,
    });
  }
  return writes.reverse();
}

function readsOf(
  transactions: readonly Transaction[],
  keyKinds: ReadonlyMap<string, KeyKind>,
  writeOfValue: ReadonlyMap<string, number>,
): Read[] {
  const reads: Read[] = [];
  for (const txn of transactions) {
    if (txn.outcome !== "ok") continue;
    txn.ops.forEach(([kind, key, result], opIndex) => {
      if (kind !== "r" || keyKinds.get(key) === "set") return;
      const values = readValues(result);
      if (values.length > SIBLINGS_MAX) limit(`a read of ${key} returned over ${SIBLINGS_MAX} siblings`);
      reads.push({ txn: txn.id, key, opIndex, values, writes: values.map((value) => writeOfValue.get(value) ?? -1) });
    });
  }
  return reads;
}

function readValues(result: ReadResult): readonly string[] {
  if (result === null) return [];
  return typeof result === "string" ? [result] : result;
}

/** An `info` transaction joins the graph once a committed read shows that it happened. */
function markNodes(transactions: Transaction[], writes: readonly Write[], reads: readonly Read[]): void {
  for (const read of reads) {
    for (const write of read.writes) {
      if (write < 0) continue;
      const writer = transactions[writes[write].txn];
      if (writer.outcome === "info") transactions[writer.id] = { ...writer, isNode: true };
    }
  }
}

function sessionsOf(transactions: readonly Transaction[]): Map<number, number[]> {
  const sessions = new Map<number, number[]>();
  for (const txn of transactions) {
    if (!txn.isNode || txn.id === INITIAL_TRANSACTION) continue;
    const session = sessions.get(txn.process);
    if (session === undefined) sessions.set(txn.process, [txn.id]);
    else session.push(txn.id);
  }
  return sessions;
}

function invalid(message: string): never {
  throw new HistoryError("HISTORY_INVALID", message);
}

function limit(message: string): never {
  throw new HistoryError("HISTORY_LIMIT", message);
}
