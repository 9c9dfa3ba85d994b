/** The Store contract (docs/wasm-abi.md) on the TypeScript engine. */
import { decodeBatchResults, decodeRecords, encodeBatch, Opcode } from "../../src/core/batch";
import { resolveLimits, StoreLimits } from "../../src/core/limits";
import { Status, StoreError } from "../../src/core/status";
import { ENTRY_OVERHEAD_BYTES, TsStore } from "../../src/core/ts-store";
import { encodeLww, encodeSet, LatticeType } from "../../src/lattices";
import { Random } from "../support/random";

const SEED = 20240611;
const LIMITS = { maxKeyBytes: 16, maxValueBytes: 64 };
const LWW = LatticeType.LWW;
const SET = LatticeType.SET;

const newStore = (limits: Partial<StoreLimits> = LIMITS) => new TsStore(resolveLimits(limits));
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const lww = (timestamp: number, value: string) => encodeLww({ timestamp, value });

function errorCode(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
}

/** Everything observable about a store, to show that a failed call changed nothing. */
function snapshot(store: TsStore): unknown {
  const records: string[] = [];
  let cursor = 0;
  do {
    const page = store.scan(cursor, 1 << 20);
    for (const record of decodeRecords(page.records))
      records.push(`${record.type}:${text(record.key)}=${text(record.payload)}`);
    cursor = page.nextCursor;
  } while (cursor !== 0);
  return { records: records.sort(), stats: store.stats() };
}

describe("TsStore single operations", () => {
  it("stores the canonical merge and returns a copy", () => {
    const store = newStore();
    store.put("k", SET, encodeSet(["b"]));
    store.put("k", SET, Uint8Array.of(0x0a, 0x01, 0x61, 0x0a, 0x01, 0x61));
    const value = store.get("k")!;
    expect(value).toEqual({ type: SET, payload: encodeSet(["a", "b"]) });
    value.payload[0] = 0;
    expect(store.get("k")!.payload).toEqual(encodeSet(["a", "b"]));
    expect(store.get(utf8("k"))!.type).toBe(SET);
  });

  it("copies the key and the payload it is given", () => {
    const store = newStore();
    const key = utf8("key");
    const payload = lww(1, "v");
    store.put(key, LWW, payload);
    key[0] = 0x78;
    payload.fill(0);
    expect(store.get("key")!.payload).toEqual(lww(1, "v"));
  });

  it("tells absent keys from present ones", () => {
    const store = newStore();
    expect(store.get("k")).toBeUndefined();
    expect(store.delete("k")).toBe(false);
    store.put("k", LWW, lww(1, "v"));
    expect(store.size).toBe(1);
    expect(store.delete("k")).toBe(true);
    expect(store.get("k")).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.stats().bytesUsed).toBe(0);
  });

  it.each([
    ["KEY_TOO_LARGE", "k".repeat(17), 99, new Uint8Array(100)],
    ["LATTICE", "k", 0, new Uint8Array(100)],
    ["LATTICE", "k", 7, lww(1, "v")],
    ["VALUE_TOO_LARGE", "set", LWW, Uint8Array.of(0x0b, ...new Uint8Array(64))],
    ["LATTICE", "set", LWW, Uint8Array.of(0x0b)],
    ["MALFORMED", "set", SET, Uint8Array.of(0x0b)],
    ["VALUE_TOO_LARGE", "set", SET, encodeSet(["x".repeat(31)])],
  ])("fails with %s, checks in the documented order, and changes nothing", (code, key, type, payload) => {
    const store = newStore();
    store.put("set", SET, encodeSet(["y".repeat(31)]));
    const before = snapshot(store);
    expect(errorCode(() => store.put(key, type, payload))).toBe(code);
    expect(errorCode(() => store.merge(key, type, payload))).toBe(code);
    expect(snapshot(store)).toEqual(before);
  });

  it("refuses over-long keys on get and delete too", () => {
    const store = newStore();
    expect(errorCode(() => store.get("k".repeat(17)))).toBe("KEY_TOO_LARGE");
    expect(errorCode(() => store.delete("k".repeat(17)))).toBe("KEY_TOO_LARGE");
    store.put("k".repeat(16), LWW, lww(1, "v"));
    expect(store.get("k".repeat(16))).toBeDefined();
  });

  it("runs out of memory at the estimate and keeps its state", () => {
    const entry = (keyBytes: number, valueBytes: number) => 2 * keyBytes + valueBytes + ENTRY_OVERHEAD_BYTES;
    const value = lww(1, "v");
    const store = newStore({ ...LIMITS, maxMemoryBytes: 2 * entry(2, value.length) });
    store.put("k1", LWW, value);
    store.put("k2", LWW, value);
    expect(store.stats().bytesUsed).toBe(2 * entry(2, value.length));
    const before = snapshot(store);
    expect(errorCode(() => store.put("k3", LWW, value))).toBe("OUT_OF_MEMORY");
    expect(errorCode(() => store.put("k1", LWW, lww(2, "longer")))).toBe("OUT_OF_MEMORY");
    expect(snapshot(store)).toEqual(before);
    store.put("k1", LWW, lww(2, "w"));
    store.delete("k2");
    store.put("k3", LWW, value);
    expect(store.size).toBe(2);
  });
});

