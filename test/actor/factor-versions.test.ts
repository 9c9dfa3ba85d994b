import { seenAfterUpdates } from "../../src/actor/gossip-context";

const updates = (...versions: number[]) => versions.map((version) => ({ version }));

describe("seenAfterUpdates (the factor version an actor has seen without gaps)", () => {
  it("advances past a frame that continues what was seen, in any order inside it", () => {
    expect(seenAfterUpdates(0, updates(1, 2))).toBe(2);
    expect(seenAfterUpdates(2, updates(4, 3, 5))).toBe(5);
  });

  it("stays put after a gap (a lost frame), whatever comes later", () => {
    expect(seenAfterUpdates(2, updates(4, 5))).toBe(2);
    expect(seenAfterUpdates(2, updates(6))).toBe(2);
  });

  it("takes duplicates and overlaps in its stride, and an empty frame changes nothing", () => {
    expect(seenAfterUpdates(5, updates(3, 4))).toBe(5);
    expect(seenAfterUpdates(5, updates(4, 5, 6, 7))).toBe(7);
    expect(seenAfterUpdates(5, [])).toBe(5);
  });
});
