import { canonicalize, decodePriority, encodePriority, LatticeType, mergePayloads } from "../../src/lattices";
import { fromHex, hex } from "./helpers";

const priority = (level: number, value: string) => encodePriority({ priority: level, value });
const merged = (a: Uint8Array, b: Uint8Array) => hex(mergePayloads(LatticeType.PRIORITY, a, b));

describe("PRIORITY", () => {
  it("writes the priority as a little-endian double, omitting 0 and -0", () => {
    expect(hex(priority(1.5, "a"))).toBe("09000000000000f83f120161");
    expect(hex(priority(0, "a"))).toBe("120161");
    expect(hex(priority(-0, "a"))).toBe("120161");
    expect(hex(priority(-Infinity, ""))).toBe("09000000000000f0ff");
  });

  it("stores a -0 priority as 0", () => {
    expect(hex(canonicalize(LatticeType.PRIORITY, fromHex("09 0000000000000080 120161")))).toBe("120161");
  });

  it("lets the lower priority win", () => {
    expect(merged(priority(2, "z"), priority(1, "a"))).toBe(hex(priority(1, "a")));
    expect(merged(priority(-1, "a"), priority(0, "z"))).toBe(hex(priority(-1, "a")));
    expect(merged(priority(Infinity, "z"), priority(1e308, "a"))).toBe(hex(priority(1e308, "a")));
    expect(merged(priority(-Infinity, "a"), priority(-1e308, "z"))).toBe(hex(priority(-Infinity, "a")));
  });

  it("breaks ties by the larger value bytes; 0 and -0 tie", () => {
    expect(merged(priority(3, "a"), priority(3, "b"))).toBe(hex(priority(3, "b")));
    expect(merged(priority(0, "b"), fromHex("09 0000000000000080 120161"))).toBe(hex(priority(0, "b")));
    expect(merged(fromHex("09 0000000000000080 120161"), priority(0, "b"))).toBe(hex(priority(0, "b")));
  });

  it("treats an empty payload as priority 0 (proto3's default), not as the bottom", () => {
    expect(merged(priority(5, "a"), new Uint8Array(0))).toBe("");
  });

  it("round-trips through the helpers and refuses NaN", () => {
    expect(decodePriority(priority(-2.25, "x"))).toEqual({ priority: -2.25, value: Uint8Array.of(0x78) });
    expect(() => priority(NaN, "x")).toThrow(RangeError);
  });
});
