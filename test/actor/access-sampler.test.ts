import { AccessSampler } from "../../src/actor/access-sampler";

describe("AccessSampler", () => {
  it("estimates accesses from one sample in N and reports the most sampled keys first", () => {
    const sampler = new AccessSampler(4, 100, 2);
    for (let i = 0; i < 400; i++) sampler.note(Buffer.from(i % 4 === 0 ? "cold" : i % 2 === 0 ? "warm" : "hot"));
    // Every 4th access is sampled: here always the same position in the cycle.
    const report = sampler.drain();
    expect(report.estimatedAccesses).toBe(400);
    expect(report.topKeys).toHaveLength(1);
    expect(report.topKeys[0][1]).toBe(400);
    expect(sampler.drain()).toEqual({ estimatedAccesses: 0, topKeys: [] });
  });

  it("keeps counting keys it holds once full, and skips new ones", () => {
    const sampler = new AccessSampler(1, 2, 10);
    for (const key of ["a", "b", "c", "a", "c", "a"]) sampler.note(Buffer.from(key));
    expect(sampler.drain()).toEqual({ estimatedAccesses: 6, topKeys: [["a", 3], ["b", 1]] });
  });
});
