import { canonicalize, decodeLww, encodeLww, LatticeType, mergePayloads } from "../../src/lattices";
import { fromHex, hex, utf8 } from "./helpers";

const lww = (timestamp: bigint | number, value: string) => encodeLww({ timestamp, value });
const merged = (a: Uint8Array, b: Uint8Array) => hex(mergePayloads(LatticeType.LWW, a, b));

describe("LWW", () => {
  it("writes the canonical bytes: timestamp then value, defaults omitted", () => {
    expect(hex(lww(5, "a"))).toBe("0805120161");
    expect(hex(lww(0, "a"))).toBe("120161");
    expect(hex(lww(5, ""))).toBe("0805");
    expect(hex(lww(0, ""))).toBe("");
    expect(hex(lww(300, "a"))).toBe("08ac02120161");
    expect(hex(lww(2n ** 64n - 1n, ""))).toBe("08ffffffffffffffffff01");
    expect(hex(lww(2n ** 32n, ""))).toBe("088080808010");
  });

  it("lets the larger timestamp win, across the 32-bit halves", () => {
    expect(merged(lww(1, "z"), lww(2, "a"))).toBe(hex(lww(2, "a")));
    expect(merged(lww(2n ** 32n, "a"), lww(2n ** 32n - 1n, "z"))).toBe(hex(lww(2n ** 32n, "a")));
    expect(merged(lww(2n ** 63n, "a"), lww(2n ** 63n - 1n, "z"))).toBe(hex(lww(2n ** 63n, "a")));
  });

  it("breaks timestamp ties by the larger value bytes, a shorter prefix being smaller", () => {
    expect(merged(lww(7, "ab"), lww(7, "b"))).toBe(hex(lww(7, "b")));
    expect(merged(lww(7, "ab"), lww(7, "a"))).toBe(hex(lww(7, "ab")));
    expect(merged(lww(7, "\u00ff"), lww(7, "a"))).toBe(hex(lww(7, "\u00ff")));
  });

  it("returns the stored array itself when it is unchanged, and never a view of the input", () => {
    const stored = lww(9, "a");
    expect(mergePayloads(LatticeType.LWW, stored, lww(3, "z"))).toBe(stored);
    expect(mergePayloads(LatticeType.LWW, stored, lww(9, "a"))).toBe(stored);
    const incoming = lww(10, "b");
    const result = mergePayloads(LatticeType.LWW, stored, incoming) as Uint8Array;
    expect(result.buffer).not.toBe(incoming.buffer);
    expect(canonicalize(LatticeType.LWW, incoming)?.buffer).not.toBe(incoming.buffer);
  });

  it("decodes to a bigint timestamp and a copy of the value", () => {
    const payload = fromHex("08ffffffffffffffffff01 120161");
    const value = decodeLww(payload);
    expect(value.timestamp).toBe(2n ** 64n - 1n);
    expect(value.value).toEqual(utf8("a"));
    payload[payload.length - 1] = 0x62;
    expect(value.value).toEqual(utf8("a"));
  });

  it("rejects timestamps outside u64 in the helper", () => {
    expect(() => lww(-1, "a")).toThrow(RangeError);
    expect(() => lww(2n ** 64n, "a")).toThrow(RangeError);
    expect(() => lww(1.5, "a")).toThrow(RangeError);
  });
});
