/**
 * G1a: a committed read of a value whose writer failed (or that no transaction wrote).
 * G1b: a committed read of a value its writer overwrote later in the same transaction.
 * O(values read).
 */
import type { Anomaly } from "../anomalies";
import type { History } from "../history";
import { transactionNames } from "./witness";

export function abortedReadAnomalies(history: History): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const read of history.reads) {
    read.writes.forEach((write, position) => {
      const values = [read.values[position]];
      const keys = [read.key];
      if (write < 0) {
        const txns = transactionNames(history, [read.txn]);
        anomalies.push({
          anomalyClass: "G1a",
          witness: { explanation: "read a value nobody wrote", txns, keys, values },
        });
        return;
      }
      const { txn: writer, lastInTransaction } = history.writes[write];
      const txns = transactionNames(history, [read.txn, writer]);
      if (history.transactions[writer].outcome === "fail") {
        const explanation = "read a value of a failed transaction";
        anomalies.push({ anomalyClass: "G1a", witness: { explanation, txns, keys, values } });
      } else if (!lastInTransaction && writer !== read.txn) {
        const explanation = "read a value its transaction overwrote";
        anomalies.push({ anomalyClass: "G1b", witness: { explanation, txns, keys, values } });
      }
    });
  }
  return anomalies;
}
