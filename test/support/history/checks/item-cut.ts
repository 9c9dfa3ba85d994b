/**
 * IC: within one committed transaction, two reads of a key differ with no write of it by
 * the transaction between them, or a read after the transaction's own write of the key
 * does not return that write. O(ops).
 */
import type { Anomaly } from "../anomalies";
import type { History } from "../history";
import { transactionNames } from "./witness";

interface KeyState {
  /** What the last read since the last own write returned. */
  lastRead?: readonly string[];
  ownWrite?: string;
}

export function itemCutAnomalies(history: History): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const txn of history.transactions) {
    if (txn.outcome !== "ok") continue;
    const states = new Map<string, KeyState>();
    const report = (key: string, explanation: string, values: string[]) => {
      const witness = { explanation, txns: transactionNames(history, [txn.id]), keys: [key], values };
      anomalies.push({ anomalyClass: "IC", witness });
    };
    for (const [kind, key, result] of txn.ops) {
      if (kind === "a" || history.keyKinds.get(key) === "set") continue;
      if (kind === "w") {
        states.set(key, { ownWrite: result as string });
        continue;
      }
      const state = states.get(key) ?? {};
      const values = result === null ? [] : typeof result === "string" ? [result] : result;
      if (state.ownWrite !== undefined && !values.includes(state.ownWrite)) {
        report(key, "a read after the transaction's own write did not return it", [state.ownWrite, ...values]);
      } else if (state.ownWrite === undefined && state.lastRead !== undefined && !sameValues(state.lastRead, values)) {
        report(key, "two reads of the key in one transaction differ", [...state.lastRead, ...values]);
      }
      states.set(key, { ...state, lastRead: values });
    }
  }
  return anomalies;
}

/** Siblings compare as sets: replicas may return them in any order. */
function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}
