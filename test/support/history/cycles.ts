/**
 * Cycles in a directed graph: Tarjan's strongly connected components (iterative, so deep
 * histories do not overflow the stack), then per component the shortest cycle through one
 * of its candidate edges (breadth-first search inside the component).
 * Cost: O(V + E) for the components; O(V_c + E_c) per candidate tried in a component c,
 * with at most CYCLE_CANDIDATES_MAX candidates per component.
 */

export interface Edge {
  readonly from: number;
  readonly to: number;
}

/** Out-edges per node as edge indexes: those of node n are edges[offsets[n] .. offsets[n + 1]). */
export interface Adjacency {
  readonly offsets: Int32Array;
  readonly edges: Int32Array;
}

export interface Components {
  readonly componentOf: Int32Array;
  /** Members of each component, in reverse topological order: no component reaches an earlier one. */
  readonly members: readonly (readonly number[])[];
}

/** Trying every edge of a large component for the shortest cycle would be quadratic; a few keep witnesses short. */
const CYCLE_CANDIDATES_MAX = 8;

export function adjacencyOf(nodeCount: number, edges: readonly Edge[], include: (edge: number) => boolean): Adjacency {
  const offsets = new Int32Array(nodeCount + 1);
  let included = 0;
  for (let edge = 0; edge < edges.length; edge++) {
    if (!include(edge)) continue;
    offsets[edges[edge].from + 1]++;
    included++;
  }
  for (let node = 0; node < nodeCount; node++) offsets[node + 1] += offsets[node];
  const cursor = offsets.slice(0, nodeCount);
  const targets = new Int32Array(included);
  for (let edge = 0; edge < edges.length; edge++) {
    if (include(edge)) targets[cursor[edges[edge].from]++] = edge;
  }
  return { offsets, edges: targets };
}

export function stronglyConnected(nodeCount: number, edges: readonly Edge[], adjacency: Adjacency): Components {
  const order = new Int32Array(nodeCount).fill(-1);
  const low = new Int32Array(nodeCount);
  const cursor = new Int32Array(nodeCount);
  const onStack = new Uint8Array(nodeCount);
  const componentOf = new Int32Array(nodeCount).fill(-1);
  const members: number[][] = [];
  const stack: number[] = [];
  const calls: number[] = [];
  let visited = 0;
  const visit = (node: number) => {
    order[node] = low[node] = visited++;
    cursor[node] = adjacency.offsets[node];
    stack.push(node);
    onStack[node] = 1;
    calls.push(node);
  };
  for (let root = 0; root < nodeCount; root++) {
    if (order[root] !== -1) continue;
    visit(root);
    while (calls.length > 0) {
      const node = calls[calls.length - 1];
      if (cursor[node] < adjacency.offsets[node + 1]) {
        const next = edges[adjacency.edges[cursor[node]++]].to;
        if (order[next] === -1) visit(next);
        else if (onStack[next]) low[node] = Math.min(low[node], order[next]);
        continue;
      }
      calls.pop();
      if (calls.length > 0) {
        const caller = calls[calls.length - 1];
        low[caller] = Math.min(low[caller], low[node]);
      }
      if (low[node] !== order[node]) continue;
      const component: number[] = [];
      let member: number;
      do {
        member = stack.pop()!;
        onStack[member] = 0;
        componentOf[member] = members.length;
        component.push(member);
      } while (member !== node);
      members.push(component);
    }
  }
  return { componentOf, members };
}

/** The shortest cycle through `edge` inside its component, as edge indexes starting with `edge`. */
function shortestCycleThrough(
  edge: number,
  edges: readonly Edge[],
  adjacency: Adjacency,
  componentOf: Int32Array,
): number[] {
  const { from, to } = edges[edge];
  const component = componentOf[from];
  const reachedBy = new Map<number, number>([[to, -1]]);
  const queue = [to];
  for (let head = 0; head < queue.length && !reachedBy.has(from); head++) {
    const node = queue[head];
    for (let position = adjacency.offsets[node]; position < adjacency.offsets[node + 1]; position++) {
      const next = edges[adjacency.edges[position]].to;
      if (componentOf[next] !== component || reachedBy.has(next)) continue;
      reachedBy.set(next, adjacency.edges[position]);
      queue.push(next);
    }
  }
  const path: number[] = [];
  for (let node = from; node !== to; node = edges[reachedBy.get(node)!].from) path.push(reachedBy.get(node)!);
  return [edge, ...path.reverse()];
}

/**
 * One cycle per component holding a candidate edge (both ends inside it): the shortest
 * through the first CYCLE_CANDIDATES_MAX candidates found. Such an edge lies on a cycle
 * because its head reaches its tail within the component.
 */
export function cyclesThroughCandidates(
  edges: readonly Edge[],
  adjacency: Adjacency,
  components: Components,
  isCandidate: (edge: number) => boolean,
): number[][] {
  const cycles: number[][] = [];
  for (const component of components.members) {
    const candidates: number[] = [];
    for (const node of component) {
      for (let position = adjacency.offsets[node]; position < adjacency.offsets[node + 1]; position++) {
        const edge = adjacency.edges[position];
        const inside = components.componentOf[edges[edge].to] === components.componentOf[node];
        if (inside && isCandidate(edge) && candidates.length < CYCLE_CANDIDATES_MAX) candidates.push(edge);
      }
    }
    let shortest: number[] | null = null;
    for (const candidate of candidates) {
      const cycle = shortestCycleThrough(candidate, edges, adjacency, components.componentOf);
      if (shortest === null || cycle.length < shortest.length) shortest = cycle;
    }
    if (shortest !== null) cycles.push(shortest);
  }
  return cycles;
}
