/** The checker's answer (docs/consistency.md §4.2): plain JSON, written as verdict.json by a run. */
import { ANOMALY_CLASSES, type Anomaly, type AnomalyClass, type Witness } from "./anomalies";
import type { FaultEvent } from "./events";
import type { History } from "./history";
import { forbiddenClasses, type CausalScope, type Level } from "./levels";

/** Every occurrence is counted; a few witnesses per class say enough and keep verdict.json small. */
const WITNESSES_PER_CLASS_MAX = 20;

export interface ClassReport {
  readonly count: number;
  readonly forbidden: boolean;
  readonly witnesses: readonly Witness[];
  /** Why a class that occurred does not fail the run. */
  readonly note?: string;
}

export interface Verdict {
  readonly level: Level;
  readonly seed: number | null;
  readonly faults: readonly FaultEvent[];
  readonly counts: History["counts"];
  readonly causalScope: CausalScope;
  readonly lostWritesAllowed: boolean;
  readonly anomalies: Readonly<Record<AnomalyClass, ClassReport>>;
  /** No forbidden class occurred. */
  readonly valid: boolean;
}

export interface VerdictContext {
  readonly level: Level;
  readonly seed: number | null;
  readonly causalScope: CausalScope;
  readonly lostWritesAllowed: boolean;
}

export function verdictOf(history: History, found: readonly Anomaly[], context: VerdictContext): Verdict {
  const forbidden = forbiddenClasses(context.level, context.lostWritesAllowed);
  const byClass = new Map<AnomalyClass, Witness[]>(ANOMALY_CLASSES.map((anomalyClass) => [anomalyClass, []]));
  for (const { anomalyClass, witness } of found) byClass.get(anomalyClass)!.push(witness);
  const anomalies = {} as Record<AnomalyClass, ClassReport>;
  for (const [anomalyClass, witnesses] of byClass) {
    const note = witnesses.length > 0 && !forbidden.has(anomalyClass) ? noteFor(anomalyClass) : undefined;
    anomalies[anomalyClass] = {
      count: witnesses.length,
      forbidden: forbidden.has(anomalyClass),
      witnesses: witnesses.slice(0, WITNESSES_PER_CLASS_MAX),
      ...(note === undefined ? {} : { note }),
    };
  }
  const valid = ANOMALY_CLASSES.every(
    (anomalyClass) => !anomalies[anomalyClass].forbidden || anomalies[anomalyClass].count === 0,
  );
  return { ...context, faults: history.faults, counts: history.counts, anomalies, valid };
}

function noteFor(anomalyClass: AnomalyClass): string {
  if (anomalyClass === "G2") return "observed, not promised";
  if (anomalyClass === "LW") return "allowed by configuration: counted, not failed";
  return "allowed at this level";
}
