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
});
