/**
 * Session guarantees (docs/consistency.md §2.2), per session and key, in the key's version
 * order (stamps; clocks for causal keys). A transaction is one step of its session: its
 * reads and writes are compared with what the session read and wrote in earlier steps.
 * - S-RYW: a read does not reflect the session's last acknowledged write of the key;
 * - S-MR: a read does not reflect a version the session read before;
 * - S-MW: a write is not above the session's earlier writes of the key;
 * - S-WFR: a write is not above a version the session read before.
 * "Reflects" means returns it or a later version. Writes without a known version are
 * skipped. The floors keep only maximal versions (one for LWW, concurrent siblings for
 * causal keys), so the pass is O(ops × siblings).
 */
import type { Anomaly, AnomalyClass } from "../anomalies";
import type { History, Read } from "../history";
import type { VersionOrder } from "../versions";
import { transactionNames } from "./witness";

/** A version the session holds, and the step that brought it. */
interface Seen {
  readonly write: number;
  readonly txn: number;
}

/** What one session holds of one key; the arrays keep maximal versions only. */
interface KeyFloors {
  lastOwnWrite: Seen | undefined;
  ownWrites: Seen[];
  reads: Seen[];
}

export function sessionAnomalies(history: History, versions: VersionOrder): Anomaly[] {
  const readsByTransaction = new Map<number, Read[]>();
  for (const read of history.reads) {
    const reads = readsByTransaction.get(read.txn);
    if (reads === undefined) readsByTransaction.set(read.txn, [read]);
    else reads.push(read);
  }
  const checker = new SessionChecker(history, versions);
  for (const session of history.sessions.values()) {
    const floorsByKey = new Map<string, KeyFloors>();
    const floorsOf = (key: string) => {
      const floors = floorsByKey.get(key) ?? { lastOwnWrite: undefined, ownWrites: [], reads: [] };
      floorsByKey.set(key, floors);
      return floors;
    };
    for (const txn of session) {
      const reads = readsByTransaction.get(txn) ?? [];
      const writes = [...history.transactions[txn].lastWrites].filter(([, write]) => versions.placed(write));
      for (const read of reads) checker.checkRead(txn, read, floorsOf(read.key));
      for (const [key, write] of writes) checker.checkWrite(txn, key, write, floorsOf(key));
      // Only now: a step is compared with earlier steps, not with itself.
      for (const read of reads) checker.absorbRead(txn, read, floorsOf(read.key));
      for (const [key, write] of writes) checker.absorbWrite(txn, write, floorsOf(key));
    }
  }
  return checker.anomalies;
}

class SessionChecker {
  readonly anomalies: Anomaly[] = [];

  constructor(
    private readonly history: History,
    private readonly versions: VersionOrder,
  ) {}

  checkRead(txn: number, read: Read, floors: KeyFloors): void {
    const own = floors.lastOwnWrite;
    if (own !== undefined && this.reflects(read.writes, own.write) === false) {
      this.report("S-RYW", "a read missed the session's own earlier write", txn, read.key, own);
    }
    const behind = floors.reads.find((seen) => this.reflects(read.writes, seen.write) === false);
    if (behind !== undefined) {
      this.report("S-MR", "a read went back behind a version the session read before", txn, read.key, behind);
    }
  }

  checkWrite(txn: number, key: string, write: number, floors: KeyFloors): void {
    const earlier = floors.ownWrites.find((seen) => this.versions.before(seen.write, write) === false);
    if (earlier !== undefined) {
      this.report("S-MW", "a write was ordered below the session's earlier write", txn, key, earlier);
    }
    const read = floors.reads.find((seen) => this.versions.before(seen.write, write) === false);
    if (read !== undefined) {
      this.report("S-WFR", "a write was ordered below a version the session read before", txn, key, read);
    }
  }

  absorbRead(txn: number, read: Read, floors: KeyFloors): void {
    for (const write of read.writes) {
      if (write >= 0 && this.versions.placed(write)) floors.reads = this.withMaximal(floors.reads, { write, txn });
    }
  }

  absorbWrite(txn: number, write: number, floors: KeyFloors): void {
    if (this.history.transactions[txn].outcome === "ok") floors.lastOwnWrite = { write, txn };
    floors.ownWrites = this.withMaximal(floors.ownWrites, { write, txn });
  }

  /** Whether a read that returned `returned` shows `wanted` or a later version; undefined when versions are unknown. */
  private reflects(returned: readonly number[], wanted: number): boolean | undefined {
    let unknown = false;
    for (const write of returned) {
      const after = write < 0 ? undefined : write === wanted || this.versions.before(wanted, write);
      if (after === true) return true;
      if (after === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  }

  /** The floor's maximal versions after adding `seen`. */
  private withMaximal(floor: Seen[], seen: Seen): Seen[] {
    if (floor.some((kept) => this.versions.covers(kept.write, seen.write))) return floor;
    return [...floor.filter((kept) => this.versions.before(kept.write, seen.write) !== true), seen];
  }

  private report(anomalyClass: AnomalyClass, explanation: string, txn: number, key: string, seen: Seen): void {
    const witness = {
      explanation,
      txns: transactionNames(this.history, [txn, seen.txn]),
      keys: [key],
      values: [this.history.writes[seen.write].value],
    };
    this.anomalies.push({ anomalyClass, witness });
  }
}
