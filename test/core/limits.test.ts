/**
 * The merge headroom (src/core/limits.ts) and how both engines keep it: clients' PUTs stop
 * short of it, MERGEs of values from replicas may fill it.
 */
import { createStore } from "../../src/core/create-store";
import { mergeHeadroomBytes } from "../../src/core/limits";
import { StoreError } from "../../src/core/status";
import type { EngineName } from "../../src/core/store";
import { encodeLww, LatticeType } from "../../src/lattices";

const KiB = 1024;
const MiB = 1024 * KiB;

function statusOf(action: () => void): string {
  try {
    action();
    return "OK";
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
}

describe("mergeHeadroomBytes", () => {
  it("is an eighth of the limit, at least 1 MiB, at most a quarter, in whole 64 KiB pages", () => {
    expect(mergeHeadroomBytes(1024 * MiB)).toBe(128 * MiB);
    expect(mergeHeadroomBytes(16 * MiB)).toBe(2 * MiB);
    expect(mergeHeadroomBytes(8 * MiB)).toBe(1 * MiB);
    expect(mergeHeadroomBytes(4 * MiB)).toBe(1 * MiB);
    expect(mergeHeadroomBytes(2 * MiB)).toBe(512 * KiB);
    expect(mergeHeadroomBytes(2 * MiB + 1000)).toBe(512 * KiB);
    expect(mergeHeadroomBytes(300 * KiB)).toBe(64 * KiB);
    expect(mergeHeadroomBytes(200 * KiB)).toBe(0);
    expect(mergeHeadroomBytes(1000)).toBe(0);
  });
});

describe.each<EngineName>(["wasm", "ts"])("the merge headroom (%s engine)", (engine) => {
  const value = (timestamp: number) => encodeLww({ timestamp, value: Buffer.alloc(40_000, timestamp) });

  it("refuses clients' PUTs short of the limit, and lets merges fill the rest", () => {
    const store = createStore({ engine, limits: { maxMemoryBytes: 4 * MiB } });
    let puts = 0;
    while (statusOf(() => store.put(`put-${puts}`, LatticeType.LWW, value(1))) === "OK") puts++;
    expect(statusOf(() => store.put("put-more", LatticeType.LWW, value(1)))).toBe("OUT_OF_MEMORY");
    // A PUT that needs no more memory (a newer value of the same size) still goes in.
    expect(statusOf(() => store.put("put-0", LatticeType.LWW, value(2)))).toBe("OK");
    let merges = 0;
    while (statusOf(() => store.merge(`merge-${merges}`, LatticeType.LWW, value(1))) === "OK") merges++;
    // The headroom (1 MiB) holds at least 16 pages' worth, less what its own structures take.
    expect(merges).toBeGreaterThanOrEqual(14);
    // Clients had 3/4 of the memory, merges the last quarter.
    expect(puts).toBeGreaterThan(2.5 * merges);
    expect(store.stats().memoryReservedBytes).toBeLessThanOrEqual(4 * MiB + (engine === "ts" ? 2 * MiB : 0));
    expect(statusOf(() => store.merge("merge-more", LatticeType.LWW, value(1)))).toBe("OUT_OF_MEMORY");
    // The refusals changed nothing.
    expect(store.size).toBe(puts + merges);
    expect(store.get("put-more")).toBeUndefined();
    expect(store.get("merge-more")).toBeUndefined();
    // Room freed below the headroom by deletes is the clients' again.
    for (let i = 0; i < merges; i++) store.delete(`merge-${i}`);
    expect(statusOf(() => store.put("put-more", LatticeType.LWW, value(1)))).toBe("OUT_OF_MEMORY");
    for (let i = 0; i < 2; i++) store.delete(`put-${i}`);
    expect(statusOf(() => store.put("put-more", LatticeType.LWW, value(1)))).toBe("OK");
  });

  it("keeps no headroom in a store under 256 KiB", () => {
    const store = createStore({ engine, limits: { maxMemoryBytes: 192 * KiB } });
    let puts = 0;
    while (statusOf(() => store.put(`put-${puts}`, LatticeType.LWW, encodeLww({ timestamp: 1, value: "v" }))) === "OK")
      puts++;
    expect(statusOf(() => store.merge("merged", LatticeType.LWW, encodeLww({ timestamp: 1, value: "v" })))).toBe(
      "OUT_OF_MEMORY",
    );
  });
});