describe("TsStore dirty keys", () => {
  it("marks on a changing put only, never on merge", () => {
    const store = newStore();
    store.merge("gossip", LWW, lww(1, "v"));
    store.put("k", LWW, lww(2, "v"));
    expect(store.stats().dirtyKeyCount).toBe(1);
    expect(decodeRecords(store.drainDirty(1 << 20)).map((r) => text(r.key))).toEqual(["k"]);
    store.put("k", LWW, lww(1, "old"));
    store.put("k", LWW, lww(2, "v"));
    expect(store.drainDirty(1 << 20).length).toBe(0);
    store.merge("k", LWW, lww(3, "v"));
    expect(store.stats().dirtyKeyCount).toBe(0);
  });

  it("drains at least one record, stops before passing maxBytes, and clears marks", () => {
    const store = newStore();
    for (const key of ["a", "b", "c"]) store.put(key, LWW, lww(1, "v"));
    const recordBytes = 9 + 1 + lww(1, "v").length;
    expect(decodeRecords(store.drainDirty(1)).length).toBe(1);
    expect(decodeRecords(store.drainDirty(2 * recordBytes + 1)).length).toBe(2);
    expect(store.drainDirty(1 << 20).length).toBe(0);
    store.put("a", LWW, lww(2, "v"));
    expect(decodeRecords(store.drainDirty(1 << 20))).toEqual([{ type: LWW, key: utf8("a"), payload: lww(2, "v") }]);
  });

  it("forgets the mark of a deleted key", () => {
    const store = newStore();
    store.put("a", LWW, lww(1, "v"));
    store.delete("a");
    store.put("b", LWW, lww(1, "v"));
    store.delete("b");
    store.merge("b", LWW, lww(1, "v"));
    expect(store.stats().dirtyKeyCount).toBe(0);
    expect(store.drainDirty(100).length).toBe(0);
  });
});

