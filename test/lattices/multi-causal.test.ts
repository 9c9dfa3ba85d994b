import { decodeMultiCausal, encodeMultiCausal, LatticeType, mergePayloads } from "../../src/lattices";
import { fromHex, hex } from "./helpers";

type Clock = Record<string, number>;
const multi = (vectorClock: Clock, dependencies: [string, Clock][], values: string[]) =>
  encodeMultiCausal({
    vectorClock,
    dependencies: dependencies.map(([key, clock]) => ({ key, vectorClock: clock })),
    values,
  });
const merged = (a: Uint8Array, b: Uint8Array) => hex(mergePayloads(LatticeType.MULTI_CAUSAL, a, b));

describe("MULTI_CAUSAL", () => {
  it("writes clock, dependencies sorted by key, then values", () => {
    expect(hex(multi({ a: 1 }, [["k", { a: 2 }]], ["v"]))).toBe(
      "0a050a01611001" + "120a0a016b12050a01611002" + "1a0176",
    );
    expect(
      hex(
        multi(
          {},
          [
            ["z", {}],
            ["", { a: 1 }],
          ],
          [],
        ),
      ),
    ).toBe("120712050a01611001" + "12030a017a");
  });

  it("merges a dependency key repeated in one list pointwise", () => {
    const payload = fromHex("120a0a016b12050a01611002" + "120a0a016b12050a01621001" + "120a0a016b12050a01611001");
    expect(hex(mergePayloads(LatticeType.MULTI_CAUSAL, undefined, payload))).toBe(
      hex(multi({}, [["k", { a: 2, b: 1 }]], [])),
    );
  });

  it("lets a strictly dominating clock win whole, dependencies included", () => {
    const older = multi(
      { a: 1 },
      [
        ["k", { a: 5 }],
        ["j", { b: 1 }],
      ],
      ["old"],
    );
    const newer = multi({ a: 2 }, [["k", { a: 1 }]], ["new"]);
    expect(merged(older, newer)).toBe(hex(newer));
    expect(merged(newer, older)).toBe(hex(newer));
  });

  it("merges the dependencies of concurrent clocks by key with pointwise maxima", () => {
    const left = multi(
      { a: 1 },
      [
        ["k", { a: 5 }],
        ["j", { b: 1 }],
      ],
      ["l"],
    );
    const right = multi(
      { b: 1 },
      [
        ["k", { a: 1, c: 2 }],
        ["m", {}],
      ],
      ["r"],
    );
    const expected = hex(
      multi(
        { a: 1, b: 1 },
        [
          ["j", { b: 1 }],
          ["k", { a: 5, c: 2 }],
          ["m", {}],
        ],
        ["l", "r"],
      ),
    );
    expect(merged(left, right)).toBe(expected);
    expect(merged(right, left)).toBe(expected);
  });

  it("round-trips through the helpers", () => {
    const value = decodeMultiCausal(multi({ b: 1, a: 2 }, [["k", { x: 3 }]], ["v"]));
    expect([...value.vectorClock]).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    expect(value.dependencies.map((d) => [d.key, [...d.vectorClock]])).toEqual([["k", [["x", 3]]]]);
    expect(value.values.map((v) => Buffer.from(v).toString())).toEqual(["v"]);
  });
});
