import fc from "fast-check";
import { ReplicationFactor, ReplicationFactors } from "../../src/routing/replication-factors";

const entry = fc.record({
  key: fc.constantFrom("a", "b", "c", "d"),
  factor: fc.integer({ min: 1, max: 8 }),
  version: fc.integer({ min: 1, max: 20 }),
});
const updates = fc.array(entry, { maxLength: 12 });

function joined(...parts: ReplicationFactor[][]): Record<string, ReplicationFactor> {
  const factors = new ReplicationFactors();
  for (const part of parts) factors.merge(part);
  return Object.fromEntries([...factors.values()].map((value) => [value.key, value]));
}

describe("ReplicationFactors (a map lattice of versioned factors)", () => {
  it("merges associatively, commutatively and idempotently", () => {
    fc.assert(
      fc.property(updates, updates, updates, (a, b, c) => {
        expect(joined(a, b)).toEqual(joined(b, a));
        expect(joined(a, b, c)).toEqual(joined(a, [...b, ...c]));
        expect(joined(a, a)).toEqual(joined(a));
        expect(joined([...a].reverse())).toEqual(joined(a));
      }),
    );
  });

  it("keeps the larger version, then the larger factor, and reports only what changed", () => {
    const factors = new ReplicationFactors();
    expect(factors.merge([{ key: "k", factor: 4, version: 2 }])).toHaveLength(1);
    expect(factors.merge([{ key: "k", factor: 8, version: 1 }])).toEqual([]); // older decision
    expect(factors.merge([{ key: "k", factor: 1, version: 3 }])).toEqual([{ key: "k", factor: 1, version: 3 }]); // cooled down
    expect(factors.merge([{ key: "k", factor: 2, version: 3 }])).toHaveLength(1); // tie: larger factor
    expect(factors.merge([{ key: "k", factor: 2, version: 3 }])).toEqual([]); // idempotent
    expect(factors.get("k")).toEqual({ key: "k", factor: 2, version: 3 });
  });

  it("refuses entries that are not factors", () => {
    const factors = new ReplicationFactors();
    expect(() => factors.merge([{ key: "k", factor: 0, version: 1 }])).toThrow(RangeError);
    expect(() => factors.merge([{ key: "k", factor: 1.5, version: 1 }])).toThrow(RangeError);
    expect(() => factors.merge([{ key: "k", factor: 2, version: Number.NaN }])).toThrow(RangeError);
  });

  it("settling drops default entries at or below the version and ignores later copies of older updates", () => {
    const factors = new ReplicationFactors();
    const isDefault = (factor: number) => factor <= 1;
    factors.merge([
      { key: "cooled", factor: 4, version: 1 },
      { key: "hot", factor: 4, version: 2 },
      { key: "cooled", factor: 1, version: 3 },
      { key: "recent", factor: 1, version: 5 },
    ]);
    expect(factors.settle(4, isDefault)).toEqual(["cooled"]);
    expect([...factors.values()].map(({ key }) => key)).toEqual(["hot", "recent"]);
    expect(factors.settled).toBe(4);
    // A duplicate of the old raise cannot bring the dropped key back; a new decision can.
    expect(factors.merge([{ key: "cooled", factor: 4, version: 1 }])).toEqual([]);
    expect(factors.merge([{ key: "hot", factor: 1, version: 4 }])).toEqual([]);
    expect(factors.merge([{ key: "cooled", factor: 2, version: 6 }])).toHaveLength(1);
    // Settling never goes back, and a smaller version changes nothing.
    expect(factors.settle(2, isDefault)).toEqual([]);
    expect(factors.settled).toBe(4);
    expect(() => factors.settle(Number.NaN, isDefault)).toThrow(RangeError);
  });

  it("holders that saw the same updates agree after settling, whatever order they merged them in", () => {
    fc.assert(
      fc.property(updates, fc.integer({ min: 0, max: 20 }), (all, settledVersion) => {
        const isDefault = (factor: number) => factor <= 2;
        const forward = new ReplicationFactors();
        const backward = new ReplicationFactors();
        forward.merge(all);
        backward.merge([...all].reverse());
        forward.settle(settledVersion, isDefault);
        backward.settle(settledVersion, isDefault);
        // Late copies of anything already seen change neither.
        forward.merge(all);
        backward.merge(all);
        expect([...forward.values()].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual([...backward.values()].sort((a, b) => (a.key < b.key ? -1 : 1)));
      }),
    );
  });
});
