/**
 * The serial reference executor of docs/consistency.md §4.3: transactions applied one at
 * a time to an in-memory map, each invoked and completed before the next, stamps from one
 * increasing counter. Its histories have no anomaly of any class, which makes it the
 * baseline the checker's tests plant anomalies into (plants.ts): a script can override
 * what a read returns, a write's stamp, and when a transaction is invoked and completed.
 */
import { transactionName, writtenValue, type Op, type ReadResult, type Stamp, type VectorClock } from "./events";
import { HistoryRecorder } from "./recorder";
import { compareLwwStamps } from "./versions";

/** A key's kind follows from its first letter: x LWW, c causal, s set. */
export const LWW_KEYS = ["x0", "x1", "x2", "x3"] as const;
export const CAUSAL_KEYS = ["c0", "c1"] as const;
export const SET_KEYS = ["s0"] as const;
const DEFAULT_KEYS: readonly string[] = [...LWW_KEYS, ...CAUSAL_KEYS, ...SET_KEYS];
const REPLICAS = ["replica-a", "replica-b"] as const;
/** Stamps step by 2 so that a plant can place a write just below another. */
const STAMP_STEP = 2n;
const FIRST_STAMP = 1_717_000_000_000_000n;

export type Outcome = "ok" | "fail" | "info-applied" | "info-lost";
type KeyKind = "lww" | "causal" | "set";

interface LwwVersion {
  readonly value: string;
  readonly stamp: bigint;
  readonly writeId: string;
}

function keyKindOf(key: string): KeyKind {
  return key.startsWith("x") ? "lww" : key.startsWith("c") ? "causal" : "set";
}

/** Hex of the write id's 16 bytes: 8-byte client tag (here the process), u32 transaction, u32 write number. */
function writeIdOf(process: number, txnNumber: number, writeNumber: number): string {
  return [BigInt(process).toString(16).padStart(16, "0"), txnNumber, writeNumber]
    .map((part) => (typeof part === "string" ? part : part.toString(16).padStart(8, "0")))
    .join("");
}

/** One transaction of a generated workload: reads and writes, run serially with a given outcome. */
export interface WorkloadStep {
  readonly process: number;
  readonly outcome: Outcome;
  readonly ops: readonly { readonly write: boolean; readonly key: string }[];
}

export class SerialExecutor {
  readonly recorder: HistoryRecorder;
  /** Every LWW version applied, per key, in version order (T0's first). */
  private readonly lww = new Map<string, LwwVersion[]>();
  /** Causal keys: the values applied in order, each with its clock. */
  private readonly causal = new Map<string, { value: string; clock: VectorClock }[]>();
  private readonly sets = new Map<string, string[]>();
  private readonly txnCounts = new Map<number, number>();
  private nextStamp = FIRST_STAMP;

  /** `keys`: those the finals cover. */
  constructor(
    readonly initial: Readonly<Record<string, string>>,
    private readonly keys: readonly string[] = DEFAULT_KEYS,
  ) {
    let nowNs = 0n;
    this.recorder = new HistoryRecorder({ output: { kind: "memory" }, nowNs: () => (nowNs += 1000n) });
    for (const [key, value] of Object.entries(initial)) {
      const kind = keyKindOf(key);
      if (kind === "lww") this.lww.set(key, [{ value, stamp: -1n, writeId: "" }]);
      else if (kind === "causal") this.causal.set(key, [{ value, clock: {} }]);
      else this.sets.set(key, [value]);
    }
  }

  begin(process: number): ScriptedTransaction {
    const txnNumber = (this.txnCounts.get(process) ?? 0) + 1;
    this.txnCounts.set(process, txnNumber);
    return new ScriptedTransaction(this, process, txnNumber);
  }

  /** Sets take adds only: their reads are not analysed (history.ts). */
  runStep(step: WorkloadStep, level: string): void {
    const transaction = this.begin(step.process);
    for (const { write, key } of step.ops) {
      if (write || keyKindOf(key) === "set") transaction.write(key);
      else transaction.read(key);
    }
    transaction.run(level, step.outcome);
  }

  /** The current value; siblings for a causal key, elements for a set. */
  current(key: string): ReadResult {
    const kind = keyKindOf(key);
    if (kind === "lww") return this.lww.get(key)?.at(-1)?.value ?? null;
    if (kind === "causal") return [this.causal.get(key)?.at(-1)?.value].filter((value) => value !== undefined);
    return [...(this.sets.get(key) ?? [])];
  }

  /** What a read returned before the current version was written: for planting stale reads. */
  previous(key: string): ReadResult {
    const kind = keyKindOf(key);
    if (kind === "lww") return this.lww.get(key)?.at(-2)?.value ?? null;
    return [this.causal.get(key)?.at(-2)?.value].filter((value) => value !== undefined);
  }

  takeStamp(): bigint {
    this.nextStamp += STAMP_STEP;
    return this.nextStamp;
  }

  /** The latest stamp of an LWW key (T0's is -1). */
  stampOf(key: string): bigint {
    return this.lww.get(key)?.at(-1)?.stamp ?? -1n;
  }

