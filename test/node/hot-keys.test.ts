import type { AccessReport } from "../../src/actor/access-sampler";
import { HotKeyMonitor, HotKeyPolicy } from "../../src/node/hot-keys";
import { LocalPlacement } from "../../src/routing/placement";

const POLICY: HotKeyPolicy = { threshold: 0.5, minOpsPerSec: 1000, cooldownWindows: 3 };
const WINDOW_MS = 1000;

/** One window in which each actor served `perActor` accesses, `keys` of them to the named keys. */
function report(perActor: number, keys: Record<string, number>): AccessReport {
  return { estimatedAccesses: perActor, topKeys: Object.entries(keys) };
}

describe("HotKeyMonitor", () => {
  it("gives a key that dominates the load every actor, and only that key", () => {
    const placement = new LocalPlacement(4, 1);
    const monitor = new HotKeyMonitor(placement, POLICY);
    // Node rate 40k/s: mean actor load 10k/s, so each replica may serve 5k/s of one key.
    monitor.record(0, WINDOW_MS, report(10_000, { hot: 9000, warm: 600 }), 0);
    for (let tid = 1; tid < 4; tid++) monitor.record(tid, WINDOW_MS, report(10_000, { hot: 3000 }), 0);
    const decisions = monitor.closeWindow();
    expect(decisions.map(({ key, factor }) => [key, factor])).toEqual([["hot", 4]]);
    expect(monitor.hotKeys()).toEqual([{ key: "hot", replicas: 4 }]);
    expect(placement.replicas(new TextEncoder().encode("hot"))).toHaveLength(4);
  });

  it("sizes the factor to the key's load: each replica serves at most threshold x the mean", () => {
    const placement = new LocalPlacement(8, 1);
    const monitor = new HotKeyMonitor(placement, POLICY);
    // Node rate 80k/s, mean 10k/s, 5k/s per replica: 12k/s needs 3 replicas.
    for (let tid = 0; tid < 8; tid++) monitor.record(tid, WINDOW_MS, report(10_000, tid === 0 ? { k: 12_000 } : {}), 0);
    expect(monitor.closeWindow().map(({ factor }) => factor)).toEqual([3]);
  });

  it("never calls a key hot below the minimum rate, however large its share", () => {
    const monitor = new HotKeyMonitor(new LocalPlacement(4, 1), POLICY);
    monitor.record(0, WINDOW_MS, report(900, { only: 900 }), 0);
    expect(monitor.closeWindow()).toEqual([]);
  });

  it("lowers a factor only after the load stayed lower for the cooldown windows, to the most they asked for", () => {
    const placement = new LocalPlacement(4, 1);
    const monitor = new HotKeyMonitor(placement, POLICY);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }), 0);
    expect(monitor.closeWindow().map(({ factor }) => factor)).toEqual([4]);
    // Next windows: the key is 2x its per-replica share (wants 2), then quiet (wants 1).
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 10_000 }), 0);
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.closeWindow()).toEqual([]);
    const lowered = monitor.closeWindow();
    expect(lowered.map(({ key, factor }) => [key, factor])).toEqual([["hot", 2]]);
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.closeWindow().map(({ factor }) => factor)).toEqual([1]);
    expect(monitor.hotKeys()).toEqual([]);
  });

  it("restarts the cooldown when the key heats up again, and versions every decision upward", () => {
    const placement = new LocalPlacement(4, 1);
    const monitor = new HotKeyMonitor(placement, POLICY);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }), 0);
    const [raised] = monitor.closeWindow();
    monitor.closeWindow();
    monitor.closeWindow();
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }), 0);
    expect(monitor.closeWindow()).toEqual([]); // still wants 4: the cooldown starts over
    monitor.closeWindow();
    monitor.closeWindow();
    const [lowered] = monitor.closeWindow();
    expect(lowered.factor).toBe(1);
    expect(lowered.version).toBeGreaterThan(raised.version);
  });

  it("settles what every actor has seen: a cooled key's entry goes, a hot key's stays", () => {
    const placement = new LocalPlacement(2, 1);
    const monitor = new HotKeyMonitor(placement, { ...POLICY, cooldownWindows: 1 });
    const hot = (keys: Record<string, number>) => report(40_000, keys);
    monitor.record(0, WINDOW_MS, hot({ a: 40_000, b: 40_000 }), 0);
    const raised = monitor.closeWindow();
    expect(raised.map(({ key, factor, version }) => [key, factor, version])).toEqual([["a", 2, 1], ["b", 2, 2]]);
    // b stays hot; a cools to the default factor at version 3.
    monitor.record(0, WINDOW_MS, hot({ b: 40_000 }), 2);
    expect(monitor.closeWindow().map(({ key, factor, version }) => [key, factor, version])).toEqual([["a", 1, 3]]);
    // Actor 1 has not reported yet: nothing is settled.
    expect(monitor.settle()).toBeUndefined();
    monitor.record(1, WINDOW_MS, report(0, {}), 3);
    // Actor 0 has seen only up to 2: that much is settled, which drops nothing (a is at 3).
    expect(monitor.settle()).toBe(2);
    expect([...placement.keyFactors()].map(({ key }) => key).sort()).toEqual(["a", "b"]);
    monitor.record(0, WINDOW_MS, hot({ b: 40_000 }), 3);
    expect(monitor.settle()).toBe(3);
    expect([...placement.keyFactors()].map(({ key }) => key)).toEqual(["b"]);
    expect(monitor.hotKeys()).toEqual([{ key: "b", replicas: 2 }]);
    expect(monitor.settle()).toBeUndefined(); // nothing new to settle
    // A late copy of a's old entry does not bring it back; a new decision does.
    expect(placement.mergeFactors([{ key: "a", factor: 2, version: 1 }])).toEqual([]);
    monitor.record(0, WINDOW_MS, hot({ a: 40_000, b: 40_000 }), 3);
    expect(monitor.closeWindow().map(({ key, factor, version }) => [key, factor, version])).toEqual([["a", 2, 4]]);
    expect(monitor.hotKeys()).toEqual([{ key: "a", replicas: 2 }, { key: "b", replicas: 2 }]);
  });

  it("sends a snapshot to an actor that has not seen a decision for three windows, and again three windows later", () => {
    const placement = new LocalPlacement(2, 1);
    const monitor = new HotKeyMonitor(placement, POLICY);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }), 0);
    expect(monitor.closeWindow().map(({ version }) => version)).toEqual([1]);
    expect(monitor.laggingActors()).toEqual([]);
    // Actor 0 reports seeing version 1; actor 1 keeps reporting 0 (its frame was lost).
    for (let window = 0; window < 2; window++) {
      monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }), 1);
      monitor.record(1, WINDOW_MS, report(0, {}), 0);
      expect(monitor.closeWindow()).toEqual([]);
      if (window === 0) expect(monitor.laggingActors()).toEqual([]); // its report may predate the frame
    }
    expect(monitor.laggingActors()).toEqual([1]);
    expect(monitor.snapshot()).toEqual({ version: 1, factors: [{ key: "hot", factor: 2, version: 1 }] });
    // Not in the next two windows; then again, as it still has not caught up (the snapshot was lost too).
    for (let window = 0; window < 2; window++) {
      monitor.closeWindow();
      expect(monitor.laggingActors()).toEqual([]);
    }
    monitor.closeWindow();
    expect(monitor.laggingActors()).toEqual([1]);
    // Caught up: nothing is due, and settling can go on.
    monitor.record(1, WINDOW_MS, report(0, {}), 1);
    monitor.closeWindow();
    expect(monitor.laggingActors()).toEqual([]);
    expect(monitor.settle()).toBe(1);
  });
});
