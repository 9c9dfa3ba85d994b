/**
 * Renames a history's processes, transactions, keys and values, and a verdict's witnesses
 * alike, for the checker's invariance test (docs/consistency.md §4.3 (d)): the checker
 * must not care what things are called.
 */
import { ANOMALY_CLASSES, type AnomalyClass, type Witness } from "./anomalies";
import type { FinalPayload, HistoryEvent, Op, Stamp, VectorClock } from "./events";
import { INITIAL_TRANSACTION_NAME } from "./history";
import type { ClassReport, Verdict } from "./verdict";

export interface Renaming {
  readonly process: (process: number) => number;
  readonly txn: (name: string) => string;
  readonly key: (key: string) => string;
  readonly value: (value: string) => string;
}

/** Injective, and they reverse orders, so that nothing may hang on the old names' order. */
export const REVERSING_RENAMING: Renaming = {
  process: (process) => 1_000 - process,
  txn: (name) => (name === INITIAL_TRANSACTION_NAME ? name : `txn-${reverse(name)}`),
  key: (key) => `key-${reverse(key)}`,
  value: (value) => `value-${reverse(value)}`,
};

export function renameEvent(event: HistoryEvent, renaming: Renaming): HistoryEvent {
  switch (event.type) {
    case "fault":
      return event;
    case "final":
      return { ...event, key: renaming.key(event.key), payload: renamePayload(event.payload, renaming) };
    case "invoke":
    case "ok":
    case "fail":
    case "info": {
      const renamed = { ...event, process: renaming.process(event.process), txn: renaming.txn(event.txn) };
      if ("ops" in renamed && renamed.ops !== undefined) renamed.ops = renamed.ops.map((op) => renameOp(op, renaming));
      if ("stamps" in renamed && renamed.stamps !== undefined)
        renamed.stamps = renameKeys<Stamp>(renamed.stamps, renaming);
      if ("clocks" in renamed && renamed.clocks !== undefined) {
        renamed.clocks = renameKeys<VectorClock>(renamed.clocks, renaming);
      }
      return renamed as HistoryEvent;
    }
  }
}

export function renameInitial(initial: Readonly<Record<string, string>>, renaming: Renaming): Record<string, string> {
  return Object.fromEntries(Object.entries(initial).map(([key, value]) => [renaming.key(key), renaming.value(value)]));
}

export function renameVerdict(verdict: Verdict, renaming: Renaming): Verdict {
  const anomalies = {} as Record<AnomalyClass, ClassReport>;
  for (const name of ANOMALY_CLASSES) {
    const report = verdict.anomalies[name];
    anomalies[name] = { ...report, witnesses: report.witnesses.map((witness) => renameWitness(witness, renaming)) };
  }
  return { ...verdict, anomalies };
}

function renameWitness(witness: Witness, renaming: Renaming): Witness {
  return {
    ...witness,
    txns: witness.txns.map(renaming.txn),
    keys: witness.keys.map(renaming.key),
    ...(witness.values === undefined ? {} : { values: witness.values.map(renaming.value) }),
    ...(witness.cycle === undefined
      ? {}
      : {
          cycle: witness.cycle.map((step) => ({
            ...step,
            from: renaming.txn(step.from),
            to: renaming.txn(step.to),
            key: step.key === "" ? "" : renaming.key(step.key),
          })),
        }),
  };
}

function renameOp([kind, key, value]: Op, renaming: Renaming): Op {
  if (kind !== "r") return [kind, renaming.key(key), renaming.value(value as string)];
  const result = value === null ? null : typeof value === "string" ? renaming.value(value) : value.map(renaming.value);
  return ["r", renaming.key(key), result];
}

function renamePayload(payload: FinalPayload, renaming: Renaming): FinalPayload {
  if (payload.kind === "set") return { ...payload, elements: payload.elements.map(renaming.value) };
  if (payload.kind === "causal") return { ...payload, siblings: payload.siblings.map(renaming.value) };
  return { ...payload, value: payload.value === null ? null : renaming.value(payload.value) };
}

function renameKeys<T>(record: Readonly<Record<string, T>>, renaming: Renaming): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [renaming.key(key), value]));
}

function reverse(text: string): string {
  return [...text].reverse().join("");
}
