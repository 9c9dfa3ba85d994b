/**
 * C (docs/consistency.md §4.2): with HB the transitive closure of session order ∪ wr, a
 * committed read of k must return, for each write of k in its HB past, that write or a
 * later one (after it in HB or in k's version order), and never a value together with one
 * that overwrote it. T0 is in every transaction's past. A cycle of HB is a violation too.
 * Multi-key: one HB over all transactions. Single-key: per key, HB built from the
 * transactions touching k and the reads of k only.
 * Cost: vector time (see vector-time.ts), then per read O(sessions that wrote k × values
 * returned), plus the writes a read covers only by version order.
 */
import type { Anomaly } from "../anomalies";
import type { LabelledEdge } from "../graph";
import type { CausalScope } from "../levels";
import { INITIAL_TRANSACTION, type History, type Read } from "../history";
import { CausalOrder } from "../vector-time";
import type { VersionOrder } from "../versions";
import { cycleWitness, transactionNames } from "./witness";

/** A session's writes of one key (the graph transactions' last writes), in session order. */
interface SessionWrites {
  readonly writes: number[];
  /** LWW keys: the greatest rank among writes[0..i]; -1 where none is known (and for causal keys). */
  readonly greatestRank: number[];
}

/** key → session → its writes of the key. */
type WritesBySession = Map<string, Map<number, SessionWrites>>;

export function causalAnomalies(history: History, versions: VersionOrder, scope: CausalScope): Anomaly[] {
  const { transactions } = history;
  const nodes = transactions.filter((txn) => txn.isNode && txn.id !== INITIAL_TRANSACTION).map((txn) => txn.id);
  const readEdges = readEdgesOf(history);
  const writesBySession = writesBySessionOf(history, versions, nodes);
  const anomalies: Anomaly[] = [];
  const checkView = (txns: readonly number[], edges: readonly LabelledEdge[], reads: readonly Read[]) => {
    const order = new CausalOrder(history, txns, edges);
    for (const cycle of order.cycles) {
      const witness = cycleWitness(history, "a cycle of session order and reads: a read from the future", cycle);
      anomalies.push({ anomalyClass: "C", witness });
    }
    const checker = new CausalReadChecker(history, versions, order);
    for (const read of reads) {
      const anomaly = checker.check(read, writesBySession.get(read.key));
      if (anomaly !== null) anomalies.push(anomaly);
    }
  };
  if (scope === "multi-key") {
    checkView(nodes, readEdges, history.reads);
    return anomalies;
  }
  const readEdgesByKey = groupBy(readEdges, (edge) => edge.key);
  for (const [key, reads] of groupBy(history.reads, (read) => read.key)) {
    const touching = new Set(reads.map((read) => read.txn));
    for (const session of writesBySession.get(key)?.values() ?? []) {
      for (const write of session.writes) touching.add(history.writes[write].txn);
    }
    const txns = [...touching].sort((a, b) => a - b);
    checkView(txns, readEdgesByKey.get(key) ?? [], reads);
  }
  return anomalies;
}

/** Checks reads against one view's happens-before; at most one anomaly per read. */
class CausalReadChecker {
  constructor(
    private readonly history: History,
    private readonly versions: VersionOrder,
    private readonly order: CausalOrder,
  ) {}

  check(read: Read, writesBySession: ReadonlyMap<number, SessionWrites> | undefined): Anomaly | null {
    const { transactions } = this.history;
    const returned = read.writes.filter((write) => write >= 0 && transactions[this.writerOf(write)].isNode);
    for (const a of returned) {
      for (const b of returned) {
        const [writerA, writerB] = [this.writerOf(a), this.writerOf(b)];
        if (writerA === writerB || !(this.happensBefore(writerA, writerB) || this.versions.before(a, b))) continue;
        return this.report(read, "returned a value together with one that overwrote it", [writerA, writerB], [a, b]);
      }
    }
    const initial = transactions[INITIAL_TRANSACTION].lastWrites.get(read.key);
    if (initial !== undefined && returned.length === 0) {
      return this.report(
        read,
        "missed the initial value, which precedes every transaction",
        [INITIAL_TRANSACTION],
        [initial],
      );
    }
    const returnedRank = this.greatestRank(read, returned);
    for (const [process, session] of writesBySession ?? []) {
      const missed = this.missedWrite(read, returned, returnedRank, process, session);
      if (missed !== null) {
        return this.report(read, "missed a write in its causal past", [this.writerOf(missed)], [missed]);
      }
    }
    return null;
  }

