/**
 * Adya's dependency graph over the transactions of docs/consistency.md §4.2. Nodes are
 * transaction ids (only graph transactions get edges). Edges:
 * - ww: consecutive versions of an LWW key;
 * - wr: writer of a value → a committed reader of it (any key: a value has one writer);
 * - rw: reader of an LWW version → writer of the next (a read of "absent" → the first writer).
 * Causal keys have no total version order, so they contribute wr edges only; the causal
 * checks cover them. O(versions + reads) edges, built in one pass each.
 */
import type { EdgeKind } from "./anomalies";
import type { Edge } from "./cycles";
import type { History } from "./history";
import type { VersionOrder } from "./versions";

/** An edge between transaction ids, with what made it. */
export interface LabelledEdge extends Edge {
  readonly kind: EdgeKind;
  /** The key that made the edge; "" for session order. */
  readonly key: string;
}

export function dependencyEdges(history: History, versions: VersionOrder): LabelledEdge[] {
  const { transactions, writes } = history;
  const edges: LabelledEdge[] = [];
  const add = (from: number, to: number, kind: EdgeKind, key: string) => {
    if (from !== to) edges.push({ from, to, kind, key });
  };
  for (const [key, order] of versions.lwwVersions) {
    for (let i = 1; i < order.length; i++) add(writes[order[i - 1]].txn, writes[order[i]].txn, "ww", key);
  }
  for (const read of history.reads) {
    for (const write of read.writes) {
      if (write >= 0 && transactions[writes[write].txn].isNode) add(writes[write].txn, read.txn, "wr", read.key);
    }
    const order = versions.lwwVersions.get(read.key);
    if (order === undefined || read.writes.length > 1) continue;
    // "Absent" sits below the first version. A value without a place in the order (unknown,
    // or overwritten within its transaction) has no known successor.
    let rank = -1;
    if (read.writes.length === 1) {
      rank = read.writes[0] >= 0 ? versions.rankOf(read.writes[0]) : -1;
      if (rank < 0) continue;
    }
    if (rank + 1 < order.length) add(read.txn, writes[order[rank + 1]].txn, "rw", read.key);
  }
  return edges;
}
