/** Which anomaly classes each level rules out (docs/consistency.md §1). */
import type { AnomalyClass } from "./anomalies";

export const LEVELS = [
  "eventual",
  "read-your-writes",
  "monotonic-reads",
  "monotonic-writes",
  "writes-follow-reads",
  "read-uncommitted",
  "read-committed",
  "item-cut",
  "read-atomic",
  "causal-single-key",
  "causal-multi-key",
  "causal-multi-key-lww",
] as const;
export type Level = (typeof LEVELS)[number];
/** Whether happens-before spans all keys or is taken per key (docs/consistency.md §4.2, C). */
export type CausalScope = "single-key" | "multi-key";

const SESSION_CLASSES: readonly AnomalyClass[] = ["S-RYW", "S-MR", "S-MW", "S-WFR"];
const READ_COMMITTED: readonly AnomalyClass[] = ["G0", "G1a", "G1b", "G1c"];

const FORBIDDEN_BY_LEVEL: Readonly<Record<Level, readonly AnomalyClass[]>> = {
  eventual: [],
  "read-your-writes": ["S-RYW"],
  "monotonic-reads": ["S-MR"],
  "monotonic-writes": ["S-MW"],
  "writes-follow-reads": ["S-WFR"],
  "read-uncommitted": ["G0"],
  "read-committed": READ_COMMITTED,
  "item-cut": [...READ_COMMITTED, "IC"],
  // Read atomic includes item cut (§2.6 step 4).
  "read-atomic": [...READ_COMMITTED, "IC", "FR"],
  "causal-single-key": [...SESSION_CLASSES, "C"],
  "causal-multi-key": [...SESSION_CLASSES, "C"],
  // Causal+: the same classes; an LWW key's version order (by stamp) lets a write be overwritten by a concurrent one.
  "causal-multi-key-lww": [...SESSION_CLASSES, "C"],
};

/** Every level converges (no NC) and keeps acknowledged writes (no LW) unless the run allows losing them. */
export function forbiddenClasses(level: Level, lostWritesAllowed: boolean): ReadonlySet<AnomalyClass> {
  return new Set<AnomalyClass>([...FORBIDDEN_BY_LEVEL[level], "NC", ...(lostWritesAllowed ? [] : ["LW" as const])]);
}

/** The single-key level promises C per key only; every other level is judged by multi-key C. */
export function causalScopeOf(level: Level): CausalScope {
  return level === "causal-single-key" ? "single-key" : "multi-key";
}
