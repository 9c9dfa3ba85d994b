import fc from "fast-check";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { encodeStamped } from "../../src/lattices/causal-stamp";
import { LatticeType } from "../../src/lattices/lattice-type";
import { toByteMap } from "../../src/lattices/map";
import { maxU32 } from "../../src/lattices/max";
import { mergePayloads } from "../../src/lattices/merge";
import { encodeMultiCausalWire } from "../../src/lattices/multi-causal";
import { toByteSet } from "../../src/lattices/set-union";
import { clockCovers, vectorClock, type VectorClock } from "../../src/lattices/vector-clock";
import { CausalCut } from "../../src/consistency/causal-cut";
import { decodeStampedMultiCausal, dependencyStamps } from "../../src/consistency/causal-stamps";
import { isStable, type StableTimes } from "../../src/consistency/epoch-stamps";
import type { ValueRead } from "../../src/consistency/transport";

const utf8 = new TextEncoder();
const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"];
const WRITERS = ["w0", "w1", "w2"];
const EPOCH = 7;

const clockOf = (counters: readonly (readonly [string, number])[]): VectorClock =>
  toByteMap(
    counters
      .filter(([, counter]) => counter > 0)
      .map(([writer, counter]) => ({ key: utf8.encode(writer), value: counter })),
    maxU32,
  );

interface VersionSpec {
  writer: string;
  counter: number;
  stampMicros: number;
  dependencies: { key: string; writer: string; counter: number; stampMicros: number }[];
}

/** A stamped MULTI_CAUSAL value of one sibling, as a multi-key session writes it. */
function multiCausalValue(spec: VersionSpec): ValueRead {
  const clock = clockOf([[spec.writer, spec.counter]]);
  const byKey = new Map(spec.dependencies.map((dependency) => [dependency.key, dependency]));
  const dependencies = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  const stamped = encodeStamped({
    stampMicros: spec.stampMicros,
    baseMicros: 0,
    writer: utf8.encode(spec.writer),
    dependencyStamps: dependencies.map(({ key, stampMicros }) => ({
      key: utf8.encode(key),
      stampMicros,
      epoch: EPOCH,
    })),
    value: utf8.encode("v"),
    epoch: EPOCH,
    baseEpoch: 0,
  });
  const payload = encodeMultiCausalWire({
    first: clock,
    second: {
      first: toByteMap(
        dependencies.map(({ key, writer, counter }) => ({
          key: utf8.encode(key),
          value: clockOf([[writer, counter]]),
        })),
        vectorClock,
      ),
      second: toByteSet([encodeEnvelope({ clock, value: stamped })]),
    },
  });
  return { type: LatticeType.MULTI_CAUSAL, payload };
}

const versionSpec = fc.record({
  writer: fc.constantFrom(...WRITERS),
  counter: fc.integer({ min: 1, max: 3 }),
  stampMicros: fc.integer({ min: 1, max: 10 }),
  dependencies: fc.array(
    fc.record({
      key: fc.constantFrom(...KEYS),
      writer: fc.constantFrom(...WRITERS),
      counter: fc.integer({ min: 1, max: 3 }),
      stampMicros: fc.integer({ min: 1, max: 10 }),
    }),
    { maxLength: 4 },
  ),
});

const keyedSpecs = fc.dictionary(fc.constantFrom(...KEYS), versionSpec);

/**
 * The closure as first built (docs/consistency.md §2.8): drop fetched values with an
 * uncovered dependency until nothing changes. `close` computes it in one pass over the
 * dependencies; this is the definition it must agree with.
 */
function referenceClosure(
  cutValues: ReadonlyMap<string, ValueRead>,
  fetched: ReadonlyMap<string, ValueRead>,
  stable: StableTimes | undefined,
) {
  const decode = (value: ValueRead) => decodeStampedMultiCausal(value.payload);
  const joined = new Map(
    [...fetched].map(([key, value]) => {
      const floor = cutValues.get(key);
      const payload = floor === undefined ? value.payload : mergePayloads(value.type, floor.payload, value.payload)!;
      return [key, decode({ type: value.type, payload })] as const;
    }),
  );
  const cutClock = (key: string) => {
    const value = cutValues.get(key);
    return value === undefined ? vectorClock.bottom : decode(value).value.first;
  };
  const closed = new Set(joined.keys());
  const isStableDependency = (key: string, dependency: string) =>
    stable !== undefined && isStable(dependencyStamps(joined.get(key)!.stamps, dependency), stable);
  const covered = (key: string, needed: VectorClock) =>
    clockCovers(cutClock(key), needed) || (closed.has(key) && clockCovers(joined.get(key)!.value.first, needed));
  const dependenciesOf = (key: string) =>
    joined.get(key)!.value.second.first.map(({ key: name, value }) => [new TextDecoder().decode(name), value] as const);
  for (let changed = true; changed;) {
    changed = false;
    for (const key of closed) {
      const lacking = dependenciesOf(key).some(
        ([dependency, needed]) => !isStableDependency(key, dependency) && !covered(dependency, needed),
      );
      if (lacking) {
        closed.delete(key);
        changed = true;
      }
    }
  }
  let reliedMicros = 0;
  for (const key of closed)
    for (const [dependency, needed] of dependenciesOf(key))
      if (stable !== undefined && !covered(dependency, needed))
        reliedMicros = Math.max(reliedMicros, ...dependencyStamps(joined.get(key)!.stamps, dependency).values());
  const missing = new Map<string, VectorClock>();
  for (const key of joined.keys()) {
    if (closed.has(key)) continue;
    for (const [dependency, needed] of dependenciesOf(key)) {
      if (isStableDependency(key, dependency)) continue;
      const fetchedClock = joined.get(dependency)?.value.first ?? vectorClock.bottom;
      if (clockCovers(cutClock(dependency), needed) || clockCovers(fetchedClock, needed)) continue;
      missing.set(dependency, vectorClock.join(missing.get(dependency) ?? vectorClock.bottom, needed));
    }
  }
  return { closed, missing, reliedMicros };
}

