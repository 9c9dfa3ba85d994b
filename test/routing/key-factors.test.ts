/** Factor state: a node's newest state replaces its older one; decisions combine across nodes. */
import { FactorIndex, FactorTable, mergeFactorTable } from "../../src/routing/key-factors";

describe("factor tables", () => {
  it("keep each node's state of highest version, whatever the order received", () => {
    const older = { version: 1, factors: [{ key: "a", local: 3, global: 1 }] };
    const newer = { version: 2, factors: [] };
    const one: FactorTable = {};
    expect(mergeFactorTable(one, { n1: newer })).toBe(true);
    expect(mergeFactorTable(one, { n1: older })).toBe(false);
    const two: FactorTable = {};
    mergeFactorTable(two, { n1: older });
    mergeFactorTable(two, { n1: newer });
    expect(one).toEqual(two);
    expect(one.n1).toBe(newer);
  });

  it("combine decisions: the most nodes any node asked for, and each node's own actor count", () => {
    const index = new FactorIndex({
      n1: { version: 1, factors: [{ key: "hot", local: 4, global: 2 }] },
      n2: {
        version: 3,
        factors: [
          { key: "hot", local: 2, global: 3 },
          { key: "warm", local: 2, global: 1 },
        ],
      },
    });
    expect(index.globalOf("hot")).toBe(3);
    expect(index.localOf("n1", "hot")).toBe(4);
    expect(index.localOf("n2", "hot")).toBe(2);
    expect(index.localOf("n3", "hot")).toBe(0);
    expect(index.globalOf("cold")).toBe(0);
    expect([...index.keys()].sort()).toEqual(["hot", "warm"]);
  });

  it("name the keys whose combined factors changed between two tables", () => {
    const before = new FactorIndex({
      n1: {
        version: 1,
        factors: [
          { key: "a", local: 2, global: 1 },
          { key: "b", local: 2, global: 1 },
        ],
      },
    });
    const after = new FactorIndex({
      n1: {
        version: 2,
        factors: [
          { key: "a", local: 2, global: 1 },
          { key: "c", local: 3, global: 1 },
        ],
      },
    });
    expect(FactorIndex.changedKeys(before, after).sort()).toEqual(["b", "c"]);
  });
});
