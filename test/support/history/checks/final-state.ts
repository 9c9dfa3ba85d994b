/**
 * What the replicas hold after healing (`final` events), per key:
 * - NC: replicas differ, or one holds what no join of the writes gives (a value of a failed
 *   or unknown write, an overwritten write, a causal sibling another one supersedes);
 * - LW: a write acknowledged (`ok`) or observed (a graph transaction's) is missing. LWW:
 *   the value must be the greatest such write, or a later one of an `info` transaction.
 *   Sets: every such element. Causal keys: every such write, or a later one.
 * At most one NC and one LW per key. O(final payloads × writes of the key).
 */
import type { Anomaly } from "../anomalies";
import { HistoryError, type FinalEvent, type FinalPayload, type Stamp } from "../events";
import type { History, LwwStamp, Write } from "../history";
import { compareLwwVersions, type VersionOrder } from "../versions";
import { transactionNames } from "./witness";

type LwwPayload = Extract<FinalPayload, { kind: "lww" }>;

/** Why a payload is wrong: `lost` (LW) names the writes missing; otherwise the payload holds something no join gives (NC). */
type Finding = { readonly lost: readonly number[] } | { readonly notAJoin: string };

export function finalStateAnomalies(history: History, versions: VersionOrder): Anomaly[] {
  const anomalies: Anomaly[] = [];
  // The writes that must survive: each graph transaction's last write of the key (T0 included).
  const requiredByKey = new Map<string, Write[]>();
  for (const write of history.writes) {
    if (!write.lastInTransaction || !history.transactions[write.txn].isNode) continue;
    const required = requiredByKey.get(write.key);
    if (required === undefined) requiredByKey.set(write.key, [write]);
    else required.push(write);
  }
  for (const [key, finals] of finalsByKey(history.finals)) {
    const payloads = new Map<string, FinalPayload>();
    for (const { payload } of finals) payloads.set(canonical(payload), payload);
    const replicas = finals.map((final) => final.replica);
    if (payloads.size > 1) {
      const witness = { explanation: "replicas differ after healing", txns: [], keys: [key], replicas };
      anomalies.push({ anomalyClass: "NC", witness });
    }
    const required = requiredByKey.get(key) ?? [];
    const findings = [...payloads.values()].map((payload) => judge(history, versions, required, payload));
    const notAJoin = findings.find((finding) => "notAJoin" in finding);
    if (notAJoin !== undefined && "notAJoin" in notAJoin) {
      const witness = { explanation: notAJoin.notAJoin, txns: [], keys: [key], replicas };
      anomalies.push({ anomalyClass: "NC", witness });
    }
    const lost = [...new Set(findings.flatMap((finding) => ("lost" in finding ? finding.lost : [])))];
    if (lost.length > 0) {
      const writers = lost.map((write) => history.writes[write].txn);
      const txns = transactionNames(history, writers);
      const values = lost.map((write) => history.writes[write].value);
      const witness = {
        explanation: "an acknowledged or observed write is missing",
        txns,
        keys: [key],
        values,
        replicas,
      };
      anomalies.push({ anomalyClass: "LW", witness });
    }
  }
  return anomalies;
}

function judge(history: History, versions: VersionOrder, required: readonly Write[], payload: FinalPayload): Finding {
  if (payload.kind === "set") {
    if (!payload.elements.every((element) => mayExist(history, element))) {
      return { notAJoin: "holds an element no ok or info transaction added" };
    }
    const elements = new Set(payload.elements);
    return { lost: required.filter((write) => !elements.has(write.value)).map((write) => write.id) };
  }
  if (payload.kind === "causal") {
    const holds = payload.siblings.map((value) => history.writeOfValue.get(value) ?? -1);
    if (payload.siblings.some((value) => !mayExist(history, value))) {
      return { notAJoin: "holds a value no ok or info transaction wrote" };
    }
    if (holds.some((a) => holds.some((b) => versions.before(a, b) === true))) {
      return { notAJoin: "keeps a sibling that another sibling supersedes" };
    }
    // A write without a known clock may be covered: nothing shows it was lost.
    const reflected = (write: number) => holds.some((held) => held === write || versions.before(write, held) !== false);
    return { lost: required.filter((write) => !reflected(write.id)).map((write) => write.id) };
  }
  return judgeLww(history, required, payload);
}

function judgeLww(history: History, required: readonly Write[], payload: LwwPayload): Finding {
  let greatest: Write | undefined;
  for (const write of required) {
    if (write.stamp === null) continue;
    if (greatest === undefined || compareLwwVersions(write.stamp, write.value, greatest.stamp!, greatest.value) > 0) {
      greatest = write;
    }
  }
  if (payload.value === null) return { lost: greatest === undefined ? [] : [greatest.id] };
  if (!mayExist(history, payload.value)) return { notAJoin: "holds a value no ok or info transaction wrote" };
  const held = history.writes[history.writeOfValue.get(payload.value)!];
  if (!held.lastInTransaction) return { notAJoin: "holds a write its own transaction overwrote" };
  if (greatest === undefined || held.id === greatest.id) return { lost: [] };
  const heldStamp = held.stamp ?? stampOf(payload.stamp);
  // An info write of unknown stamp may have been the last: nothing shows it was not.
  if (heldStamp === null) return { lost: [] };
  const below = compareLwwVersions(heldStamp, held.value, greatest.stamp!, greatest.value) < 0;
  return { lost: below ? [greatest.id] : [] };
}

/** Written or added by an `ok` or `info` transaction, or present before the run. */
function mayExist(history: History, value: string): boolean {
  const write = history.writeOfValue.get(value);
  return write !== undefined && history.transactions[history.writes[write].txn].outcome !== "fail";
}

function stampOf(stamp: Stamp | undefined): LwwStamp | null {
  return stamp === undefined ? null : { stamp: BigInt(stamp[0]), writeId: stamp[1] };
}

/** Sorted, so that replicas holding the same siblings or elements in another order compare equal. */
function canonical(payload: FinalPayload): string {
  if (payload.kind === "lww") return JSON.stringify([payload.kind, payload.value, payload.stamp ?? null]);
  const items = payload.kind === "set" ? payload.elements : payload.siblings;
  return JSON.stringify([payload.kind, [...items].sort()]);
}

function finalsByKey(finals: readonly FinalEvent[]): Map<string, FinalEvent[]> {
  const byKey = new Map<string, FinalEvent[]>();
  for (const final of finals) {
    const events = byKey.get(final.key) ?? [];
    if (events.some((event) => event.replica === final.replica)) {
      throw new HistoryError("HISTORY_INVALID", `two final events for ${final.key} on replica ${final.replica}`);
    }
    events.push(final);
    byKey.set(final.key, events);
  }
  return byKey;
}
