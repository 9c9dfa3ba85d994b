/** Held bounds heard between heartbeats: the larger within one incarnation and epoch, the latest otherwise. */
import { EarlyBounds } from "../../src/cluster/early-bounds";

describe("early bounds", () => {
  it("keeps the larger bound of one incarnation and epoch, whatever order they came in", () => {
    const bounds = new EarlyBounds();
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 500 });
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 400 });
    expect(bounds.heldIn("a:1", 7, 3)).toBe(500);
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 600 });
    expect(bounds.heldIn("a:1", 7, 3)).toBe(600);
  });

  it("says nothing of another incarnation or epoch than the one heard", () => {
    const bounds = new EarlyBounds();
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 500 });
    expect(bounds.heldIn("a:1", 8, 3)).toBeUndefined();
    expect(bounds.heldIn("a:1", 7, 4)).toBeUndefined();
    expect(bounds.heldIn("b:1", 7, 3)).toBeUndefined();
  });

  it("replaces a member's bound by one of another epoch or incarnation, even a smaller one", () => {
    const bounds = new EarlyBounds();
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 500 });
    bounds.note("a:1", { incarnation: 7, epoch: 4, heldMicros: 100 });
    expect(bounds.heldIn("a:1", 7, 4)).toBe(100);
    expect(bounds.heldIn("a:1", 7, 3)).toBeUndefined();
    bounds.note("a:1", { incarnation: 9, epoch: 4, heldMicros: 50 });
    expect(bounds.heldIn("a:1", 9, 4)).toBe(50);
  });

  it("forgets members the table no longer holds under the incarnation heard", () => {
    const bounds = new EarlyBounds();
    bounds.note("a:1", { incarnation: 7, epoch: 3, heldMicros: 500 });
    bounds.note("b:1", { incarnation: 2, epoch: 3, heldMicros: 500 });
    bounds.note("c:1", { incarnation: 5, epoch: 3, heldMicros: 500 });
    const table = new Map([
      ["a:1", 7],
      ["b:1", 3],
    ]);
    bounds.prune((id) => table.get(id));
    expect(bounds.size).toBe(1);
    expect(bounds.heldIn("a:1", 7, 3)).toBe(500);
  });
});
