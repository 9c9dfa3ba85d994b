/**
 * Hand-made histories for the checker's tests: each transaction is invoked and completed
 * at once, LWW writes get increasing stamps unless the test names them, causal writes
 * take the clocks the test gives. Values are the test's own (unique) strings.
 */
import type { AnomalyClass } from "./anomalies";
import type { FinalPayload, HistoryEvent, Op, Stamp, VectorClock } from "./events";
import { HistoryRecorder } from "./recorder";
import type { Verdict } from "./verdict";

export interface HandTransactionOptions {
  readonly outcome?: "ok" | "fail" | "info";
  /** Stamps by key, overriding the transaction's own (write ids stay the transaction's). */
  readonly stamps?: Readonly<Record<string, number>>;
  /** Clocks of causal writes, by key: a written key with a clock is a causal key. */
  readonly clocks?: Readonly<Record<string, VectorClock>>;
}

const STAMP_STEP = 10;

export class HandHistory {
  private readonly recorder: HistoryRecorder;
  private txnCount = 0;

  constructor() {
    let nowNs = 0n;
    this.recorder = new HistoryRecorder({ output: { kind: "memory" }, nowNs: () => (nowNs += 1000n) });
  }

  /** Runs one transaction of `process` to its outcome; returns its name. */
  txn(process: number, ops: readonly Op[], options: HandTransactionOptions = {}): string {
    const number = ++this.txnCount;
    const name = `${process}.${number}`;
    this.recorder.invoke(process, name, "hand", ops);
    const outcome = options.outcome ?? "ok";
    if (outcome === "fail") {
      this.recorder.fail(process, name, "COMMIT_FAILED");
      return name;
    }
    const stamps: Record<string, Stamp> = {};
    const writeId = number.toString(16).padStart(8, "0");
    for (const [kind, key] of ops) {
      if (kind !== "w" || options.clocks?.[key] !== undefined) continue;
      stamps[key] = [String(options.stamps?.[key] ?? number * STAMP_STEP), writeId];
    }
    const versions = { stamps, ...(options.clocks === undefined ? {} : { clocks: options.clocks }) };
    if (outcome === "ok") this.recorder.ok(process, name, ops, versions);
    else this.recorder.info(process, name, "TIMEOUT", versions);
    return name;
  }

  /** The same payload on every replica unless the test gives one per replica. */
  final(key: string, ...payloads: FinalPayload[]): void {
    const perReplica = payloads.length === 1 ? [payloads[0], payloads[0]] : payloads;
    perReplica.forEach((payload, replica) => this.recorder.final(key, `replica-${replica}`, payload));
  }

  events(): readonly HistoryEvent[] {
    return this.recorder.events();
  }
}

/** The classes that occurred, in the verdict's order. */
export function classesFound(verdict: Verdict): AnomalyClass[] {
  return (Object.keys(verdict.anomalies) as AnomalyClass[]).filter((name) => verdict.anomalies[name].count > 0);
}

/** The classes that occurred and the level forbids. */
export function forbiddenFound(verdict: Verdict): AnomalyClass[] {
  return classesFound(verdict).filter((name) => verdict.anomalies[name].forbidden);
}
