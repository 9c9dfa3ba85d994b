/**
 * A batch's PUT superseded by the next operation, a newer plain PUT of the same key
 * (assembly/superseded.ts): skipped, counted, answered with the status of the write that
 * superseded it; every batch still answers and stores as the TS twin, which runs each op.
 */
import fc from "fast-check";
import { BatchOp, decodeBatchResults, encodeBatch, Opcode } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { Status, StoreError } from "../../src/core/status";
import type { Store } from "../../src/core/store";
import { decodeLww, encodeLww } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";

const text = new TextEncoder();
const KEY = text.encode("k");
const LIMITS = { maxKeyBytes: 8, maxValueBytes: 64 };

function put(key: Uint8Array, payload: Uint8Array, type = LatticeType.LWW): BatchOp {
  return { opcode: Opcode.PUT, type, key, payload };
}

function plain(timestamp: number, value: string): Uint8Array {
  return encodeLww({ timestamp, value });
}

function statuses(store: Store, ops: BatchOp[]): Status[] {
  return decodeBatchResults(store.executeBatch(encodeBatch(ops))).map((result) => result.status);
}

function storedTimestamp(store: Store, key: Uint8Array): bigint | undefined {
  const stored = store.get(key);
  return stored === undefined ? undefined : decodeLww(stored.payload).timestamp;
}

describe("superseded writes (Wasm engine)", () => {
  it("skips a plain PUT followed by a newer plain PUT of its key, and only that", () => {
    const store = createStore({ engine: "wasm" });
    store.put(KEY, LatticeType.LWW, plain(1, "stored"));
    const other = text.encode("other");
    const ops = [
      put(KEY, plain(2, "a")), // superseded by the next (3 > 2)
      put(KEY, plain(3, "b")), // not: the next is older
      put(KEY, plain(2, "c")), // not: the next is another key
      put(other, plain(9, "d")), // not: the next is a GET
      { opcode: Opcode.GET, type: LatticeType.LWW, key: other },
      put(other, plain(10, "e")), // not: the next carries a write id (not plain)
      put(other, encodeLww({ timestamp: 11, value: "f", writeId: text.encode("w") })),
      put(KEY, plain(4, "g")), // superseded by the next (5 > 4)
      put(KEY, plain(5, "h")), // superseded by the next (6 > 5)
      put(KEY, plain(6, "i")),
    ];
    expect(statuses(store, ops)).toEqual(ops.map(() => Status.OK));
    expect(store.stats().supersededWriteCount).toBe(3);
    expect(decodeLww(store.get(KEY)!.payload)).toMatchObject({ timestamp: 6n, value: text.encode("i") });
    expect(decodeLww(store.get(other)!.payload).timestamp).toBe(11n);
  });

  it("answers a superseded write as the write that superseded it: OUT_OF_MEMORY if that could not be stored", () => {
    const store = createStore({ engine: "wasm", limits: { maxMemoryBytes: 4 * 1024 * 1024 } });
    const sized = (timestamp: number, bytes: number) => encodeLww({ timestamp, value: Buffer.alloc(bytes, timestamp) });
    let keys = 0;
    const fill = () => {
      try {
        store.put(`fill-${keys}`, LatticeType.LWW, sized(1, 40_000));
        return true;
      } catch (error) {
        if (error instanceof StoreError && error.code === "OUT_OF_MEMORY") return false;
        throw error;
      }
    };
    while (fill()) keys++;
    const key = text.encode("fill-0");
    // Alone, a newer value of the same size is written in place; a larger one needs memory.
    const sameSize = sized(2, 40_000);
    const larger = sized(3, 400_000);
    expect(statuses(store, [put(key, larger)])).toEqual([Status.OUT_OF_MEMORY]);
    expect(statuses(store, [put(key, sameSize), put(key, larger)])).toEqual([
      Status.OUT_OF_MEMORY,
      Status.OUT_OF_MEMORY,
    ]);
    expect(store.stats().supersededWriteCount).toBe(1);
    // Neither was acknowledged, and neither was stored.
    expect(storedTimestamp(store, key)).toBe(1n);
    expect(statuses(store, [put(key, sameSize)])).toEqual([Status.OK]);
    expect(storedTimestamp(store, key)).toBe(2n);
  });

  it("answers a superseded write LATTICE when its key holds another type", () => {
    const store = createStore({ engine: "wasm" });
    store.put(KEY, LatticeType.SET, Uint8Array.of());
    expect(statuses(store, [put(KEY, plain(2, "a")), put(KEY, plain(3, "b"))])).toEqual([
      Status.LATTICE,
      Status.LATTICE,
    ]);
    expect(store.stats().supersededWriteCount).toBe(1);
  });
});

describe("superseded writes against the TS twin", () => {
  const keys = ["a", "b", "toolong-key"].map((key) => text.encode(key));
  const op = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({ key: fc.constantFrom(...keys), timestamp: fc.integer({ min: 1, max: 12 }), length: fc.nat(70) })
        .map(({ key, timestamp, length }) =>
          put(key, encodeLww({ timestamp, value: Buffer.alloc(length, timestamp) })),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ key: fc.constantFrom(...keys), timestamp: fc.integer({ min: 1, max: 12 }) })
        .map(({ key, timestamp }) => put(key, encodeLww({ timestamp, value: "v", writeId: text.encode("w") }))),
    },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((key) => put(key, Uint8Array.of(0xff))) },
    {
      weight: 1,
      arbitrary: fc
        .record({ key: fc.constantFrom(...keys), timestamp: fc.integer({ min: 1, max: 12 }) })
        .map(({ key, timestamp }): BatchOp => ({ ...put(key, plain(timestamp, "m")), opcode: Opcode.MERGE })),
    },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((key): BatchOp => ({ opcode: Opcode.GET, type: 0, key })) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((key): BatchOp => ({ opcode: Opcode.DELETE, type: 0, key })) },
  );

  it("answers and stores every batch byte for byte as the twin", () => {
    let superseded = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        (batches) => {
          const wasm = createStore({ engine: "wasm", limits: LIMITS });
          const ts = createStore({ engine: "ts", limits: LIMITS });
          for (const batch of batches) {
            const encoded = encodeBatch(batch);
            expect(Buffer.from(wasm.executeBatch(encoded))).toEqual(Buffer.from(ts.executeBatch(encoded)));
          }
          // The final state, through the batch path too (a key over the limit answers KEY_TOO_LARGE).
          const reads = encodeBatch(keys.map((key): BatchOp => ({ opcode: Opcode.GET, type: 0, key })));
          expect(Buffer.from(wasm.executeBatch(reads))).toEqual(Buffer.from(ts.executeBatch(reads)));
          superseded += wasm.stats().supersededWriteCount;
        },
      ),
      { numRuns: 300 },
    );
    // The batches did exercise the skipping.
    expect(superseded).toBeGreaterThan(0);
  });
});
