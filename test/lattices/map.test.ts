import { Order } from "../../src/lattices/lattice";
import { mapLattice, orderedMapLattice, toByteMap } from "../../src/lattices/map";
import { maxU32 } from "../../src/lattices/max";
import { utf8 } from "./helpers";

const clocks = orderedMapLattice(maxU32);
const clock = (counters: Record<string, number>) =>
  toByteMap(
    Object.entries(counters).map(([key, value]) => ({ key: utf8(key), value })),
    maxU32,
  );

describe("map lattice", () => {
  it("orders maps key-wise, an absent key being the bottom", () => {
    expect(clocks.compare(clock({ a: 1 }), clock({ a: 1 }))).toBe(Order.EQUAL);
    expect(clocks.compare(clock({ a: 1 }), clock({ a: 2 }))).toBe(Order.LESS);
    expect(clocks.compare(clock({ a: 1, b: 1 }), clock({ a: 1 }))).toBe(Order.GREATER);
    expect(clocks.compare(clock({}), clock({ z: 1 }))).toBe(Order.LESS);
    expect(clocks.compare(clock({ a: 2 }), clock({ a: 1, b: 1 }))).toBe(Order.CONCURRENT);
    expect(clocks.compare(clock({ b: 1 }), clock({ a: 1 }))).toBe(Order.CONCURRENT);
  });

  it("joins key-wise and returns the first map itself when nothing changes", () => {
    const a = clock({ a: 3, c: 1 });
    expect(clocks.join(a, clock({ a: 2, c: 1 }))).toBe(a);
    expect(clocks.join(a, clock({}))).toBe(a);
    expect(clocks.join(a, clock({ b: 1, c: 4 }))).toEqual(clock({ a: 3, b: 1, c: 4 }));
  });

  it("sorts entries by unsigned bytes and joins repeated keys", () => {
    const map = toByteMap(
      [
        { key: Uint8Array.of(0xff), value: 1 },
        { key: Uint8Array.of(0x01, 0x00), value: 2 },
        { key: Uint8Array.of(0x01), value: 3 },
        { key: Uint8Array.of(0xff), value: 5 },
      ],
      maxU32,
    );
    expect(map.map((entry) => [Array.from(entry.key), entry.value])).toEqual([
      [[0x01], 3],
      [[0x01, 0x00], 2],
      [[0xff], 5],
    ]);
  });

  it("nests: a map of maps joins the inner maps key-wise", () => {
    const nested = mapLattice(clocks);
    const left = [{ key: utf8("k"), value: clock({ a: 1 }) }];
    const right = [{ key: utf8("k"), value: clock({ b: 2 }) }];
    expect(nested.join(left, right)).toEqual([{ key: utf8("k"), value: clock({ a: 1, b: 2 }) }]);
  });
});
