/** Turns ids into the names a witness shows. */
import type { Witness } from "../anomalies";
import type { LabelledEdge } from "../graph";
import type { History } from "../history";

/** Distinct transaction names, in the order given. */
export function transactionNames(history: History, txns: readonly number[]): string[] {
  return [...new Set(txns)].map((txn) => history.transactions[txn].name);
}

/** A cycle's transactions, keys and steps; `edges` run between transaction ids. */
export function cycleWitness(history: History, explanation: string, edges: readonly LabelledEdge[]): Witness {
  const onCycle = edges.map((edge) => edge.from);
  return {
    explanation,
    txns: transactionNames(history, onCycle),
    keys: [...new Set(edges.map((edge) => edge.key).filter((key) => key !== ""))],
    cycle: edges.map((edge) => ({
      from: history.transactions[edge.from].name,
      to: history.transactions[edge.to].name,
      kind: edge.kind,
      key: edge.key,
    })),
  };
}
