/**
 * Happens-before (HB), the transitive closure of session order ∪ wr, as vector time: one
 * entry per session, holding the latest position in that session that a transaction has
 * in its past. A pass in topological order over the strongly connected components computes
 * it: O((V + E) × P) time and O(V × P) memory for P sessions, where a transitive closure
 * would take O(V³). A cycle of HB (a read from the future) makes its members mutually
 * before each other and is reported as a cycle.
 */
import { adjacencyOf, cyclesThroughCandidates, stronglyConnected, type Adjacency } from "./cycles";
import type { LabelledEdge } from "./graph";
import type { History } from "./history";

export class CausalOrder {
  /** Each cycle of HB, as edges between transaction ids. */
  readonly cycles: readonly (readonly LabelledEdge[])[];
  private readonly localOf = new Map<number, number>();
  private readonly processSlot = new Map<number, number>();
  private readonly slotOf: Int32Array;
  private readonly positionOf: Int32Array;
  private readonly componentOf: Int32Array;
  /** componentCount × processCount entries: the latest position of each session in the component's past. */
  private readonly vectorTime: Int32Array;

  /** `txns`: the view's transactions in id order (so in session order); `reads`: its wr edges. */
  constructor(history: History, txns: readonly number[], reads: readonly LabelledEdge[]) {
    const lastOfSession = new Map<number, number>();
    const edges: LabelledEdge[] = [];
    this.slotOf = new Int32Array(txns.length);
    this.positionOf = new Int32Array(txns.length);
    txns.forEach((txn, local) => {
      const process = history.transactions[txn].process;
      if (!this.processSlot.has(process)) this.processSlot.set(process, this.processSlot.size);
      const previous = lastOfSession.get(process);
      this.positionOf[local] = previous === undefined ? 0 : this.positionOf[previous] + 1;
      if (previous !== undefined) edges.push({ from: previous, to: local, kind: "so", key: "" });
      this.slotOf[local] = this.processSlot.get(process)!;
      this.localOf.set(txn, local);
      lastOfSession.set(process, local);
    });
    for (const read of reads) {
      const from = this.localOf.get(read.from);
      const to = this.localOf.get(read.to);
      if (from !== undefined && to !== undefined && from !== to) edges.push({ ...read, from, to });
    }
    const adjacency = adjacencyOf(txns.length, edges, () => true);
    const components = stronglyConnected(txns.length, edges, adjacency);
    this.componentOf = components.componentOf;
    this.vectorTime = this.propagate(edges, adjacency, components.members);
    this.cycles = cyclesThroughCandidates(edges, adjacency, components, () => true).map((cycle) =>
      cycle.map((edge) => ({ ...edges[edge], from: txns[edges[edge].from], to: txns[edges[edge].to] })),
    );
  }

  /** Whether transaction `a` happened before `b` (both in the view, a ≠ b). */
  happensBefore(a: number, b: number): boolean {
    const localA = this.localOf.get(a)!;
    return a !== b && this.positionOf[localA] <= this.entry(b, this.slotOf[localA]);
  }

  /** The transaction's position in its session, counting only the view's transactions. */
  position(txn: number): number {
    return this.positionOf[this.localOf.get(txn)!];
  }

  /** The latest position in `process`'s session that is in the past of `txn` (itself included); -1 if none. */
  latestInPast(txn: number, process: number): number {
    const slot = this.processSlot.get(process);
    return slot === undefined ? -1 : this.entry(txn, slot);
  }

  private entry(txn: number, slot: number): number {
    return this.vectorTime[this.componentOf[this.localOf.get(txn)!] * this.processSlot.size + slot];
  }

  /** Components come sinks first, so walking them backwards visits every predecessor first. */
  private propagate(
    edges: readonly LabelledEdge[],
    outgoing: Adjacency,
    members: readonly (readonly number[])[],
  ): Int32Array {
    const width = this.processSlot.size;
    const vectorTime = new Int32Array(members.length * width).fill(-1);
    for (let local = 0; local < this.positionOf.length; local++) {
      const cell = this.componentOf[local] * width + this.slotOf[local];
      vectorTime[cell] = Math.max(vectorTime[cell], this.positionOf[local]);
    }
    for (let component = members.length - 1; component >= 0; component--) {
      for (const local of members[component]) {
        for (let position = outgoing.offsets[local]; position < outgoing.offsets[local + 1]; position++) {
          const successor = this.componentOf[edges[outgoing.edges[position]].to];
          if (successor === component) continue;
          for (let slot = 0; slot < width; slot++) {
            const cell = successor * width + slot;
            vectorTime[cell] = Math.max(vectorTime[cell], vectorTime[component * width + slot]);
          }
        }
      }
    }
    return vectorTime;
  }
}
