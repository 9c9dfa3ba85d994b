/**
 * A model of docs/causal-dots.md §4, checked before it is built: single-key causal with
 * replica-named dots and dotted causal contexts (a version vector plus the dots beyond it),
 * one key, replicas that join by the multi-value register's rule, and sessions whose floor
 * is the join of what they read and their own writes' dots. The checker works from the
 * history alone (who read what, and what each session had observed when it wrote), not
 * from the contexts, so it judges the design rather than restating it. The two ways of §3
 * that were built and failed are the broken variants, and the checker must catch both.
 */
import fc from "fast-check";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xd075;
const REPLICAS = ["r0", "r1", "r2"];
const SESSIONS = 4;

type Dot = string; // "replica:counter"
const dotOf = (replica: string, counter: number): Dot => `${replica}:${counter}`;
const partsOf = (dot: Dot): [string, number] => {
  const at = dot.lastIndexOf(":");
  return [dot.slice(0, at), Number(dot.slice(at + 1))];
};

/** A dotted causal context: every dot up to `vector[id]`, and the dots in `cloud` beyond. */
class Context {
  constructor(
    readonly vector = new Map<string, number>(),
    readonly cloud = new Set<Dot>(),
  ) {}

  has(dot: Dot): boolean {
    const [id, counter] = partsOf(dot);
    return counter <= (this.vector.get(id) ?? 0) || this.cloud.has(dot);
  }

  with(dot: Dot): Context {
    const joined = this.join(new Context());
    joined.cloud.add(dot);
    joined.compact();
    return joined;
  }

  join(other: Context): Context {
    const vector = new Map(this.vector);
    for (const [id, counter] of other.vector) vector.set(id, Math.max(vector.get(id) ?? 0, counter));
    const joined = new Context(vector, new Set([...this.cloud, ...other.cloud]));
    joined.compact();
    return joined;
  }

  /** The dots contiguous with the vector move into it. */
  private compact(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (const dot of this.cloud) {
        const [id, counter] = partsOf(dot);
        const top = this.vector.get(id) ?? 0;
        if (counter <= top) this.cloud.delete(dot);
        else if (counter === top + 1) {
          this.vector.set(id, counter);
          this.cloud.delete(dot);
          moved = true;
        }
      }
    }
  }

  /** The same context read as a version vector alone: a broken variant (§3, finding 2). */
  asVectorOnly(): Context {
    const vector = new Map(this.vector);
    for (const dot of this.cloud) {
      const [id, counter] = partsOf(dot);
      vector.set(id, Math.max(vector.get(id) ?? 0, counter));
    }
    return new Context(vector);
  }

  key(): string {
    return JSON.stringify([[...this.vector].sort(), [...this.cloud].sort()]);
  }
}

/** A key's value: its context and its versions by dot (each a written value). */
interface State {
  readonly context: Context;
  readonly versions: ReadonlyMap<Dot, string>;
}

const EMPTY: State = { context: new Context(), versions: new Map() };

/** The multi-value register's join: a version stays unless the other side's context names its dot without holding it. */
function join(a: State, b: State): State {
  const versions = new Map<Dot, string>();
  for (const [dot, value] of a.versions) if (b.versions.has(dot) || !b.context.has(dot)) versions.set(dot, value);
  for (const [dot, value] of b.versions) if (a.versions.has(dot) || !a.context.has(dot)) versions.set(dot, value);
  return { context: a.context.join(b.context), versions };
}

const stateKey = (state: State) => JSON.stringify([state.context.key(), [...state.versions].sort()]);

type Variant = "as designed" | "floor from the stored value" | "version-vector contexts";

interface Session {
  floor: State;
  /** Every write this session has observed, its own included, with everything those had observed. */
  observed: Set<string>;
}

interface Run {
  /** Per write (by value), what its session had observed when it wrote it: its causal past. */
  pasts: Map<string, Set<string>>;
  violations: string[];
  replicas: State[];
}

type Step =
  | { kind: "read"; session: number; replica: number }
  | { kind: "write"; session: number; replica: number }
  | { kind: "gossip"; from: number; to: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("read" as const), session: fc.nat(SESSIONS - 1), replica: fc.nat(2) }),
  fc.record({ kind: fc.constant("write" as const), session: fc.nat(SESSIONS - 1), replica: fc.nat(2) }),
  fc.record({ kind: fc.constant("gossip" as const), from: fc.nat(2), to: fc.nat(2) }),
);

