/**
 * mergeLoadResults (bench/load-generator.ts): the results of generators run side by side,
 * as one. The generator itself runs against a real node in test/bench/server.test.ts.
 */
import { LoadResult, mergeLoadResults, DEFAULT_LOAD_OPTIONS } from "../../bench/load-generator";
import { LatencyHistogram } from "../../bench/latency";

function resultOf(latenciesMs: number[], extra: Partial<LoadResult>): LoadResult {
  const histogram = new LatencyHistogram();
  for (const latency of latenciesMs) histogram.record(latency);
  return {
    options: { ...DEFAULT_LOAD_OPTIONS, concurrency: 10, connections: 2 },
    requests: latenciesMs.length,
    requestsPerSecond: latenciesMs.length,
    opsPerSecond: latenciesMs.length * 16,
    measuredSeconds: 1,
    ...histogram.summary(),
    histogram: histogram.snapshot(),
    tupleErrors: {},
    lostRequests: 0,
    serverCpuCores: 1,
    generatorCpuCores: 0.5,
    ...extra,
  };
}

describe("mergeLoadResults", () => {
  it("adds rates, takes quantiles of every sample together and averages the node's CPU", () => {
    const fast = resultOf(Array(99).fill(1), { tupleErrors: { KEY_DNE: 2 }, serverCpuCores: 1 });
    const slow = resultOf(Array(99).fill(100), { tupleErrors: { KEY_DNE: 1, LATTICE: 4 }, serverCpuCores: 3 });
    const merged = mergeLoadResults([fast, slow]);
    expect(merged.requests).toBe(198);
    expect(merged.opsPerSecond).toBe(198 * 16);
    expect(merged.options).toMatchObject({ concurrency: 20, connections: 4 });
    // Half the samples at 1 ms, half at 100 ms: the median is 1 ms (within the buckets' 1%), p99 100 ms.
    expect(merged.latencyMsP50).toBeCloseTo(1, 1);
    expect(merged.latencyMsP99).toBeGreaterThan(99);
    expect(merged.latencyMsMean).toBeCloseTo(50.5, 6);
    expect(merged.tupleErrors).toEqual({ KEY_DNE: 3, LATTICE: 4 });
    expect(merged.serverCpuCores).toBe(2);
    expect(merged.generatorCpuCores).toBe(1);
  });

  it("returns a single result as it is and refuses an empty list", () => {
    const only = resultOf([1, 2], {});
    expect(mergeLoadResults([only])).toBe(only);
    expect(() => mergeLoadResults([])).toThrow(/no results/);
  });
});
