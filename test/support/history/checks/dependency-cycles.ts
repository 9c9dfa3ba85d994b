/**
 * G0, G1c and G2 (docs/consistency.md §4.2): cycles of ww edges; of ww and wr edges through
 * at least one wr edge (a ww-only cycle is G0); of any edges through at least one rw edge.
 * One witness per strongly connected component: the shortest cycle through a candidate edge.
 * O(V + E) per class.
 */
import type { Anomaly, AnomalyClass, EdgeKind } from "../anomalies";
import { adjacencyOf, cyclesThroughCandidates, stronglyConnected } from "../cycles";
import type { LabelledEdge } from "../graph";
import type { History } from "../history";
import { cycleWitness } from "./witness";

interface CycleClass {
  readonly anomalyClass: AnomalyClass;
  readonly kinds: readonly EdgeKind[];
  readonly through: EdgeKind;
  readonly explanation: string;
}

const CYCLE_CLASSES: readonly CycleClass[] = [
  { anomalyClass: "G0", kinds: ["ww"], through: "ww", explanation: "a cycle of write-write dependencies" },
  { anomalyClass: "G1c", kinds: ["ww", "wr"], through: "wr", explanation: "a cycle of write and read dependencies" },
  {
    anomalyClass: "G2",
    kinds: ["ww", "wr", "rw"],
    through: "rw",
    explanation: "a cycle through an anti-dependency (observed, not promised)",
  },
];

export function dependencyCycleAnomalies(history: History, edges: readonly LabelledEdge[]): Anomaly[] {
  const nodeCount = history.transactions.length;
  const anomalies: Anomaly[] = [];
  for (const { anomalyClass, kinds, through, explanation } of CYCLE_CLASSES) {
    const adjacency = adjacencyOf(nodeCount, edges, (edge) => kinds.includes(edges[edge].kind));
    const components = stronglyConnected(nodeCount, edges, adjacency);
    const cycles = cyclesThroughCandidates(edges, adjacency, components, (edge) => edges[edge].kind === through);
    for (const cycle of cycles) {
      const steps = cycle.map((edge) => edges[edge]);
      const witness = cycleWitness(history, explanation, steps);
      anomalies.push({ anomalyClass, witness });
    }
  }
  return anomalies;
}