  /**
   * The latest write of the session in the read's past that the read does not reflect, if
   * any. Walks back from the latest; stops once a write is covered in HB (so are all before
   * it) or, for LWW keys, once every write left is below the read's version.
   */
  private missedWrite(
    read: Read,
    returned: readonly number[],
    returnedRank: number,
    process: number,
    session: SessionWrites,
  ): number | null {
    const { order } = this;
    // The reader's own session counts up to the transaction before it; its own writes are IC's concern.
    const bound =
      process === this.history.transactions[read.txn].process
        ? order.position(read.txn) - 1
        : order.latestInPast(read.txn, process);
    for (let i = lastAtOrBefore(session.writes, bound, (write) => order.position(this.writerOf(write))); i >= 0; i--) {
      if (session.greatestRank[i] < returnedRank) return null;
      const wanted = session.writes[i];
      if (this.coveredInHistory(returned, this.writerOf(wanted))) return null;
      if (!this.coveredInVersions(returned, wanted)) return wanted;
    }
    return null;
  }

  /** LWW keys: the greatest rank returned (above every rank when one is unknown); -1 otherwise. */
  private greatestRank(read: Read, returned: readonly number[]): number {
    if (this.history.keyKinds.get(read.key) !== "lww") return -1;
    let greatest = -1;
    for (const write of returned) {
      const rank = this.versions.rankOf(write);
      greatest = rank < 0 ? Number.MAX_SAFE_INTEGER : Math.max(greatest, rank);
    }
    return greatest;
  }

  private coveredInHistory(returned: readonly number[], writer: number): boolean {
    for (const write of returned) {
      if (this.writerOf(write) === writer || this.happensBefore(writer, this.writerOf(write))) return true;
    }
    return false;
  }

  /** Unknown versions count as covered: nothing shows the read missed the write. */
  private coveredInVersions(returned: readonly number[], wanted: number): boolean {
    for (const write of returned) if (this.versions.before(wanted, write) !== false) return true;
    return false;
  }

  private writerOf(write: number): number {
    return this.history.writes[write].txn;
  }

  private happensBefore(a: number, b: number): boolean {
    if (a === INITIAL_TRANSACTION) return b !== INITIAL_TRANSACTION;
    return b !== INITIAL_TRANSACTION && this.order.happensBefore(a, b);
  }

  private report(read: Read, explanation: string, writers: number[], writes: number[]): Anomaly {
    const witness = {
      explanation,
      txns: transactionNames(this.history, [read.txn, ...writers]),
      keys: [read.key],
      values: writes.map((write) => this.history.writes[write].value),
    };
    return { anomalyClass: "C", witness };
  }
}

/** The index of the last item whose position is at most `bound`; positions increase along `items`. */
function lastAtOrBefore(items: readonly number[], bound: number, positionOf: (item: number) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (positionOf(items[middle]) <= bound) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

function readEdgesOf(history: History): LabelledEdge[] {
  const edges: LabelledEdge[] = [];
  for (const read of history.reads) {
    for (const write of read.writes) {
      if (write < 0) continue;
      const writer = history.writes[write].txn;
      if (writer !== read.txn && writer !== INITIAL_TRANSACTION && history.transactions[writer].isNode) {
        edges.push({ from: writer, to: read.txn, kind: "wr", key: read.key });
      }
    }
  }
  return edges;
}

function writesBySessionOf(history: History, versions: VersionOrder, nodes: readonly number[]): WritesBySession {
  const byKey: WritesBySession = new Map();
  for (const txn of nodes) {
    const { process, lastWrites } = history.transactions[txn];
    for (const [key, write] of lastWrites) {
      if (history.keyKinds.get(key) === "set") continue;
      const sessions = byKey.get(key) ?? new Map<number, SessionWrites>();
      byKey.set(key, sessions);
      const session = sessions.get(process) ?? { writes: [], greatestRank: [] };
      sessions.set(process, session);
      session.writes.push(write);
      session.greatestRank.push(Math.max(session.greatestRank.at(-1) ?? -1, versions.rankOf(write)));
    }
  }
  return byKey;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group === undefined) groups.set(keyOf(item), [item]);
    else group.push(item);
  }
  return groups;
}
