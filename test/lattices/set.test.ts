import { decodeSet, encodeSet, LatticeType, mergePayloads } from "../../src/lattices";
import { fromHex, hex, utf8 } from "./helpers";

describe("SET and ORDERED_SET", () => {
  it("writes unique elements sorted by unsigned bytes, empty elements included", () => {
    expect(hex(encodeSet(["b", "a", "a", "", "ab"]))).toBe("0a00 0a0161 0a026162 0a0162".replace(/ /g, ""));
    expect(hex(encodeSet([Uint8Array.of(0xff), Uint8Array.of(0x01)]))).toBe("0a01010a01ff");
    expect(hex(encodeSet([]))).toBe("");
  });

  it.each([LatticeType.SET, LatticeType.ORDERED_SET])("merges type %i by union", (type) => {
    const a = encodeSet(["a", "c"]);
    expect(hex(mergePayloads(type, a, encodeSet(["b", "c", "d"])))).toBe(hex(encodeSet(["a", "b", "c", "d"])));
    expect(mergePayloads(type, a, encodeSet(["c"]))).toBe(a);
    expect(mergePayloads(type, a, new Uint8Array(0))).toBe(a);
  });

  it("canonicalizes duplicates in the incoming payload", () => {
    expect(hex(mergePayloads(LatticeType.SET, undefined, fromHex("0a0162 0a0161 0a0162")))).toBe("0a01610a0162");
  });

  it("decodes to copies in canonical order", () => {
    expect(decodeSet(encodeSet(["z", "y"]))).toEqual([utf8("y"), utf8("z")]);
  });
});
