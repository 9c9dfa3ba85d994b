/**
 * Stamps by epoch (src/consistency/epoch-stamps.ts): one stamp is kept in a small object
 * that must read as a map of one entry everywhere a map of stamps is read, and stability
 * and joins must treat it as they treat a Map. Stability, joins and the top stamp of sets of
 * stamps in several epochs, against their definitions.
 */
import fc from "fast-check";
import {
  epochStamp,
  EpochStableTimes,
  isStable,
  joinEpochStamps,
  topStampMicros,
  UNKNOWN_STAMPS,
} from "../../src/consistency/epoch-stamps";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xe90c;

describe("epochStamp", () => {
  it("reads as a map of one entry: size, get, has, iteration, keys, values, forEach", () => {
    const stamp = epochStamp(3, 1_500);
    const asMap = new Map([[3, 1_500]]);
    expect(stamp.size).toBe(1);
    expect(stamp.get(3)).toBe(1_500);
    expect(stamp.get(4)).toBeUndefined();
    expect(stamp.has(3)).toBe(true);
    expect(stamp.has(0)).toBe(false);
    expect([...stamp]).toEqual([...asMap]);
    expect([...stamp.entries()]).toEqual([...asMap.entries()]);
    expect([...stamp.keys()]).toEqual([3]);
    expect([...stamp.values()]).toEqual([1_500]);
    expect(new Map(stamp)).toEqual(asMap);
    const seen: [number, number][] = [];
    stamp.forEach((micros, epoch, map) => {
      expect(map).toBe(stamp);
      seen.push([epoch, micros]);
    });
    expect(seen).toEqual([[3, 1_500]]);
  });

  it("is stable and joins exactly as the same stamp in a Map", () => {
    const epochs = fc.integer({ min: 0, max: 3 });
    const micros = fc.integer({ min: 1, max: 50 });
    const stamps = fc.array(fc.tuple(epochs, micros), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.tuple(epochs, micros), stamps, stamps, ([epoch, stampMicros], others, reports) => {
        const one = epochStamp(epoch, stampMicros);
        const asMap = new Map([[epoch, stampMicros]]);
        const times = new EpochStableTimes();
        for (const [reportEpoch, reportMicros] of reports) times.learn({ epoch: reportEpoch, micros: reportMicros });
        expect(isStable(one, times)).toBe(isStable(asMap, times));
        const other = new Map<number, number>();
        for (const [otherEpoch, otherMicros] of others)
          other.set(otherEpoch, Math.max(other.get(otherEpoch) ?? 0, otherMicros));
        expect(new Map(joinEpochStamps(one, other))).toEqual(new Map(joinEpochStamps(asMap, other)));
        expect(new Map(joinEpochStamps(other, one))).toEqual(new Map(joinEpochStamps(other, asMap)));
        expect(isStable(joinEpochStamps(one, UNKNOWN_STAMPS), times)).toBe(false);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe("sets of stamps", () => {
  it("are stable, join and have a top stamp as defined, in any epochs", () => {
    const epochs = fc.integer({ min: 0, max: 3 });
    const pairs = fc.array(fc.tuple(epochs, fc.integer({ min: 1, max: 50 })), { maxLength: 4 });
    const asStamps = (list: [number, number][]) => {
      const stamps = new Map<number, number>();
      for (const [epoch, micros] of list) stamps.set(epoch, Math.max(stamps.get(epoch) ?? 0, micros));
      return stamps;
    };
    fc.assert(
      fc.property(pairs, pairs, pairs, (a, b, reports) => {
        const times = new EpochStableTimes();
        for (const [epoch, micros] of reports) times.learn({ epoch, micros });
        const stamps = asStamps(a);
        const bound = (epoch: number) => (epoch === 0 ? times.anyMicros : times.of(epoch));
        expect(isStable(stamps, times)).toBe([...stamps].every(([epoch, micros]) => micros <= bound(epoch)));
        expect(topStampMicros(stamps)).toBe(Math.max(-Infinity, ...stamps.values()));
        expect(new Map(joinEpochStamps(stamps, asStamps(b)))).toEqual(asStamps([...a, ...b]));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