  applyLww(key: string, version: LwwVersion): void {
    // LWW keeps versions in stamp order, as a store would, even when a plant writes below the current one.
    const versions = this.lww.get(key) ?? [];
    const position = versions.findIndex((kept) => compareLwwStamps(kept, version) > 0);
    versions.splice(position < 0 ? versions.length : position, 0, version);
    this.lww.set(key, versions);
  }

  /** A causal write supersedes what the key holds: its clock dominates the current one. */
  applyCausal(key: string, value: string, process: number): VectorClock {
    const values = this.causal.get(key) ?? [];
    const session = `s${process}`;
    const current = values.at(-1)?.clock ?? {};
    const clock = { ...current, [session]: (current[session] ?? 0) + 1 };
    values.push({ value, clock });
    this.causal.set(key, values);
    return clock;
  }

  applyAdd(key: string, element: string): void {
    this.sets.set(key, [...(this.sets.get(key) ?? []), element]);
  }

  /** Final events for every key of the workload, from every replica; `divergent` gets the previous version on the last replica. */
  finish(divergent?: string, reverted?: string): void {
    for (const key of this.keys) {
      REPLICAS.forEach((replica, position) => {
        const stale = key === reverted || (key === divergent && position === REPLICAS.length - 1);
        this.recorder.final(key, replica, this.payloadOf(key, stale));
      });
    }
  }

  private payloadOf(key: string, stale: boolean) {
    const kind = keyKindOf(key);
    if (kind === "set") return { kind, elements: [...(this.sets.get(key) ?? [])] } as const;
    if (kind === "causal") {
      const value = this.causal.get(key)?.at(stale ? -2 : -1)?.value;
      return { kind, siblings: value === undefined ? [] : [value] } as const;
    }
    const version = this.lww.get(key)?.at(stale ? -2 : -1);
    if (version === undefined) return { kind, value: null } as const;
    const stamp: Stamp | undefined = version.stamp < 0n ? undefined : [version.stamp.toString(), version.writeId];
    return { kind, value: version.value, ...(stamp === undefined ? {} : { stamp }) } as const;
  }
}

/**
 * One transaction's script: reads see the store and the transaction's own earlier writes;
 * writes are buffered and applied at completion, one stamp for the transaction.
 */
export class ScriptedTransaction {
  readonly name: string;
  private readonly ops: Op[] = [];
  /** LWW and causal keys: the last write of each wins. */
  private readonly buffered = new Map<string, string>();
  /** Set keys: every add counts. */
  private readonly adds: [key: string, element: string][] = [];
  private readonly stampOverrides = new Map<string, bigint>();
  private writeCount = 0;

  constructor(
    private readonly executor: SerialExecutor,
    readonly process: number,
    private readonly txnNumber: number,
  ) {
    this.name = transactionName(process, txnNumber);
  }

  read(key: string): ReadResult {
    const own = this.buffered.get(key);
    const result = own === undefined ? this.executor.current(key) : keyKindOf(key) === "lww" ? own : [own];
    this.ops.push(["r", key, result]);
    return result;
  }

  /** A plant: the read returns `result` whatever the store holds. */
  readReturning(key: string, result: ReadResult): void {
    this.ops.push(["r", key, result]);
  }

  /** Writes a fresh value (adds it, for a set key); `stamp` overrides the transaction's stamp for this key. */
  write(key: string, stamp?: bigint): string {
    const value = writtenValue(this.process, this.txnNumber, this.writeCount++);
    if (keyKindOf(key) === "set") {
      this.ops.push(["a", key, value]);
      this.adds.push([key, value]);
    } else {
      this.ops.push(["w", key, value]);
      this.buffered.set(key, value);
    }
    if (stamp !== undefined) this.stampOverrides.set(key, stamp);
    return value;
  }

  invoke(level: string): void {
    this.executor.recorder.invoke(this.process, this.name, level, this.ops);
  }

  complete(outcome: Outcome): void {
    const { recorder } = this.executor;
    if (outcome === "fail") {
      recorder.fail(this.process, this.name, "COMMIT_FAILED");
      return;
    }
    const applied = outcome !== "info-lost";
    const stamp = this.executor.takeStamp();
    const stamps: Record<string, Stamp> = {};
    const clocks: Record<string, VectorClock> = {};
    if (applied) for (const [key, element] of this.adds) this.executor.applyAdd(key, element);
    for (const [key, value] of this.buffered) {
      if (keyKindOf(key) === "causal") {
        // A lost causal write records no clock, as a client that timed out may not know it.
        if (applied) clocks[key] = this.executor.applyCausal(key, value, this.process);
      } else {
        const writeId = writeIdOf(this.process, this.txnNumber, 0);
        const version = { value, stamp: this.stampOverrides.get(key) ?? stamp, writeId };
        stamps[key] = [version.stamp.toString(), writeId];
        if (applied) this.executor.applyLww(key, version);
      }
    }
    const versions = {
      ...(Object.keys(stamps).length > 0 ? { stamps } : {}),
      ...(Object.keys(clocks).length > 0 ? { clocks } : {}),
    };
    if (outcome === "ok") recorder.ok(this.process, this.name, this.ops, versions);
    else recorder.info(this.process, this.name, "TIMEOUT", versions);
  }

  run(level: string, outcome: Outcome): void {
    this.invoke(level);
    this.complete(outcome);
  }
}
