import { canonicalize, decodeLww, encodeLww, LatticeType, mergePayloads } from "../../src/lattices";
import { fromHex, hex, utf8 } from "./helpers";

const lww = (timestamp: bigint | number, value: string, writeId?: string) => encodeLww({ timestamp, value, writeId });
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

  it("writes the write id last (field 13), omitted when empty", () => {
    expect(hex(lww(5, "a", "w"))).toBe("08051201616a0177");
    expect(hex(lww(5, "", "w"))).toBe("08056a0177");
    expect(hex(lww(0, "", "w"))).toBe("6a0177");
    expect(hex(lww(5, "a", ""))).toBe(hex(lww(5, "a")));
  });

  it("canonicalizes a write id in any field order; a repeated one keeps its last value, checked alone", () => {
    const canonical = (bytes: string) => hex(canonicalize(LatticeType.LWW, fromHex(bytes)));
    expect(canonical("6a0177 120161 0805")).toBe("08051201616a0177");
    expect(canonical("6a00 0805")).toBe("0805");
    expect(canonical(`6a41${"00".repeat(65)} 6a0177 0805`)).toBe("08056a0177");
    expect(canonical(`6a40${"ff".repeat(64)}`)).toBe(`6a40${"ff".repeat(64)}`);
    expect(canonical(`0805 6a41${"00".repeat(65)}`)).toBeNull();
    expect(canonical("0805 6801")).toBeNull();
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

  it("breaks timestamp ties by the write id before the value; the empty write id is the bottom", () => {
    expect(merged(lww(7, "z", "a"), lww(7, "a", "b"))).toBe(hex(lww(7, "a", "b")));
    expect(merged(lww(7, "z", "ab"), lww(7, "a", "b"))).toBe(hex(lww(7, "a", "b")));
    expect(merged(lww(7, "a", "w"), lww(7, "b", "w"))).toBe(hex(lww(7, "b", "w")));
    expect(merged(lww(7, "zzz"), lww(7, "a", "\u0000"))).toBe(hex(lww(7, "a", "\u0000")));
    expect(merged(lww(7, "", "w"), lww(0, "", ""))).toBe(hex(lww(7, "", "w")));
    expect(merged(lww(8, "a"), lww(7, "z", "zz"))).toBe(hex(lww(8, "a")));
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
    expect(value.writeId).toEqual(new Uint8Array(0));
    payload[payload.length - 1] = 0x62;
    expect(value.value).toEqual(utf8("a"));
  });

  it("decodes a copy of the write id", () => {
    const payload = lww(3, "v", "id");
    const value = decodeLww(payload);
    expect(value).toEqual({ timestamp: 3n, value: utf8("v"), writeId: utf8("id") });
    payload[payload.length - 1] = 0x78;
    expect(value.writeId).toEqual(utf8("id"));
  });

  it("rejects timestamps outside u64 in the helper", () => {
    expect(() => lww(-1, "a")).toThrow(RangeError);
    expect(() => lww(2n ** 64n, "a")).toThrow(RangeError);
    expect(() => lww(1.5, "a")).toThrow(RangeError);
  });

  it("takes write ids of at most 64 bytes in the helper", () => {
    expect(decodeLww(lww(1, "a", "w".repeat(64))).writeId.length).toBe(64);
    expect(() => lww(1, "a", "w".repeat(65))).toThrow(RangeError);
    expect(() => encodeLww({ timestamp: 1, value: "a", writeId: new Uint8Array(65) })).toThrow(RangeError);
  });
});
