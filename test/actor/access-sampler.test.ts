import { AccessSampler } from "../../src/actor/access-sampler";
import { xxhash64 } from "../../src/routing/hash";

/** Notes `key` as a span in the middle of a larger buffer, as a request frame holds it. */
function note(sampler: AccessSampler, key: string): void {
  const frame = Buffer.from(`<<${key}>>`);
  sampler.note(frame, 2, Buffer.byteLength(key));
}

describe("AccessSampler", () => {
  it("estimates accesses from one sample in N and reports the most sampled keys first", () => {
    const sampler = new AccessSampler(4, 100, 2);
    for (let i = 0; i < 400; i++) note(sampler, i % 4 === 0 ? "cold" : i % 2 === 0 ? "warm" : "hot");
    // Every 4th access is sampled: here always the same position in the cycle.
    const report = sampler.drain();
    expect(report.estimatedAccesses).toBe(400);
    expect(report.topKeys).toEqual([["hot", 400]]);
    expect(sampler.drain()).toEqual({ estimatedAccesses: 0, topKeys: [] });
  });

  it("keeps counting keys it holds once full, and skips new ones", () => {
    const sampler = new AccessSampler(1, 2, 10);
    for (const key of ["a", "b", "c", "a", "c", "a"]) note(sampler, key);
    expect(sampler.drain()).toEqual({
      estimatedAccesses: 6,
      topKeys: [
        ["a", 3],
        ["b", 1],
      ],
    });
  });

  it("counts a key the same whether its hash is given or computed, and starts each window empty", () => {
    const sampler = new AccessSampler(1, 3, 10);
    const frame = Buffer.from("<<hot>><<warm>>");
    const hotHash = xxhash64(frame, 2, 3).low;
    for (let i = 0; i < 3; i++) sampler.note(frame, 2, 3, hotHash);
    sampler.note(frame, 2, 3);
    sampler.note(frame, 9, 4);
    expect(sampler.drain()).toEqual({
      estimatedAccesses: 5,
      topKeys: [
        ["hot", 4],
        ["warm", 1],
      ],
    });
    // A full window, then a new one: the old keys are gone and new ones fit again.
    for (const key of ["a", "b", "c", "d"]) note(sampler, key);
    expect(sampler.drain().topKeys).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", 1],
    ]);
    for (const key of ["d", "e", "d"]) note(sampler, key);
    expect(sampler.drain().topKeys).toEqual([
      ["d", 2],
      ["e", 1],
    ]);
  });
});