function run(steps: readonly Step[], variant: Variant): Run {
  const replicas: State[] = REPLICAS.map(() => EMPTY);
  const sessions: Session[] = Array.from({ length: SESSIONS }, () => ({ floor: EMPTY, observed: new Set() }));
  const pasts = new Map<string, Set<string>>();
  const violations: string[] = [];
  const contextOf = (context: Context) => (variant === "version-vector contexts" ? context.asVectorOnly() : context);

  const check = (index: number, shown: readonly string[]) => {
    const session = sessions[index];
    // Read your writes, monotonic reads, causality: what it observed is shown, or something that overwrote it.
    for (const write of session.observed)
      if (!shown.some((value) => value === write || pasts.get(value)!.has(write)))
        violations.push(`s${index} missed ${write}, shown [${shown}]`);
    // No overwritten sibling: nothing shown beside a write whose writer had observed it.
    for (const value of shown)
      if (shown.some((other) => pasts.get(other)!.has(value)))
        violations.push(`s${index} shown ${value} beside what overwrote it, [${shown}]`);
  };

  steps.forEach((next, n) => {
    if (next.kind === "gossip") {
      replicas[next.to] = join(replicas[next.to], replicas[next.from]);
      return;
    }
    const session = sessions[next.session];
    if (next.kind === "read") {
      session.floor = join(session.floor, replicas[next.replica]);
      const shown = [...session.floor.versions.values()];
      for (const value of shown) {
        session.observed.add(value);
        for (const earlier of pasts.get(value)!) session.observed.add(earlier);
      }
      check(next.session, shown);
      return;
    }
    const value = `s${next.session}.${n}`;
    const replica = REPLICAS[next.replica];
    const stored = replicas[next.replica];
    const sent = contextOf(session.floor.context);
    const dot = dotOf(replica, (stored.context.vector.get(replica) ?? 0) + 1);
    replicas[next.replica] = join(stored, { context: contextOf(sent.with(dot)), versions: new Map([[dot, value]]) });
    pasts.set(value, new Set(session.observed));
    session.floor =
      variant === "floor from the stored value"
        ? join(session.floor, replicas[next.replica])
        : join(session.floor, { context: sent.with(dot), versions: new Map([[dot, value]]) });
    session.observed.add(value);
  });

  // Convergence: every replica joins every other's state until none changes; then all are equal.
  for (let changed = true; changed;) {
    changed = false;
    for (let to = 0; to < replicas.length; to++)
      for (let from = 0; from < replicas.length; from++) {
        const joined = join(replicas[to], replicas[from]);
        if (stateKey(joined) !== stateKey(replicas[to])) changed = true;
        replicas[to] = joined;
      }
  }
  if (new Set(replicas.map(stateKey)).size !== 1) violations.push("replicas did not converge");
  // What survives is exactly the writes no other write's writer had observed.
  const survivors = [...replicas[0].versions.values()].sort();
  const maximal = [...pasts.keys()].filter((value) => ![...pasts.values()].some((past) => past.has(value))).sort();
  if (JSON.stringify(survivors) !== JSON.stringify(maximal))
    violations.push(`converged to [${survivors}], the writes no other overwrote are [${maximal}]`);
  return { pasts, violations, replicas };
}

describe("replica-named dots with dotted causal contexts (a model of docs/causal-dots.md §4)", () => {
  it("keeps every session's guarantees and converges to exactly the writes no other overwrote", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        expect(run(steps, "as designed").violations).toEqual([]);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("keeps a key's clock to an entry per replica that wrote it, whatever the writing sessions", () => {
    // Every session writes and reads at every replica in turn; gossip between all of them.
    const steps: Step[] = Array.from({ length: 400 }, (_, n): Step => {
      const round = Math.floor(n / 3);
      if (n % 3 === 2) return { kind: "gossip", from: round % 3, to: (round + 1) % 3 };
      return { kind: n % 3 === 0 ? "write" : "read", session: round % SESSIONS, replica: (round + n) % 3 };
    });
    const { replicas, violations } = run(steps, "as designed");
    expect(violations).toEqual([]);
    expect([...replicas[0].context.vector.keys()].sort()).toEqual(REPLICAS);
    expect(replicas[0].context.cloud.size).toBe(0);
  });

  it.each<[Variant, RegExp]>([
    ["floor from the stored value", /missed|beside|converged to/],
    ["version-vector contexts", /missed|beside|converged to/],
  ])("is caught when built as §3 tried: %s", (variant, found) => {
    let caught: string | undefined;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const [violation] = run(steps, variant).violations;
        caught ??= violation;
        return true;
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(caught).toMatch(found);
  });
});