describe("TsStore batches", () => {
  it("runs operations in order and writes the output format", () => {
    const store = newStore();
    const output = store.executeBatch(
      encodeBatch([
        { opcode: Opcode.GET, type: 0, key: utf8("k") },
        { opcode: Opcode.PUT, type: LWW, key: utf8("k"), payload: lww(2, "v") },
        { opcode: Opcode.GET, type: 9 as LatticeType, key: utf8("k") },
        { opcode: Opcode.PUT, type: SET, key: utf8("k"), payload: encodeSet([]) },
        { opcode: Opcode.MERGE, type: LWW, key: utf8("m"), payload: Uint8Array.of(0x0b) },
        { opcode: Opcode.PUT, type: 0, key: utf8("k".repeat(17)), payload: new Uint8Array(0) },
        { opcode: Opcode.DELETE, type: 0, key: utf8("k") },
        { opcode: Opcode.DELETE, type: 0, key: utf8("k") },
      ]),
    );
    const results = decodeBatchResults(output).map((r) => [r.status, r.type, text(r.payload)]);
    expect(results).toEqual([
      [Status.NOT_FOUND, 0, ""],
      [Status.OK, 0, ""],
      [Status.OK, LWW, text(lww(2, "v"))],
      [Status.LATTICE, 0, ""],
      [Status.MALFORMED, 0, ""],
      [Status.KEY_TOO_LARGE, 0, ""],
      [Status.OK, 0, ""],
      [Status.NOT_FOUND, 0, ""],
    ]);
    expect(store.size).toBe(0);
  });

  it("marks PUTs dirty and MERGEs not", () => {
    const store = newStore();
    store.executeBatch(
      encodeBatch([
        { opcode: Opcode.PUT, type: LWW, key: utf8("p"), payload: lww(1, "v") },
        { opcode: Opcode.MERGE, type: LWW, key: utf8("m"), payload: lww(1, "v") },
      ]),
    );
    expect(decodeRecords(store.drainDirty(1000)).map((r) => text(r.key))).toEqual(["p"]);
  });

  const good = encodeBatch([{ opcode: Opcode.PUT, type: LWW, key: utf8("k"), payload: lww(1, "v") }]);
  const withHeader = (count: number, ...ops: number[][]) => {
    const bytes = Uint8Array.from([0, 0, 0, 0, ...ops.flat()]);
    new DataView(bytes.buffer).setUint32(0, count, true);
    return bytes;
  };
  it.each([
    ["shorter than its header", Uint8Array.of(1, 0, 0)],
    ["trailing bytes", Uint8Array.from([...good, 0])],
    ["a truncated operation", good.subarray(0, good.length - 1)],
    ["more operations than bytes", withHeader(2, [...good.subarray(4)])],
    ["opcode 0", withHeader(1, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["opcode 5", withHeader(1, [5, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ["a GET with a payload", withHeader(1, [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61])],
    ["a DELETE with a payload", withHeader(1, [3, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61])],
    ["a key length past the end", withHeader(1, [1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])],
  ])("refuses a batch with %s and executes nothing", (_case, batch) => {
    const store = newStore();
    // The same batch behind a good PUT: the PUT must not run either.
    const opCount = batch.length >= 4 ? new DataView(batch.buffer).getUint32(0, true) : 0;
    const mixed = batch.length >= 4 ? withHeader(opCount + 1, [...good.subarray(4)], [...batch.subarray(4)]) : batch;
    expect(errorCode(() => store.executeBatch(batch))).toBe("BAD_BATCH");
    expect(errorCode(() => store.executeBatch(mixed))).toBe("BAD_BATCH");
    expect(store.size).toBe(0);
    expect(store.stats().dirtyKeyCount).toBe(0);
  });

  it("runs a batch written in place into batchBuffer", () => {
    const store = newStore();
    const batch = encodeBatch([
      { opcode: Opcode.PUT, type: LWW, key: utf8("k"), payload: lww(1, "v") },
      { opcode: Opcode.GET, type: 0, key: utf8("k") },
    ]);
    store.batchBuffer(batch.length).set(batch);
    const results = decodeBatchResults(store.executeBatchInPlace(batch.length));
    expect(results[1].payload).toEqual(lww(1, "v"));
    const big = "x".repeat(60);
    const bigBatch = encodeBatch(
      Array.from({ length: 2000 }, (_, i) => ({
        opcode: Opcode.PUT,
        type: SET,
        key: utf8(`k${i}`),
        payload: encodeSet([big]),
      })),
    );
    store.batchBuffer(bigBatch.length).set(bigBatch);
    expect(decodeBatchResults(store.executeBatchInPlace(bigBatch.length)).every((r) => r.status === Status.OK)).toBe(
      true,
    );
    expect(store.size).toBe(2001);
  });
});

describe("TsStore scans", () => {
  it("returns every key once over pages of at least one record", () => {
    const store = newStore();
    for (let i = 0; i < 50; i++) store.put(`k${i}`, LWW, lww(i + 1, "v"));
    for (let i = 0; i < 50; i += 3) store.delete(`k${i}`);
    const seen: string[] = [];
    let cursor = 0;
    do {
      const page = store.scan(cursor, 1);
      const records = decodeRecords(page.records);
      expect(records.length).toBe(1);
      seen.push(...records.map((r) => text(r.key)));
      cursor = page.nextCursor;
    } while (cursor !== 0);
    expect(seen.sort()).toEqual(
      Array.from({ length: 50 }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => `k${i}`)
        .sort(),
    );
  });

  it("ends at once on an empty store", () => {
    const page = newStore().scan(0, 100);
    expect(page).toEqual({ records: new Uint8Array(0), nextCursor: 0 });
  });

  it("returns keys present for the whole scan while others come and go", () => {
    const random = new Random(SEED);
    for (let round = 0; round < 20; round++) {
      const store = newStore({ ...LIMITS, maxMemoryBytes: 1 << 30 });
      const stable = new Set<string>();
      for (let i = 0; i < 100; i++) {
        store.put(`s${i}`, LWW, lww(1, "v"));
        if (random.chance(0.5)) stable.add(`s${i}`);
      }
      const seen = new Set<string>();
      let cursor = 0;
      let step = 0;
      do {
        const page = store.scan(cursor, 1 + random.int(80));
        for (const record of decodeRecords(page.records)) seen.add(text(record.key));
        cursor = page.nextCursor;
        // Churn on the first pages only: keys appended at the end would keep the scan going.
        for (let i = step < 40 ? random.int(6) : 0; i > 0; i--) {
          const victim = `s${random.int(100)}`;
          if (!stable.has(victim)) store.delete(victim);
          store.put(`n${round}.${step}.${i}`, LWW, lww(1, "v"));
        }
        step++;
      } while (cursor !== 0);
      for (const key of stable) {
        if (!seen.has(key)) throw new Error(`seed ${SEED}, round ${round}: scan missed ${key}`);
      }
    }
  });
});
