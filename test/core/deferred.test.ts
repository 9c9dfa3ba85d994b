/**
 * Value copies deferred to the end of a batch (assembly/deferred.ts): a batch that writes
 * keys again and again, reads, deletes and merges them between writes, and writes more keys
 * than the notes' cache holds, answers and stores exactly as the TS twin, which copies each
 * write at once; and nothing is left noted once the batch is over.
 */
import fc from "fast-check";
import { BatchOp, encodeBatch, Opcode } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import type { Store } from "../../src/core/store";
import { encodeLww } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";

/** More keys than the 64 notes, so that notes meet in their slots and are written out early. */
const KEY_COUNT = 150;
const keys = Array.from({ length: KEY_COUNT }, (_, i) => new TextEncoder().encode(`key-${i}`));
const VALUE_BYTES = 48;

function lwwPut(key: Uint8Array, timestamp: number, opcode = Opcode.PUT): BatchOp {
  return {
    opcode,
    type: LatticeType.LWW,
    key,
    payload: encodeLww({ timestamp, value: Buffer.alloc(VALUE_BYTES, timestamp % 251) }),
  };
}

function preloaded(engine: "wasm" | "ts"): Store {
  const store = createStore({ engine });
  for (const key of keys) store.put(key, LatticeType.LWW, lwwPut(key, 1).payload!);
  return store;
}

function scanAll(store: Store): string[] {
  const reads = encodeBatch(keys.map((key): BatchOp => ({ opcode: Opcode.GET, type: 0, key })));
  return [Buffer.from(store.executeBatch(reads)).toString("hex")];
}

describe("deferred copies in a batch", () => {
  it("answers and stores as the TS twin when hot keys are written, read, deleted and merged in one batch", () => {
    const op = fc
      .record({
        key: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: KEY_COUNT - 1 })),
        kind: fc.integer({ min: 0, max: 19 }),
        timestamp: fc.integer({ min: 2, max: 400 }),
      })
      .map(({ key, kind, timestamp }): BatchOp => {
        if (kind < 14) return lwwPut(keys[key], timestamp);
        if (kind < 16) return { opcode: Opcode.GET, type: 0, key: keys[key] };
        if (kind < 17) return { opcode: Opcode.DELETE, type: 0, key: keys[key] };
        if (kind < 18) return lwwPut(keys[key], timestamp, Opcode.MERGE);
        // Another length: the general path, which must see the latest value.
        return { ...lwwPut(keys[key], timestamp), payload: encodeLww({ timestamp, value: "short" }) };
      });
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 3 }),
        (batches) => {
          const wasm = preloaded("wasm");
          const ts = preloaded("ts");
          for (const batch of batches) {
            const encoded = encodeBatch(batch);
            expect(Buffer.from(wasm.executeBatch(encoded)).toString("hex")).toBe(
              Buffer.from(ts.executeBatch(encoded)).toString("hex"),
            );
            // Per-op calls after the batch see every write of it.
            for (const key of keys.slice(0, 4)) expect(wasm.get(key)).toEqual(ts.get(key));
          }
          expect(scanAll(wasm)).toEqual(scanAll(ts));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("writes every key's last value out when a batch writes more keys than there are notes", () => {
    const wasm = preloaded("wasm");
    // Every key three times, round robin: each note meets another entry's before the batch ends.
    const batch = [0, 1, 2].flatMap((round) => keys.map((key, i) => lwwPut(key, 10 + round * KEY_COUNT + i)));
    wasm.executeBatch(encodeBatch(batch));
    for (const [i, key] of keys.entries()) {
      expect(Buffer.from(wasm.get(key)!.payload)).toEqual(Buffer.from(lwwPut(key, 10 + 2 * KEY_COUNT + i).payload!));
    }
  });
});
