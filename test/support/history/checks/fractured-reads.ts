/**
 * FR (RAMP's fractured read): a committed T reads x from Ti (not T0), Ti wrote y, and T's
 * read of y returned a version below Ti's or nothing. Reads after T's own write of a key
 * are left out (they return T's write). LWW keys only: read atomic is defined on them.
 * O(reads × keys written by the writer read).
 */
import type { Anomaly } from "../anomalies";
import { INITIAL_TRANSACTION, type History, type Read } from "../history";
import type { VersionOrder } from "../versions";
import { transactionNames } from "./witness";

export function fracturedReadAnomalies(history: History, versions: VersionOrder): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const [txn, reads] of externalReadsByTransaction(history)) {
    for (const readOfX of reads.values()) {
      if (readOfX.writes.length !== 1 || readOfX.writes[0] < 0) continue;
      const writer = history.writes[readOfX.writes[0]].txn;
      if (writer === txn || writer === INITIAL_TRANSACTION) continue;
      for (const [y, writeOfY] of history.transactions[writer].lastWrites) {
        const readOfY = reads.get(y);
        if (y === readOfX.key || readOfY === undefined || versions.rankOf(writeOfY) < 0) continue;
        const returned = readOfY.writes.length === 1 ? readOfY.writes[0] : -1;
        const below = readOfY.writes.length === 0 || (returned >= 0 && versions.before(returned, writeOfY) === true);
        if (!below) continue;
        const txns = transactionNames(history, [txn, writer, ...(returned >= 0 ? [history.writes[returned].txn] : [])]);
        const explanation = "read one write of a transaction and an older version of another key it wrote";
        anomalies.push({ anomalyClass: "FR", witness: { explanation, txns, keys: [readOfX.key, y] } });
      }
    }
  }
  return anomalies;
}

/** Per committed transaction, its first read of each LWW key it had not written before reading. */
function externalReadsByTransaction(history: History): Map<number, Map<string, Read>> {
  const byTransaction = new Map<number, Map<string, Read>>();
  // Reads come in transaction and op order: one scan per transaction finds its earlier writes.
  let current = -1;
  let scanned = 0;
  let written = new Set<string>();
  for (const read of history.reads) {
    if (read.txn !== current) [current, scanned, written] = [read.txn, 0, new Set()];
    const ops = history.transactions[read.txn].ops;
    for (; scanned < read.opIndex; scanned++) if (ops[scanned][0] === "w") written.add(ops[scanned][1]);
    if (written.has(read.key) || history.keyKinds.get(read.key) !== "lww") continue;
    const reads = byTransaction.get(read.txn) ?? new Map<string, Read>();
    byTransaction.set(read.txn, reads);
    if (!reads.has(read.key)) reads.set(read.key, read);
  }
  return byTransaction;
}