describe("CausalCut.close", () => {
  it("closes a value whose dependency another fetched value covers, and leaves one whose dependency nothing covers", () => {
    const cut = new CausalCut();
    const dependency = { writer: "w1", counter: 1, stampMicros: 5 };
    const fetched = new Map([
      [
        "k0",
        multiCausalValue({ writer: "w0", counter: 1, stampMicros: 6, dependencies: [{ key: "k1", ...dependency }] }),
      ],
      ["k1", multiCausalValue({ writer: "w1", counter: 1, stampMicros: 5, dependencies: [] })],
      [
        "k2",
        multiCausalValue({ writer: "w2", counter: 1, stampMicros: 7, dependencies: [{ key: "k3", ...dependency }] }),
      ],
      [
        "k4",
        multiCausalValue({
          writer: "w2",
          counter: 2,
          stampMicros: 8,
          dependencies: [{ key: "k2", writer: "w2", counter: 1, stampMicros: 7 }],
        }),
      ],
    ]);
    const closure = cut.close(fetched);
    expect([...closure.closed.keys()].sort()).toEqual(["k0", "k1"]);
    expect(closure.blockedBy.get("k2")).toBe("k3");
    expect(closure.blockedBy.get("k4")).toBe("k2");
    expect([...closure.missing.keys()]).toEqual(["k3"]);
    // Stable at 5: k3's dependency is on every replica, so k2 and k4 close, relying on stamp 5.
    const stableAt5 = { anyMicros: 5, of: () => 5 };
    const withStable = cut.close(fetched, stableAt5);
    expect([...withStable.closed.keys()].sort()).toEqual(["k0", "k1", "k2", "k4"]);
    expect(withStable.reliedMicros).toBe(5);
  });

  it("agrees with the fixpoint definition on arbitrary cuts, fetches and stable times", () => {
    fc.assert(
      fc.property(
        keyedSpecs,
        keyedSpecs,
        fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        (cutSpecs, fetchedSpecs, stableMicros) => {
          const cut = new CausalCut();
          const cutValues = new Map(Object.entries(cutSpecs).map(([key, spec]) => [key, multiCausalValue(spec)]));
          const puts = [...cutValues].map(([key, value]) => ({ key, ...value }));
          cut.settle(cut.reserve(puts), puts);
          const fetched = new Map(Object.entries(fetchedSpecs).map(([key, spec]) => [key, multiCausalValue(spec)]));
          const stable = stableMicros === undefined ? undefined : { anyMicros: stableMicros, of: () => stableMicros };
          const expected = referenceClosure(new Map(puts.map(({ key }) => [key, cut.get(key)!])), fetched, stable);
          // Twice: the second close answers from what the first kept, and must not differ.
          for (let attempt = 0; attempt < 2; attempt++) {
            const closure = cut.close(fetched, stable);
            expect(new Set(closure.closed.keys())).toEqual(expected.closed);
            expect(closure.missing).toEqual(expected.missing);
            expect(closure.reliedMicros).toBe(expected.reliedMicros);
            expect(new Set(closure.blockedBy.keys())).toEqual(
              new Set([...fetched.keys()].filter((key) => !expected.closed.has(key))),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("CausalCut.knownPayload", () => {
  it("answers a fetched copy of the bytes the cut holds with the cut's own array, and anything else as given", () => {
    const cut = new CausalCut();
    const value = multiCausalValue({ writer: "w0", counter: 1, stampMicros: 6, dependencies: [] });
    cut.admit(new Map([["k0", value]]), new Map([["k0", value]]));
    const held = cut.get("k0")!.payload;
    // Decodes are kept by array: the same bytes fetched again must come back as the array already decoded.
    expect(cut.knownPayload("k0", held.slice())).toBe(held);
    const newer = multiCausalValue({ writer: "w0", counter: 2, stampMicros: 7, dependencies: [] }).payload;
    expect(cut.knownPayload("k0", newer)).toBe(newer);
    const elsewhere = held.slice();
    expect(cut.knownPayload("k1", elsewhere)).toBe(elsewhere);
  });
});
