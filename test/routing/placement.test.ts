import { singleNodePlacement } from "../../src/routing/cluster-placement";
import { FactorIndex } from "../../src/routing/key-factors";
import { singleNodeLayout } from "../../src/routing/layout";
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

  describe("per-key factors (selective replication, routing/key-factors.ts)", () => {
    const withFactors = (threads: number, replication: number, factors: Array<{ key: string; local: number }>) =>
      singleNodePlacement(
        threads,
        replication,
        new FactorIndex({
          [singleNodeLayout("127.0.0.1", 0, threads, replication).selfId]: {
            version: 1,
            factors: factors.map((f) => ({ ...f, global: 1 })),
          },
        }),
      );

    it("extends a hot key's replica list clockwise, keeping its primary, and leaves other keys alone", () => {
      const plain = new LocalPlacement(5, 1);
      const factors = Array.from({ length: 100 }, (_, j) => ({ key: `key-${2 * j}`, local: 1 + ((2 * j) % 5) }));
      const placement = withFactors(5, 1, factors);
      const ring = new HashRing();
      for (let tid = 0; tid < 5; tid++) ring.add(String(tid));
      for (let i = 0; i < 200; i++) {
        const key = encoder.encode(`key-${i}`);
        const replicas = placement.writeReplicas(key);
        const factor = i % 2 === 0 ? 1 + (i % 5) : 1;
        expect(replicas).toHaveLength(factor);
        expect(placement.writeReplicas(key, `key-${i}`)).toEqual(replicas);
        expect(replicas[0]).toBe(plain.replicas(key)[0]);
        expect(replicas).toEqual(ring.replicas(key, factor).map(Number));
        for (let tid = 0; tid < 5; tid++) {
          expect(placement.isWriteReplica(key, tid, `key-${i}`)).toBe(replicas.includes(tid));
          expect(placement.replicationAt(key, tid)).toBe(replicas.includes(tid) ? factor : 0);
          // The same key as a span of a request frame.
          const frame = Buffer.concat([Buffer.from("<<"), key, Buffer.from(">>")]);
          expect(placement.replicationAt(frame, tid, 2, key.length)).toBe(replicas.includes(tid) ? factor : 0);
        }
      }
    });

    it("clamps a key's factor between the default and the actor count", () => {
      const placement = withFactors(3, 2, [
        { key: "low", local: 1 },
        { key: "high", local: 9 },
      ]);
      expect(placement.writeReplicas(encoder.encode("low"))).toHaveLength(2);
      expect(placement.writeReplicas(encoder.encode("high"))).toHaveLength(3);
      expect(placement.factors.size).toBe(2);
    });

    it("ignores per-key factors under full replication", () => {
      const placement = withFactors(3, 3, [{ key: "k", local: 1 }]);
      expect(placement.writeReplicas(encoder.encode("k"))).toEqual([0, 1, 2]);
      for (let tid = 0; tid < 3; tid++) expect(placement.replicationAt(encoder.encode("k"), tid)).toBe(3);
    });
  });
});
