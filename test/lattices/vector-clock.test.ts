import fc from "fast-check";
import { Order } from "../../src/lattices/lattice";
import { maxU32 } from "../../src/lattices/max";
import { toByteMap } from "../../src/lattices/map";
import { clockCovers, vectorClock, type VectorClock } from "../../src/lattices/vector-clock";
import { utf8 } from "./helpers";

const clock = (counters: Record<string, number>): VectorClock =>
  toByteMap(
    Object.entries(counters).map(([key, value]) => ({ key: utf8(key), value })),
    maxU32,
  );

/** Clocks over a few ids (some sharing prefixes), so that arbitrary pairs overlap; zero counters are left out as the codec does. */
const clocks = fc
  .dictionary(fc.constantFrom("a", "ab", "b", "ba", "c", "session-1", "session-2", ""), fc.nat({ max: 4 }))
  .map((counters) => clock(Object.fromEntries(Object.entries(counters).filter(([, value]) => value > 0))));

describe("clockCovers", () => {
  it("finds a needed entry, and fails one missing or behind", () => {
    const big = clock({ a: 3, b: 1, c: 7, d: 2 });
    expect(clockCovers(big, clock({ c: 7 }))).toBe(true);
    expect(clockCovers(big, clock({ a: 1, d: 2 }))).toBe(true);
    expect(clockCovers(big, clock({}))).toBe(true);
    expect(clockCovers(big, clock({ c: 8 }))).toBe(false);
    expect(clockCovers(big, clock({ a: 1, e: 1 }))).toBe(false);
    expect(clockCovers(clock({}), clock({ a: 1 }))).toBe(false);
  });

  it("agrees with the clock order: covers exactly when the needed clock is less or equal", () => {
    fc.assert(
      fc.property(clocks, clocks, (held, needed) => {
        const order = vectorClock.compare(needed, held);
        expect(clockCovers(held, needed)).toBe(order === Order.LESS || order === Order.EQUAL);
      }),
      { numRuns: 2000 },
    );
  });
});
