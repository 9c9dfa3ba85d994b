import { LocalPlacement } from "../../src/routing/placement";

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
});
