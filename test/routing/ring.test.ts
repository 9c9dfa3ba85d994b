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

  it("gives every member a fair share of keys, within a fifth", () => {
    const members = ["0", "1", "2", "3"];
    const keyCount = 20_000;
    const ring = new HashRing(64);
    for (const member of members) ring.add(member);
    const counts = new Map<string, number>(members.map((member) => [member, 0]));
    for (let i = 0; i < keyCount; i++) {
      const [owner] = ring.replicas(encoder.encode(`key-${i}`), 1);
      counts.set(owner, counts.get(owner)! + 1);
    }
    // 64 virtual nodes each put these keys at 23.4-26.2% a member; a member short of
    // 80% or over 120% of its quarter (an empty one above all) means placement is skewed.
    const fairShare = keyCount / members.length;
    const outOfBounds = [...counts].filter(([, count]) => count < fairShare * 0.8 || count > fairShare * 1.2);
    expect(outOfBounds).toEqual([]);
    expect(counts.size).toBe(members.length);
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
