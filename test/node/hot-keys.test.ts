import type { AccessReport } from "../../src/actor/access-sampler";
import { HotKeyMonitor, HotKeyPolicy } from "../../src/node/hot-keys";
import { FactorIndex } from "../../src/routing/key-factors";
import { LocalPlacement } from "../../src/routing/placement";

const POLICY: HotKeyPolicy = { threshold: 0.5, minOpsPerSec: 1000, cooldownWindows: 3 };
const WINDOW_MS = 1000;

/** One window in which each actor served `perActor` accesses, `keys` of them to the named keys. */
function report(perActor: number, keys: Record<string, number>): AccessReport {
  return { estimatedAccesses: perActor, topKeys: Object.entries(keys) };
}

/** A monitor of a node with `threads` actors in a cluster of `nodes` serving nodes (global replication 1). */
function monitorOf(threads: number, nodes = 1): HotKeyMonitor {
  return new HotKeyMonitor(new LocalPlacement(threads, 1), POLICY, 1, () => nodes);
}

const locals = (changes: Array<{ key: string; local: number }>) => changes.map(({ key, local }) => [key, local]);

describe("HotKeyMonitor", () => {
  it("gives a key that dominates the load every actor, and only that key", () => {
    const monitor = monitorOf(4);
    // Node rate 40k/s: mean actor load 10k/s, so each replica may serve 5k/s of one key.
    monitor.record(0, WINDOW_MS, report(10_000, { hot: 9000, warm: 600 }));
    for (let tid = 1; tid < 4; tid++) monitor.record(tid, WINDOW_MS, report(10_000, { hot: 3000 }));
    expect(locals(monitor.closeWindow())).toEqual([["hot", 4]]);
    expect(monitor.hotKeys()).toEqual([{ key: "hot", replicas: 4, nodes: 1 }]);
  });

  it("sizes the factor to the key's load: each replica serves at most threshold x the mean", () => {
    const monitor = monitorOf(8);
    // Node rate 80k/s, mean 10k/s, 5k/s per replica: 12k/s needs 3 replicas.
    for (let tid = 0; tid < 8; tid++) monitor.record(tid, WINDOW_MS, report(10_000, tid === 0 ? { k: 12_000 } : {}));
    expect(locals(monitor.closeWindow())).toEqual([["k", 3]]);
  });

  it("asks for more nodes when the key wants more replicas than the node has actors", () => {
    const monitor = monitorOf(2, 3);
    // Node rate 20k/s, mean 10k/s, 5k/s per replica: 20k/s wants 4 replicas, 2 actors each on 2 nodes.
    monitor.record(0, WINDOW_MS, report(10_000, { hot: 10_000 }));
    monitor.record(1, WINDOW_MS, report(10_000, { hot: 10_000 }));
    expect(monitor.closeWindow()).toEqual([{ key: "hot", local: 2, global: 2 }]);
    // Never more nodes than serve.
    const small = monitorOf(1, 1);
    small.record(0, WINDOW_MS, report(10_000, { hot: 10_000 }));
    expect(small.closeWindow()).toEqual([]);
  });

  it("never calls a key hot below the minimum rate, however large its share", () => {
    const monitor = monitorOf(4);
    monitor.record(0, WINDOW_MS, report(900, { only: 900 }));
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.state()).toEqual({ version: 0, factors: [] });
  });

  it("lowers a factor only after the load stayed lower for the cooldown windows, to the most they asked for", () => {
    const monitor = monitorOf(4);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }));
    expect(locals(monitor.closeWindow())).toEqual([["hot", 4]]);
    // Next windows: the key is 2x its per-replica share (wants 2), then quiet (wants 1).
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 10_000 }));
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.closeWindow()).toEqual([]);
    expect(locals(monitor.closeWindow())).toEqual([["hot", 2]]);
    expect(monitor.closeWindow()).toEqual([]);
    expect(monitor.closeWindow()).toEqual([]);
    expect(locals(monitor.closeWindow())).toEqual([["hot", 1]]);
    expect(monitor.hotKeys()).toEqual([]);
  });

  it("keeps its decisions as one state whose version rises with every change; a cooled key leaves it", () => {
    const monitor = monitorOf(4);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }));
    monitor.closeWindow();
    const first = monitor.state();
    expect(first).toEqual({ version: 1, factors: [{ key: "hot", local: 4, global: 1 }] });
    const placement = new FactorIndex({ node: first });
    expect(placement.localOf("node", "hot")).toBe(4);
    for (let window = 0; window < 3; window++) monitor.closeWindow();
    const cooled = monitor.state();
    expect(cooled.version).toBeGreaterThan(first.version);
    expect(cooled.factors).toEqual([]);
  });

  it("restarts the cooldown when the key heats up again", () => {
    const monitor = monitorOf(4);
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }));
    monitor.closeWindow();
    monitor.closeWindow();
    monitor.closeWindow();
    monitor.record(0, WINDOW_MS, report(40_000, { hot: 40_000 }));
    expect(monitor.closeWindow()).toEqual([]);
    monitor.closeWindow();
    monitor.closeWindow();
    expect(monitor.hotKeys()).toHaveLength(1);
  });
});
