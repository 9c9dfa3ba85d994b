/** The anomaly classes of docs/consistency.md §1 and how the checker reports one occurrence. */

export const ANOMALY_CLASSES = [
  "G0",
  "G1a",
  "G1b",
  "G1c",
  "FR",
  "IC",
  "S-RYW",
  "S-MR",
  "S-MW",
  "S-WFR",
  "C",
  "NC",
  "LW",
  "G2",
] as const;
export type AnomalyClass = (typeof ANOMALY_CLASSES)[number];

/** ww, wr, rw: Adya's dependencies; so: session order (the causal checks' happens-before). */
export type EdgeKind = "ww" | "wr" | "rw" | "so";

export interface CycleStep {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** The key that made the edge; "" for session order. */
  readonly key: string;
}

/** Names as recorded: transaction names (`txn`, or T0), keys, values, replicas. */
export interface Witness {
  readonly explanation: string;
  readonly txns: readonly string[];
  readonly keys: readonly string[];
  readonly values?: readonly string[];
  readonly replicas?: readonly string[];
  readonly cycle?: readonly CycleStep[];
}

export interface Anomaly {
  readonly anomalyClass: AnomalyClass;
  readonly witness: Witness;
}
