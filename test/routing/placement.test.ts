import { LocalPlacement } from "../../src/routing/placement";
import { HashRing } from "../../src/routing/ring";

const encoder = new TextEncoder();

describe("LocalPlacement", () => {
  it.each([1, 2, 3])("puts each key on %i actor(s) and agrees with itself across instances", (replication) => {
    const a = new LocalPlacement(4, replication);
    const b = new LocalPlacement(4, replication);
    for (let i = 0; i < 500; i++) {
      const key = encoder.encode(`key-${i}`);
      const replicas = a.replicas(key);
      expect(replicas).toHaveLength(replication);
      expect(b.replicas(key)).toEqual(replicas);
      for (let tid = 0; tid < 4; tid++) expect(a.isReplica(key, tid)).toBe(replicas.includes(tid));
    }
  });

  it("full replication puts every key on every actor", () => {
    const placement = new LocalPlacement(3, 3);
    expect(placement.fullyReplicated).toBe(true);
    expect(placement.replicas(encoder.encode("k"))).toEqual([0, 1, 2]);
  });

  it("refuses a replication factor outside 1..threads", () => {
    expect(() => new LocalPlacement(2, 3)).toThrow(RangeError);
    expect(() => new LocalPlacement(2, 0)).toThrow(RangeError);
    expect(() => new LocalPlacement(0, 1)).toThrow(RangeError);
  });

  describe("per-key factors (selective replication)", () => {
    it("extends a hot key's replica list clockwise, keeping its primary, and leaves other keys alone", () => {
      const placement = new LocalPlacement(5, 1);
      const before = Array.from({ length: 200 }, (_, i) => placement.replicas(encoder.encode(`key-${i}`)));
      for (let i = 0; i < 200; i += 2) placement.mergeFactors([{ key: `key-${i}`, factor: 1 + (i % 5), version: 1 }]);
      const ring = new HashRing();
      for (let tid = 0; tid < 5; tid++) ring.add(String(tid));
      for (let i = 0; i < 200; i++) {
        const key = encoder.encode(`key-${i}`);
        const replicas = placement.replicas(key);
        const factor = i % 2 === 0 ? 1 + (i % 5) : 1;
        expect(replicas).toHaveLength(factor);
        expect(placement.replicationOf(key)).toBe(factor);
        expect(placement.replicationOf(key, `key-${i}`)).toBe(factor);
        expect(replicas[0]).toBe(before[i][0]);
        expect(replicas).toEqual(ring.replicas(key, factor).map(Number));
        for (let tid = 0; tid < 5; tid++) {
          expect(placement.isReplica(key, tid, `key-${i}`)).toBe(replicas.includes(tid));
          expect(placement.replicationAt(key, tid)).toBe(replicas.includes(tid) ? factor : 0);
          // The same key as a span of a request frame.
          const frame = Buffer.concat([Buffer.from("<<"), key, Buffer.from(">>")]);
          expect(placement.replicationAt(frame, tid, 2, key.length)).toBe(replicas.includes(tid) ? factor : 0);
        }
      }
    });

    it("clamps a key's factor between the default and the actor count", () => {
      const placement = new LocalPlacement(3, 2);
      placement.mergeFactors([
        { key: "low", factor: 1, version: 1 },
        { key: "high", factor: 9, version: 1 },
      ]);
      expect(placement.replicationOf(encoder.encode("low"))).toBe(2);
      expect(placement.replicationOf(encoder.encode("high"))).toBe(3);
      expect(placement.hasKeyFactors).toBe(true);
    });

    it("settling drops the entries at the default, after which keys take the fast path again", () => {
      const placement = new LocalPlacement(4, 1);
      placement.mergeFactors([
        { key: "cooled", factor: 3, version: 1 },
        { key: "hot", factor: 3, version: 2 },
        { key: "cooled", factor: 1, version: 3 },
      ]);
      expect(placement.settleFactors(3)).toEqual(["cooled"]);
      expect(placement.keyFactorCount).toBe(1);
      expect(placement.replicas(encoder.encode("hot"))).toHaveLength(3);
      expect(placement.replicas(encoder.encode("cooled"))).toHaveLength(1);
      placement.mergeFactors([{ key: "hot", factor: 1, version: 4 }]);
      expect(placement.settleFactors(4)).toEqual(["hot"]);
      expect(placement.hasKeyFactors).toBe(false);
      expect(placement.settledFactorVersion).toBe(4);
      // The key's hash no longer routes it through a name lookup, and it is one actor's again.
      const key = encoder.encode("hot");
      expect([0, 1, 2, 3].filter((tid) => placement.replicationAt(key, tid) > 0)).toHaveLength(1);
    });

    it("ignores per-key factors under full replication", () => {
      const placement = new LocalPlacement(3, 3);
      placement.mergeFactors([{ key: "k", factor: 1, version: 1 }]);
      expect(placement.replicas(encoder.encode("k"))).toEqual([0, 1, 2]);
      for (let tid = 0; tid < 3; tid++) expect(placement.replicationAt(encoder.encode("k"), tid)).toBe(3);
    });
  });
});
