import { decodeSingleCausal, encodeSingleCausal, LatticeType, mergePayloads } from "../../src/lattices";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { toVectorClock } from "../../src/lattices/vector-clock";
import { fromHex, hex, utf8 } from "./helpers";

const causal = (vectorClock: Record<string, number>, values: string[]) => encodeSingleCausal({ vectorClock, values });
const merged = (a: Uint8Array, b: Uint8Array) => hex(mergePayloads(LatticeType.SINGLE_CAUSAL, a, b));

describe("SINGLE_CAUSAL", () => {
  it("writes clock entries sorted by key, zero counters dropped, then sorted unique values", () => {
    expect(hex(causal({ b: 2, a: 1, c: 0 }, ["y", "x", "x"]))).toBe(
      "0a050a01611001" + "0a050a01621002" + "120178" + "120179",
    );
  });

  it("omits an empty clock key and writes an empty value", () => {
    expect(hex(causal({ "": 3 }, [""]))).toBe("0a0210031200");
  });

  it("merges a key repeated in one clock by the maximum counter", () => {
    const payload = fromHex("0a050a01611003 0a050a01611007 0a050a01611002");
    expect(hex(mergePayloads(LatticeType.SINGLE_CAUSAL, undefined, payload))).toBe("0a050a01611007");
  });

  it("lets a strictly dominating clock win whole", () => {
    const older = causal({ a: 1 }, ["old"]);
    const newer = causal({ a: 2, b: 1 }, ["new"]);
    expect(merged(older, newer)).toBe(hex(newer));
    expect(merged(newer, older)).toBe(hex(newer));
    expect(merged(new Uint8Array(0), causal({ a: 1 }, ["v"]))).toBe(hex(causal({ a: 1 }, ["v"])));
  });

  it("joins concurrent clocks pointwise and unions the values", () => {
    const left = causal({ a: 2, b: 1 }, ["l"]);
    const right = causal({ a: 1, b: 2, c: 1 }, ["r"]);
    const expected = hex(causal({ a: 2, b: 2, c: 1 }, ["l", "r"]));
    expect(merged(left, right)).toBe(expected);
    expect(merged(right, left)).toBe(expected);
  });

  it("unions the values of equal clocks", () => {
    expect(merged(causal({ a: 1 }, ["x"]), causal({ a: 1 }, ["y"]))).toBe(hex(causal({ a: 1 }, ["x", "y"])));
    const stored = causal({ a: 1 }, ["x", "y"]);
    expect(mergePayloads(LatticeType.SINGLE_CAUSAL, stored, causal({ a: 1 }, ["y"]))).toBe(stored);
  });

  it("decodes into a Map in key order and copies of the values", () => {
    const value = decodeSingleCausal(causal({ b: 2, a: 1 }, ["v"]));
    expect([...value.vectorClock]).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(value.values).toEqual([utf8("v")]);
  });

  it("refuses counters outside u32 in the helper", () => {
    expect(() => causal({ a: 2 ** 32 }, [])).toThrow(RangeError);
    expect(() => causal({ a: -1 }, [])).toThrow(RangeError);
  });

  it("drops, in a merge and in canonicalization, an envelope whose clock another envelope's dominates", () => {
    const envelope = (entries: Record<string, number>, value: string) =>
      encodeEnvelope({
        clock: toVectorClock(Object.entries(entries).map(([id, counter]) => ({ key: utf8(id), value: counter }))),
        value: utf8(value),
      });
    const asText = (values: Uint8Array[]) => values.map((bytes) => Buffer.from(bytes).toString("latin1"));
    const first = envelope({ a: 1 }, "first");
    const overwrite = envelope({ a: 1, b: 1 }, "overwrite");
    const concurrent = envelope({ c: 1 }, "concurrent");
    // Replica 1 holds a's write and c's concurrent one; replica 2 only b's overwrite of a's write.
    const replica1 = encodeSingleCausal({ vectorClock: { a: 1, c: 1 }, values: [first, concurrent] });
    const replica2 = encodeSingleCausal({ vectorClock: { a: 1, b: 1 }, values: [overwrite] });
    const expected = asText([concurrent, overwrite]).sort();
    for (const [a, b] of [
      [replica1, replica2],
      [replica2, replica1],
    ]) {
      const joined = decodeSingleCausal(mergePayloads(LatticeType.SINGLE_CAUSAL, a, b)!);
      expect(asText(joined.values).sort()).toEqual(expected);
    }
    const unpruned = encodeSingleCausal({ vectorClock: { a: 1, b: 1 }, values: [first, overwrite, utf8("bare")] });
    const canonical = decodeSingleCausal(mergePayloads(LatticeType.SINGLE_CAUSAL, undefined, unpruned)!);
    expect(asText(canonical.values).sort()).toEqual(asText([overwrite, utf8("bare")]).sort());
  });
});
