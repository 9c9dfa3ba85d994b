import { xxhash64 } from "../../src/routing/hash";
import { HashRing } from "../../src/routing/ring";

const encoder = new TextEncoder();

describe("HashRing", () => {
  it("returns distinct replicas, primary first, and never more than its members", () => {
    const ring = new HashRing(32);
    for (const member of ["a", "b", "c"]) ring.add(member);
    for (let i = 0; i < 200; i++) {
      const replicas = ring.replicas(encoder.encode(`key-${i}`), 2);
      expect(replicas).toHaveLength(2);
      expect(new Set(replicas).size).toBe(2);
      expect(ring.replicas(encoder.encode(`key-${i}`), 1)[0]).toBe(replicas[0]);
    }
    expect(ring.replicas(encoder.encode("k"), 10)).toHaveLength(3);
  });

  it("fills a caller's scratch array with the same replicas, cleared first", () => {
    const ring = new HashRing(32);
    for (const member of ["a", "b", "c", "d"]) ring.add(member);
    const scratch = ["stale", "stale", "stale", "stale", "stale"];
    for (let i = 0; i < 200; i++) {
      const hash = xxhash64(encoder.encode(`key-${i}`));
      const filled = ring.replicasOfHash(hash, 2, scratch);
      expect(filled).toBe(scratch);
      expect(filled).toEqual(ring.replicasOfHash(hash, 2));
    }
  });

  it("spreads keys over members roughly evenly", () => {
    const ring = new HashRing(64);
    for (let m = 0; m < 4; m++) ring.add(String(m));
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const [owner] = ring.replicas(encoder.encode(`key-${i}`), 1);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const count of counts.values()) expect(count).toBeGreaterThan(20_000 / 4 / 2);
  });

  it("moves only the removed member's keys when a member leaves", () => {
    const ring = new HashRing(64);
    for (const member of ["a", "b", "c", "d"]) ring.add(member);
    const before = Array.from({ length: 2000 }, (_, i) => ring.replicas(encoder.encode(`k${i}`), 1)[0]);
    ring.remove("d");
    for (let i = 0; i < 2000; i++) {
      const after = ring.replicas(encoder.encode(`k${i}`), 1)[0];
      if (before[i] !== "d") expect(after).toBe(before[i]);
      else expect(after).not.toBe("d");
    }
  });

  it("answers nothing when empty and refuses a bad virtual node count", () => {
    expect(new HashRing().replicas(encoder.encode("k"), 1)).toEqual([]);
    expect(() => new HashRing(0)).toThrow(RangeError);
  });
});
