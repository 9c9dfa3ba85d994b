/**
 * mergeRecords (src/core/merge-records.ts) on both engines: the same statuses and contents
 * as merging the records one by one, in chunks never bigger than asked (or one record), and
 * at the memory limit a record that does not fit stops none of the others. Replay a random
 * failure with ANNAKV_SEED=<seed>.
 */
import { BATCH_HEADER_BYTES, opBytes, StoreRecord } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { MERGE_CHUNK_BYTES, mergeRecords } from "../../src/core/merge-records";
import { Status, StoreError } from "../../src/core/status";
import type { EngineName, Store } from "../../src/core/store";
import { encodeLww, LatticeType } from "../../src/lattices";
import { corruptPayload, randomPayload, smallBytes } from "../support/payloads";
import { Random, testSeed } from "../support/random";

const ENGINES: EngineName[] = ["wasm", "ts"];
const LIMITS = { maxKeyBytes: 24, maxValueBytes: 96 };
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The store's statuses as one-by-one merges give them. */
function mergeOneByOne(store: Store, records: readonly StoreRecord[]): number[] {
  return records.map((record) => {
    try {
      store.merge(record.key, record.type, record.payload);
      return Status.OK;
    } catch (error) {
      if (error instanceof StoreError) return Status[error.code];
      throw error;
    }
  });
}

/** Every key and value, sorted. */
function contents(store: Store): string[] {
  const records: string[] = [];
  let cursor = 0;
  do {
    const page = store.scan(cursor, 4096);
    records.push(...splitRecords(page.records));
    cursor = page.nextCursor;
  } while (cursor !== 0);
  return records.sort();
}

function splitRecords(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: string[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const length = 9 + view.getUint32(offset + 1, true) + view.getUint32(offset + 5, true);
    records.push(hex(bytes.subarray(offset, offset + length)));
    offset += length;
  }
  return records;
}

function randomRecord(random: Random, keys: Uint8Array[]): StoreRecord {
  const key = random.chance(0.02) ? random.bytes(LIMITS.maxKeyBytes + 1) : random.pick(keys);
  const type = random.chance(0.02) ? random.pick([0, 9]) : 1 + random.int(6);
  let payload = randomPayload(random, type === 0 || type > 6 ? 1 : type);
  if (random.chance(0.05)) payload = corruptPayload(random, payload);
  if (random.chance(0.02)) payload = random.bytes(LIMITS.maxValueBytes + 1);
  return { type, key, payload };
}

/** The store, with every batchBuffer size it was asked for noted. */
function noting(store: Store, sizes: number[]): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "batchBuffer") {
        return (bytes: number) => {
          sizes.push(bytes);
          return target.batchBuffer(bytes);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("mergeRecords", () => {
  it("gives the statuses and contents of one-by-one merges on both engines, in bounded chunks", () => {
    const seed = testSeed();
    const random = new Random(seed);
    const keys = Array.from({ length: 40 }, () => smallBytes(random, 5));
    const stores = ENGINES.map((engine) => ({
      engine,
      chunked: createStore({ engine, limits: LIMITS }),
      reference: createStore({ engine, limits: LIMITS }),
    }));
    for (let round = 0; round < 300; round++) {
      const records = Array.from({ length: random.int(40) }, () => randomRecord(random, keys));
      const chunkBytesMax = random.pick([1, 16, 64, 200, 1000, MERGE_CHUNK_BYTES]);
      const results = stores.map(({ engine, chunked, reference }) => {
        const sizes: number[] = [];
        const statuses = Array.from(mergeRecords(noting(chunked, sizes), records, chunkBytesMax));
        const largestOp = Math.max(
          0,
          ...records.map((record) => BATCH_HEADER_BYTES + opBytes(record.key.length, record.payload.length)),
        );
        for (const size of sizes) expect(size).toBeLessThanOrEqual(Math.max(chunkBytesMax, largestOp));
        const expected = mergeOneByOne(reference, records);
        if (JSON.stringify(statuses) !== JSON.stringify(expected))
          throw new Error(`seed ${seed}, round ${round}, ${engine}: ${statuses} != ${expected}`);
        return { statuses, contents: contents(chunked) };
      });
      if (JSON.stringify(results[0]) !== JSON.stringify(results[1]))
        throw new Error(`seed ${seed}, round ${round}: the engines differ`);
    }
    for (const { chunked, reference } of stores) expect(contents(chunked)).toEqual(contents(reference));
  });

  it("merges nothing for no records, and refuses a chunk size that is no size", () => {
    const store = createStore({ engine: "ts" });
    expect(mergeRecords(store, [])).toEqual(new Uint8Array(0));
    expect(() => mergeRecords(store, [], 0)).toThrow(RangeError);
  });

  describe.each(ENGINES)("at the memory limit (%s engine)", (engine) => {
    const VALUE_BYTES = 40_000;
    const value = (timestamp: number, fill: number) => encodeLww({ timestamp, value: Buffer.alloc(VALUE_BYTES, fill) });
    const record = (key: string, payload: Uint8Array): StoreRecord => ({
      type: LatticeType.LWW,
      key: Buffer.from(key),
      payload,
    });

    /** A 4 MiB store filled by merges of 40 KB values until one more does not fit; returns their keys. */
    function filledStore(): { store: Store; keys: string[] } {
      const store = createStore({ engine, limits: { maxMemoryBytes: 4 * 1024 * 1024 } });
      const keys: string[] = [];
      for (;;) {
        const key = `filled-${keys.length}`;
        const [status] = mergeRecords(store, [record(key, value(1, 1))]);
        if (status === Status.OUT_OF_MEMORY) break;
        expect(status).toBe(Status.OK);
        keys.push(key);
      }
      expect(keys.length).toBeGreaterThan(40);
      return { store, keys };
    }

    it("answers OUT_OF_MEMORY for the records that do not fit and merges the others", () => {
      const { store, keys } = filledStore();
      const before = store.stats();
      const statuses = mergeRecords(store, [
        record("new-0", value(2, 2)),
        record(keys[0], value(2, 2)),
        record("new-1", value(2, 2)),
        record(keys[1], value(2, 2)),
      ]);
      expect(Array.from(statuses)).toEqual([Status.OUT_OF_MEMORY, Status.OK, Status.OUT_OF_MEMORY, Status.OK]);
      expect(store.get("new-0")).toBeUndefined();
      expect(store.get("new-1")).toBeUndefined();
      for (const key of keys.slice(0, 2)) expect(hex(store.get(key)!.payload)).toBe(hex(value(2, 2)));
      expect(store.stats().keyCount).toBe(before.keyCount);
    });

    it("merges record by record a chunk whose input region the store cannot give", () => {
      const { store, keys } = filledStore();
      const sizes: number[] = [];
      // Two values in one chunk need a 128 KiB input region; a full Wasm store holds 64 KiB.
      const statuses = mergeRecords(
        noting(store, sizes),
        [record(keys[2], value(3, 3)), record(keys[3], value(3, 3))],
        128 * 1024,
      );
      expect(Array.from(statuses)).toEqual([Status.OK, Status.OK]);
      for (const key of keys.slice(2, 4)) expect(hex(store.get(key)!.payload)).toBe(hex(value(3, 3)));
      // Wasm: the chunk was refused, then each record went alone; TS: no region to refuse.
      expect(sizes).toHaveLength(engine === "wasm" ? 3 : 1);
    });
  });
});
