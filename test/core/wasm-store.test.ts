/**
 * The Wasm engine (build/annakv.wasm through WasmStore) against docs/wasm-abi.md: every
 * export, every status code, the canonical encoding and merge rule of each lattice type,
 * table growth to 1M keys, reuse of freed memory, the memory limit, batches, dirty drains
 * and scans. Build the wasm first (`npm run build:wasm`). Random parts use a fixed seed;
 * replay another with ANNAKV_SEED=<seed>.
 */
import * as fs from "fs";
import * as path from "path";
import { BatchOp, BatchWriter, decodeBatchResults, decodeRecords, encodeBatch, Opcode } from "../../src/core/batch";
import { DEFAULT_LIMITS, StoreLimits } from "../../src/core/limits";
import { Status, StoreError } from "../../src/core/status";
import { loadWasmModule, WasmStore } from "../../src/core/wasm-store";
import { LatticeType } from "../../src/lattices/lattice-type";
import { xxhash64Bytes } from "../../src/routing/hash";
import { Random } from "../support/random";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 20240611;
const text = new TextEncoder();

// ---- payload builders (plain protobuf, not necessarily canonical) ----

function varint(value: number | bigint): number[] {
  let rest = BigInt(value) & 0xffffffffffffffffn;
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

function bytesOf(value: string | Uint8Array | number[]): number[] {
  return typeof value === "string" ? [...text.encode(value)] : [...value];
}

function lenField(tag: number, value: string | Uint8Array | number[]): number[] {
  const bytes = bytesOf(value);
  return [tag, ...varint(bytes.length), ...bytes];
}

const u8 = (...parts: number[][]): Uint8Array => new Uint8Array(parts.flat());

function lww(timestamp: number | bigint, value: string, writeId: string | number[] = ""): Uint8Array {
  return u8(
    timestamp === 0 ? [] : [0x08, ...varint(timestamp)],
    value === "" ? [] : lenField(0x12, value),
    writeId.length === 0 ? [] : lenField(0x6a, writeId),
  );
}

function setOf(...elements: string[]): Uint8Array {
  return u8(...elements.map((element) => lenField(0x0a, element)));
}

function priority(value: number, bytes: string): Uint8Array {
  const double = new Uint8Array(8);
  new DataView(double.buffer).setFloat64(0, value, true);
  return u8([0x09, ...double], bytes === "" ? [] : lenField(0x12, bytes));
}

type Clock = [string, number][];

function clockEntries(tag: number, clock: Clock): number[] {
  return clock.flatMap(([key, counter]) =>
    lenField(tag, [...(key === "" ? [] : lenField(0x0a, key)), ...(counter === 0 ? [] : [0x10, ...varint(counter)])]),
  );
}

function singleCausal(clock: Clock, values: string[]): Uint8Array {
  return u8(clockEntries(0x0a, clock), ...values.map((value) => lenField(0x12, value)));
}

function multiCausal(clock: Clock, dependencies: [string, Clock][], values: string[]): Uint8Array {
  const dependencyFields = dependencies.map(([key, dependencyClock]) =>
    lenField(0x12, [...(key === "" ? [] : lenField(0x0a, key)), ...clockEntries(0x12, dependencyClock)]),
  );
  return u8(clockEntries(0x0a, clock), ...dependencyFields, ...values.map((value) => lenField(0x1a, value)));
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function newStore(limits: Partial<StoreLimits> = {}): WasmStore {
  return new WasmStore({ ...DEFAULT_LIMITS, ...limits });
}

function statusOf(action: () => unknown): string {
  try {
    action();
    return "OK";
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
}

function stored(store: WasmStore, key: string): string {
  const value = store.get(key);
  if (value === undefined) throw new Error(`key ${key} is missing`);
  return hex(value.payload);
}

// ---- raw ABI ----

interface RawCore {
  memory: WebAssembly.Memory;
  [name: string]: unknown;
}

function rawInstance(): { core: RawCore; call: (name: string, ...args: number[]) => number } {
  const instance = new WebAssembly.Instance(loadWasmModule(), {
    env: {
      abort: () => {
        throw new Error("abort");
      },
    },
  });
  const core = instance.exports as unknown as RawCore;
  return { core, call: (name, ...args) => (core[name] as (...a: number[]) => number)(...args) };
}

describe("wasm module", () => {
  test("imports only env.abort and exports the ABI", () => {
    const module = loadWasmModule();
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "env", name: "abort", kind: "function" }]);
    const exports = WebAssembly.Module.exports(module)
      .map((entry) => entry.name)
      .sort();
    expect(exports).toEqual(
      [
        "abiVersion",
        "batch",
        "bytesUsed",
        "configure",
        "dirtyCount",
        "discardDirty",
        "drainDirty",
        "get",
        "hashKey",
        "inputBuffer",
        "keyCount",
        "memory",
        "memoryBytes",
        "merge",
        "outputLength",
        "outputPtr",
        "put",
        "remove",
        "resultType",
        "scan",
        "requestTable",
        "countRequests",
        "parseRequests",
        "serveRequests",
        "supersededWrites",
      ].sort(),
    );
    expect(fs.existsSync(path.resolve(__dirname, "../../build/annakv.wasm"))).toBe(true);
  });

  test("abiVersion, configure ranges, inputBuffer and the plain-Wasm call cycle", () => {
    const { core, call } = rawInstance();
    expect(call("abiVersion")).toBe(8);
    expect(call("configure", 0, 10, 100)).toBe(Status.LATTICE);
    expect(call("configure", 10, 0, 100)).toBe(Status.LATTICE);
    expect(call("configure", 10, 10, 0)).toBe(Status.LATTICE);
    expect(call("configure", 10, 10, 65537)).toBe(Status.LATTICE);
    expect(call("configure", -1, 10, 100)).toBe(Status.LATTICE);
    expect(call("configure", 16, 64, 64)).toBe(Status.OK);
    const ptr = call("inputBuffer", 100) >>> 0;
    expect(ptr).toBeGreaterThan(0);
    const key = text.encode("k");
    const payload = lww(5, "v");
    new Uint8Array(core.memory.buffer).set([...key, ...payload], ptr);
    expect(call("put", LatticeType.LWW, key.length, payload.length)).toBe(Status.OK);
    expect(call("keyCount")).toBe(1);
    expect(call("dirtyCount")).toBe(1);
    expect(call("get", key.length)).toBe(Status.OK);
    expect(call("resultType")).toBe(LatticeType.LWW);
    const out = call("outputPtr") >>> 0;
    expect(hex(new Uint8Array(core.memory.buffer, out, call("outputLength")))).toBe(hex(payload));
    expect(call("bytesUsed")).toBeGreaterThan(0);
    expect(call("memoryBytes") % 65536).toBe(0);
    // A length past the input region is refused, never read.
    expect(call("get", 0x7fffffff)).toBe(Status.KEY_TOO_LARGE);
    expect(call("configure", 0x7fffffff, 64, 64)).toBe(Status.OK);
    expect(call("get", 0x7ffffff0)).toBe(Status.MALFORMED);
    expect(call("put", LatticeType.LWW, 1, 0x7ffffff0)).toBe(Status.VALUE_TOO_LARGE);
    expect(call("batch", 0x7ffffff0)).toBe(Status.BAD_BATCH);
    expect(call("remove", key.length)).toBe(Status.OK);
    expect(call("remove", key.length)).toBe(Status.NOT_FOUND);
    // A memory limit below what the instance already holds is out of range.
    expect(call("configure", 16, 64, 1)).toBe(Status.LATTICE);
  });

  test("an out-of-range memory limit is refused by the constructor", () => {
    expect(() => newStore({ maxMemoryBytes: 1000 })).toThrow(RangeError);
  });
});

describe("hashKey: xxHash64, seed 0", () => {
  const store = newStore();
  test.each([
    ["", "ef46db3751d8e999"],
    ["a", "d24ec4f1a98c6e5b"],
    ["abc", "44bc2cf5ad770999"],
    ["Nobody inspects the spammish repetition", "fbcea83c8a378bf1"],
  ])("xxh64(%j) = %s", (key, expected) => {
    expect(Buffer.from(store.hashKey(key)).reverse().toString("hex")).toBe(expected);
  });

  test("agrees with the TypeScript hash of src/routing on random keys of every length", () => {
    const random = new Random(SEED);
    for (let length = 0; length < 300; length++) {
      const key = random.bytes(length);
      expect([length, hex(store.hashKey(key))]).toEqual([length, hex(xxhash64Bytes(key))]);
    }
  });
});

describe("lattices: canonical encoding and merge", () => {
  test("LWW: larger timestamp wins, equal timestamps larger bytes, defaults omitted", () => {
    const store = newStore();
    store.put("k", LatticeType.LWW, u8([0x12, 1, 0x61], [0x08, 0x85, 0x80, 0x00], [0x20, 1]));
    expect(stored(store, "k")).toBe(hex(lww(5, "a")));
    store.put("k", LatticeType.LWW, lww(4, "zzz"));
    expect(stored(store, "k")).toBe(hex(lww(5, "a")));
    store.put("k", LatticeType.LWW, lww(5, "ab"));
    expect(stored(store, "k")).toBe(hex(lww(5, "ab")));
    store.put("k", LatticeType.LWW, lww(2n ** 64n - 1n, ""));
    expect(stored(store, "k")).toBe(hex(lww(2n ** 64n - 1n, "")));
    store.put("empty", LatticeType.LWW, new Uint8Array(0));
    expect(stored(store, "empty")).toBe("");
    store.put("zero", LatticeType.LWW, u8([0x08, 0x00, 0x12, 0x00]));
    expect(stored(store, "zero")).toBe("");
  });

  test("LWW write id: breaks timestamp ties before the value, empty is the bottom, written last", () => {
    const store = newStore();
    store.put("k", LatticeType.LWW, lww(5, "z"));
    store.put("k", LatticeType.LWW, lww(5, "a", "w"));
    expect(stored(store, "k")).toBe(hex(lww(5, "a", "w")));
    store.put("k", LatticeType.LWW, lww(5, "zz", "v"));
    expect(stored(store, "k")).toBe(hex(lww(5, "a", "w")));
    store.put("k", LatticeType.LWW, lww(5, "b", "w"));
    expect(stored(store, "k")).toBe(hex(lww(5, "b", "w")));
    store.put("k", LatticeType.LWW, lww(5, "a", "wa"));
    expect(stored(store, "k")).toBe(hex(lww(5, "a", "wa")));
    store.put("k", LatticeType.LWW, lww(6, ""));
    expect(stored(store, "k")).toBe(hex(lww(6, "")));
    // Any field order and an empty write id field canonicalize to 08 12 6a, defaults omitted.
    store.put("o", LatticeType.LWW, u8(lenField(0x6a, "id"), lenField(0x12, "v"), [0x08, 3]));
    expect(stored(store, "o")).toBe(hex(lww(3, "v", "id")));
    store.put("e", LatticeType.LWW, u8([0x08, 3], lenField(0x6a, "")));
    expect(stored(store, "e")).toBe(hex(lww(3, "")));
    store.put("only", LatticeType.LWW, lww(0, "", "id"));
    expect(stored(store, "only")).toBe("6a026964");
    // The 64-byte limit applies to the last write id only (a repeated field keeps its last value).
    const longest = Array(64).fill(0xff);
    store.put("max", LatticeType.LWW, lww(1, "", longest));
    expect(stored(store, "max")).toBe(hex(lww(1, "", longest)));
    store.put("last", LatticeType.LWW, u8(lenField(0x6a, Array(65).fill(0)), lenField(0x6a, "id"), [0x08, 1]));
    expect(stored(store, "last")).toBe(hex(lww(1, "", "id")));
    expect(statusOf(() => store.put("long", LatticeType.LWW, lww(1, "v", Array(65).fill(0))))).toBe("MALFORMED");
    expect(statusOf(() => store.put("wire", LatticeType.LWW, u8([0x08, 1, 0x68, 1])))).toBe("MALFORMED");
    // PRIORITY has no write id: its field 13 is unknown, skipped whatever its wire type.
    store.put("p", LatticeType.PRIORITY, u8([...priority(1, "x")], [0x68, 1], lenField(0x6a, "id")));
    expect(stored(store, "p")).toBe(hex(priority(1, "x")));
  });

  test("SET and ORDERED_SET: union, sorted by unsigned bytes, unique, empty element kept", () => {
    const store = newStore();
    store.put("s", LatticeType.SET, setOf("b", "a", "b", "", "ab", "\u00ff"));
    expect(stored(store, "s")).toBe(hex(setOf("", "a", "ab", "b", "\u00ff")));
    store.put("s", LatticeType.SET, setOf("c", "a"));
    expect(stored(store, "s")).toBe(hex(setOf("", "a", "ab", "b", "c", "\u00ff")));
    store.put("o", LatticeType.ORDERED_SET, setOf("z", "y"));
    expect(store.get("o")).toEqual({ type: LatticeType.ORDERED_SET, payload: setOf("y", "z") });
  });

  test("SET: a large unsorted set is sorted without recursion", () => {
    const store = newStore();
    const random = new Random(SEED);
    const elements = Array.from({ length: 50_000 }, () => random.int(1e9).toString(36));
    store.put("big", LatticeType.SET, setOf(...elements));
    const unique = [...new Set(elements)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(stored(store, "big")).toBe(hex(setOf(...unique)));
  });

  test("PRIORITY: lower priority wins, ties larger bytes, -0 stored as 0 and omitted, NaN malformed", () => {
    const store = newStore();
    store.put("p", LatticeType.PRIORITY, priority(-0, "x"));
    expect(stored(store, "p")).toBe(hex(u8(lenField(0x12, "x"))));
    store.put("p", LatticeType.PRIORITY, priority(0, "y"));
    expect(stored(store, "p")).toBe(hex(u8(lenField(0x12, "y"))));
    store.put("p", LatticeType.PRIORITY, priority(1.5, "zzz"));
    expect(stored(store, "p")).toBe(hex(u8(lenField(0x12, "y"))));
    store.put("p", LatticeType.PRIORITY, priority(-Infinity, ""));
    expect(stored(store, "p")).toBe(hex(priority(-Infinity, "")));
    expect(statusOf(() => store.put("p", LatticeType.PRIORITY, priority(NaN, "a")))).toBe("MALFORMED");
    expect(statusOf(() => store.put("q", LatticeType.PRIORITY, u8([0x08, 1])))).toBe("MALFORMED");
  });

  test("SINGLE_CAUSAL: a strictly dominating clock wins whole, else pointwise max and union", () => {
    const store = newStore();
    store.put(
      "c",
      LatticeType.SINGLE_CAUSAL,
      singleCausal(
        [
          ["b", 1],
          ["a", 2],
          ["z", 0],
          ["a", 1],
        ],
        ["v1"],
      ),
    );
    expect(stored(store, "c")).toBe(
      hex(
        singleCausal(
          [
            ["a", 2],
            ["b", 1],
          ],
          ["v1"],
        ),
      ),
    );
    store.put(
      "c",
      LatticeType.SINGLE_CAUSAL,
      singleCausal(
        [
          ["a", 2],
          ["b", 2],
        ],
        ["v2"],
      ),
    );
    expect(stored(store, "c")).toBe(
      hex(
        singleCausal(
          [
            ["a", 2],
            ["b", 2],
          ],
          ["v2"],
        ),
      ),
    );
    store.put("c", LatticeType.SINGLE_CAUSAL, singleCausal([["a", 1]], ["old"]));
    expect(stored(store, "c")).toBe(
      hex(
        singleCausal(
          [
            ["a", 2],
            ["b", 2],
          ],
          ["v2"],
        ),
      ),
    );
    store.put(
      "c",
      LatticeType.SINGLE_CAUSAL,
      singleCausal(
        [
          ["a", 3],
          ["", 1],
        ],
        ["v3"],
      ),
    );
    expect(stored(store, "c")).toBe(
      hex(
        singleCausal(
          [
            ["", 1],
            ["a", 3],
            ["b", 2],
          ],
          ["v2", "v3"],
        ),
      ),
    );
    store.put(
      "c",
      LatticeType.SINGLE_CAUSAL,
      singleCausal(
        [
          ["", 1],
          ["a", 3],
          ["b", 2],
        ],
        ["v0"],
      ),
    );
    expect(stored(store, "c")).toBe(
      hex(
        singleCausal(
          [
            ["", 1],
            ["a", 3],
            ["b", 2],
          ],
          ["v0", "v2", "v3"],
        ),
      ),
    );
  });

  test("MULTI_CAUSAL: dependencies merged by key with pointwise-max clocks", () => {
    const store = newStore();
    store.put(
      "m",
      LatticeType.MULTI_CAUSAL,
      multiCausal(
        [["a", 1]],
        [
          ["y", [["c", 1]]],
          [
            "x",
            [
              ["c", 2],
              ["c", 5],
            ],
          ],
          ["x", [["d", 0]]],
        ],
        ["v"],
      ),
    );
    expect(stored(store, "m")).toBe(
      hex(
        multiCausal(
          [["a", 1]],
          [
            ["x", [["c", 5]]],
            ["y", [["c", 1]]],
          ],
          ["v"],
        ),
      ),
    );
    store.put(
      "m",
      LatticeType.MULTI_CAUSAL,
      multiCausal(
        [["b", 1]],
        [
          ["x", [["d", 1]]],
          ["", []],
        ],
        ["w"],
      ),
    );
    expect(stored(store, "m")).toBe(
      hex(
        multiCausal(
          [
            ["a", 1],
            ["b", 1],
          ],
          [
            ["", []],
            [
              "x",
              [
                ["c", 5],
                ["d", 1],
              ],
            ],
            ["y", [["c", 1]]],
          ],
          ["v", "w"],
        ),
      ),
    );
    store.put(
      "m",
      LatticeType.MULTI_CAUSAL,
      multiCausal(
        [
          ["a", 2],
          ["b", 1],
        ],
        [["q", [["r", 1]]]],
        ["new"],
      ),
    );
    expect(stored(store, "m")).toBe(
      hex(
        multiCausal(
          [
            ["a", 2],
            ["b", 1],
          ],
          [["q", [["r", 1]]]],
          ["new"],
        ),
      ),
    );
  });

  test("every stored value is a fixed point: putting it back changes nothing", () => {
    const random = new Random(SEED);
    const store = newStore();
    const payloads: [LatticeType, Uint8Array][] = [
      [LatticeType.LWW, lww(7, "x")],
      [LatticeType.SET, setOf("q", "p")],
      [LatticeType.SINGLE_CAUSAL, singleCausal([["k", 3]], ["a", "b"])],
      [LatticeType.MULTI_CAUSAL, multiCausal([["k", 3]], [["d", [["e", 1]]]], ["a"])],
      [LatticeType.PRIORITY, priority(0.25, "w")],
    ];
    for (const [type, payload] of payloads) {
      const key = `fixed-${type}-${random.int(1000)}`;
      store.put(key, type, payload);
      store.drainDirty(1 << 20);
      const value = store.get(key)!;
      store.put(key, type, value.payload);
      expect(store.stats().dirtyKeyCount).toBe(0);
      const fresh = newStore();
      fresh.put(key, type, value.payload);
      expect(stored(fresh, key)).toBe(hex(value.payload));
    }
  });
});

describe("status codes and their order", () => {
  const limits = { maxKeyBytes: 8, maxValueBytes: 32 };

  test("KEY_TOO_LARGE, LATTICE, VALUE_TOO_LARGE, LATTICE conflict, MALFORMED, merged VALUE_TOO_LARGE", () => {
    const store = newStore(limits);
    const big = new Uint8Array(33);
    expect(statusOf(() => store.put("k".repeat(9), 99 as LatticeType, big))).toBe("KEY_TOO_LARGE");
    expect(statusOf(() => store.put("k", 0, big))).toBe("LATTICE");
    expect(statusOf(() => store.put("k", 7 as LatticeType, big))).toBe("LATTICE");
    expect(statusOf(() => store.put("k", LatticeType.LWW, big))).toBe("VALUE_TOO_LARGE");
    store.put("k", LatticeType.SET, setOf("a"));
    expect(statusOf(() => store.put("k", LatticeType.LWW, big))).toBe("VALUE_TOO_LARGE");
    expect(statusOf(() => store.put("k", LatticeType.LWW, u8([0x0f])))).toBe("LATTICE");
    expect(statusOf(() => store.put("k", LatticeType.SET, u8([0x0f])))).toBe("MALFORMED");
    store.put("k", LatticeType.SET, setOf("0123456789", "abcdefghij"));
    expect(statusOf(() => store.put("k", LatticeType.SET, setOf("ABCDEFGHIJ")))).toBe("VALUE_TOO_LARGE");
    expect(stored(store, "k")).toBe(hex(setOf("0123456789", "a", "abcdefghij")));
    expect(statusOf(() => store.get("k".repeat(9)))).toBe("KEY_TOO_LARGE");
    expect(statusOf(() => store.delete(new Uint8Array(9)))).toBe("KEY_TOO_LARGE");
    expect(store.get("absent")).toBeUndefined();
    expect(store.delete("absent")).toBe(false);
    expect(store.size).toBe(1);
  });

  test.each([
    ["truncated varint", [0x08, 0x80]],
    ["varint of 11 bytes", [0x08, ...Array(10).fill(0xff), 0x01]],
    ["length past the end", [0x12, 0x05, 0x61]],
    ["truncated tag", [0x80]],
    ["field number 0", [0x02, 0x00]],
    ["wire type 3", [0x0b]],
    ["wire type 4", [0x0c]],
    ["wire type 6", [0x0e]],
    ["wire type 7", [0x0f]],
    ["known field, wrong wire type", [0x0a, 0x01, 0x61]],
    ["truncated fixed64", [0x19, 1, 2, 3]],
    ["truncated fixed32", [0x1d, 1, 2]],
  ])("MALFORMED: %s (LWW)", (_name, bytes) => {
    const store = newStore();
    expect(statusOf(() => store.put("k", LatticeType.LWW, new Uint8Array(bytes)))).toBe("MALFORMED");
    expect(store.size).toBe(0);
  });

  test("MALFORMED inside nested messages; unknown fields are skipped, varints keep their low bits", () => {
    const store = newStore();
    expect(statusOf(() => store.put("c", LatticeType.SINGLE_CAUSAL, u8(lenField(0x0a, [0x12, 0x00]))))).toBe(
      "MALFORMED",
    );
    expect(statusOf(() => store.put("c", LatticeType.SINGLE_CAUSAL, u8(lenField(0x0a, [0x10]))))).toBe("MALFORMED");
    expect(statusOf(() => store.put("m", LatticeType.MULTI_CAUSAL, u8(lenField(0x12, [0x10, 0x01]))))).toBe(
      "MALFORMED",
    );
    expect(statusOf(() => store.put("m", LatticeType.MULTI_CAUSAL, u8(lenField(0x12, lenField(0x12, [0x0b])))))).toBe(
      "MALFORMED",
    );
    expect(statusOf(() => store.put("s", LatticeType.SET, u8([0x08, 0x01])))).toBe("MALFORMED");
    store.put(
      "u",
      LatticeType.SET,
      u8([0x10, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 1, 2, 3, 4, 0x22, 0x00], lenField(0x0a, "x")),
    );
    expect(stored(store, "u")).toBe(hex(setOf("x")));
    // A 10-byte varint keeps its low 64 bits; a uint32 counter keeps its low 32.
    store.put("t", LatticeType.LWW, u8([0x08, ...Array(9).fill(0xff), 0x7f]));
    expect(stored(store, "t")).toBe(hex(lww(2n ** 64n - 1n, "")));
    store.put(
      "c",
      LatticeType.SINGLE_CAUSAL,
      u8(lenField(0x0a, [...lenField(0x0a, "a"), 0x10, ...varint(2n ** 32n + 7n)])),
    );
    expect(stored(store, "c")).toBe(hex(singleCausal([["a", 7]], [])));
  });

  test("a register payload already canonical is stored byte for byte; one of the same length in another field order is reordered", () => {
    const store = newStore();
    const canonical = lww(300, "value");
    store.put("canonical", LatticeType.LWW, canonical);
    expect(stored(store, "canonical")).toBe(hex(canonical));
    // Value first, then timestamp: as long as the canonical form, but not it.
    store.put("reversed", LatticeType.LWW, u8(lenField(0x12, "value"), [0x08, ...varint(300)]));
    expect(stored(store, "reversed")).toBe(hex(canonical));
    // A non-minimal varint timestamp (one byte longer) is rewritten minimal.
    store.put("long", LatticeType.LWW, u8([0x08, 0xac, 0x82, 0x00], lenField(0x12, "value")));
    expect(stored(store, "long")).toBe(hex(canonical));
    // So is a non-minimal length varint, and a field after the value is dropped.
    store.put(
      "long-length",
      LatticeType.LWW,
      u8(
        [0x08, ...varint(300)],
        [0x12, 0x85, 0x00],
        Array.from("value", (c) => c.charCodeAt(0)),
      ),
    );
    expect(stored(store, "long-length")).toBe(hex(canonical));
    store.put("trailing", LatticeType.LWW, u8([...canonical], [0x20, 1]));
    expect(stored(store, "trailing")).toBe(hex(canonical));
    // With a write id: canonical is timestamp, value, write id; the same fields in another order are reordered.
    const identified = lww(300, "value", "id");
    store.put("identified", LatticeType.LWW, identified);
    expect(stored(store, "identified")).toBe(hex(identified));
    store.put("id-first", LatticeType.LWW, u8(lenField(0x6a, "id"), [0x08, ...varint(300)], lenField(0x12, "value")));
    expect(stored(store, "id-first")).toBe(hex(identified));
    store.put("id-middle", LatticeType.LWW, u8([0x08, ...varint(300)], lenField(0x6a, "id"), lenField(0x12, "value")));
    expect(stored(store, "id-middle")).toBe(hex(identified));
  });

  test("an LWW write over a value of the same length: the plain newer one replaces it, every other case is joined", () => {
    const store = newStore();
    const cases: [string, Uint8Array, Uint8Array, Uint8Array][] = [
      ["newer plain", lww(300, "value"), lww(301, "other"), lww(301, "other")],
      ["older plain", lww(300, "value"), lww(299, "zzzzz"), lww(300, "value")],
      ["same timestamp: the larger value", lww(300, "value"), lww(300, "zzzzz"), lww(300, "zzzzz")],
      // A timestamp padded to the stored varint's length is below every minimal one of it.
      ["padded older", lww(300, "value"), u8([0x08, 0x85, 0x00], lenField(0x12, "value")), lww(300, "value")],
      ["newer plain over a write id", lww(300, "v", "id"), lww(301, "vvvvv"), lww(301, "vvvvv")],
      ["newer write id over plain", lww(300, "vvvvv"), lww(301, "v", "id"), lww(301, "v", "id")],
      ["a newer timestamp one varint byte longer", lww(127, "value"), lww(128, "valu"), lww(128, "valu")],
    ];
    for (const [name, before, write, after] of cases) {
      expect(write.length).toBe(before.length);
      store.put(name, LatticeType.LWW, before);
      store.put(name, LatticeType.LWW, write);
      expect({ name, stored: stored(store, name) }).toEqual({ name, stored: hex(after) });
    }
  });

  test("random bytes of every type never trap the instance and leave valid values canonical", () => {
    const random = new Random(SEED);
    const store = newStore({ maxValueBytes: 256 });
    for (let round = 0; round < 20_000; round++) {
      const type = 1 + random.int(6);
      const payload = random.bytes(random.int(40));
      const key = `r${type}-${random.int(50)}`;
      const status = statusOf(() => store.put(key, type, payload));
      expect(["OK", "MALFORMED", "VALUE_TOO_LARGE", "LATTICE"]).toContain(status);
    }
    const records = decodeRecords(store.scan(0, 1 << 30).records);
    expect(records.length).toBe(store.size);
    for (const record of records) {
      const fresh = newStore();
      fresh.put(record.key, record.type, record.payload);
      expect(hex(fresh.get(record.key)!.payload)).toBe(hex(record.payload));
    }
  });
});

describe("table", () => {
  test("grows to 1M keys (16-byte keys, 64-byte LWW values) and reads every value back", () => {
    const store = newStore();
    const keyCount = 1_000_000;
    const keyOf = (i: number) => text.encode(`key-${String(i).padStart(12, "0")}`);
    // LWWValue { timestamp: 1, value: 64 bytes whose first 12 are the key's number }.
    const payloadOf = (i: number) => {
      const payload = new Uint8Array(68).fill(0x76);
      payload.set([0x08, 0x01, 0x12, 64]);
      payload.set(text.encode(String(i).padStart(12, "0")), 4);
      return payload;
    };
    const opsPerBatch = 10_000;
    for (let first = 0; first < keyCount; first += opsPerBatch) {
      const buffer = store.batchBuffer(4 + opsPerBatch * (10 + 16 + 68));
      const writer = new BatchWriter(buffer);
      for (let i = first; i < first + opsPerBatch; i++) writer.add(Opcode.PUT, LatticeType.LWW, keyOf(i), payloadOf(i));
      const results = decodeBatchResults(store.executeBatchInPlace(writer.finish()));
      if (!results.every((result) => result.status === Status.OK)) throw new Error(`batch at ${first} failed`);
    }
    expect(store.size).toBe(keyCount);
    for (let i = 0; i < keyCount; i++) {
      const got = store.get(keyOf(i));
      if (got === undefined || !Buffer.from(got.payload).equals(payloadOf(i)))
        throw new Error(`key ${i} reads back wrong`);
    }
    const rawBytes = keyCount * (16 + 68);
    expect(store.stats().memoryReservedBytes).toBeLessThan(2 * rawBytes);
    for (let i = 0; i < keyCount; i += 2) if (!store.delete(keyOf(i))) throw new Error(`key ${i} was not deleted`);
    expect(store.size).toBe(keyCount / 2);
    for (let i = 0; i < 1000; i++) expect(store.get(keyOf(i)) === undefined).toBe(i % 2 === 0);
  });

  test("delete and reinsert cycles reuse freed memory", () => {
    const store = newStore();
    const random = new Random(SEED);
    const keys = Array.from({ length: 20_000 }, (_, i) => `cycle-${i}`);
    // Drained after each fill, as gossip would, so the dirty list keeps one size.
    const fill = () => {
      keys.forEach((key, i) => store.put(key, LatticeType.LWW, lww(i + 1, "x".repeat(1 + (i % 200)))));
      store.drainDirty(1 << 30);
    };
    fill();
    const first = store.stats();
    for (let cycle = 0; cycle < 5; cycle++) {
      for (const key of keys) if (random.chance(0.7)) store.delete(key);
      fill();
      const stats = store.stats();
      expect(stats.keyCount).toBe(keys.length);
      expect(stats.bytesUsed).toBe(first.bytesUsed);
      expect(stats.memoryReservedBytes).toBe(first.memoryReservedBytes);
    }
    for (const key of keys) store.delete(key);
    expect(store.stats().bytesUsed).toBeLessThan(first.bytesUsed);
  });

  test("values that change size move between blocks and keep their key", () => {
    const store = newStore();
    for (let length = 0; length < 5000; length += 97) {
      store.put("grow", LatticeType.SET, setOf("x".repeat(length)));
    }
    store.put("grow", LatticeType.SET, setOf("y".repeat(100_000)));
    expect(store.get("grow")!.payload.length).toBeGreaterThan(100_000);
    expect(store.size).toBe(1);
  });

  test("the memory limit gives OUT_OF_MEMORY and keeps every earlier key", () => {
    const store = newStore({ maxMemoryBytes: 4 * 1024 * 1024 });
    store.put("set", LatticeType.SET, setOf("first"));
    let written = 0;
    let status = "OK";
    while (status === "OK") {
      status = statusOf(() => store.put(`limit-${written}`, LatticeType.LWW, lww(1, "p".repeat(100))));
      if (status === "OK") written++;
    }
    expect(status).toBe("OUT_OF_MEMORY");
    // PUTs stop short of the merge headroom (core/limits.ts): a quarter of a 4 MiB store.
    expect(written).toBeGreaterThan(8_000);
    expect(store.stats().memoryReservedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(store.size).toBe(written + 1);
    expect(store.stats().dirtyKeyCount).toBe(written + 1);
    for (let i = 0; i < written; i++) expect(stored(store, `limit-${i}`)).toBe(hex(lww(1, "p".repeat(100))));
    // A merge that would grow a stored value fails whole: the old value stays, still dirty once.
    const before = store.stats();
    let element = 1024;
    while (statusOf(() => store.put("set", LatticeType.SET, setOf("e".repeat(element)))) === "OK") element *= 2;
    const setBefore = stored(store, "set");
    expect(statusOf(() => store.put("set", LatticeType.SET, setOf("e".repeat(element))))).toBe("OUT_OF_MEMORY");
    expect(stored(store, "set")).toBe(setBefore);
    expect(store.stats().keyCount).toBe(before.keyCount);
    expect(store.stats().dirtyKeyCount).toBe(before.dirtyKeyCount);
    expect(statusOf(() => store.put("huge", LatticeType.SET, setOf("h".repeat(3 * 1024 * 1024))))).toBe(
      "OUT_OF_MEMORY",
    );
    expect(statusOf(() => store.executeBatch(new Uint8Array(5 * 1024 * 1024)))).toBe("OUT_OF_MEMORY");
    for (let i = 0; i < 100; i++) store.delete(`limit-${i}`);
    store.put("after", LatticeType.LWW, lww(1, "p".repeat(100)));
    expect(store.size).toBe(written - 98);
  });
});

describe("batch", () => {
  test("mixed operations run in order with per-op statuses", () => {
    const store = newStore({ maxKeyBytes: 8 });
    const key = (name: string) => text.encode(name);
    const output = store.executeBatch(
      encodeBatch([
        { opcode: Opcode.GET, type: 0, key: key("a") },
        { opcode: Opcode.PUT, type: LatticeType.LWW, key: key("a"), payload: lww(1, "one") },
        { opcode: Opcode.GET, type: 0, key: key("a") },
        { opcode: Opcode.MERGE, type: LatticeType.SET, key: key("b"), payload: setOf("x") },
        { opcode: Opcode.PUT, type: LatticeType.SET, key: key("a"), payload: setOf("x") },
        { opcode: Opcode.PUT, type: LatticeType.LWW, key: key("c"), payload: u8([0x0f]) },
        { opcode: Opcode.PUT, type: 42 as LatticeType, key: key("c"), payload: lww(1, "") },
        { opcode: Opcode.GET, type: 0, key: key("much-too-long") },
        { opcode: Opcode.DELETE, type: 0, key: key("a") },
        { opcode: Opcode.DELETE, type: 0, key: key("a") },
        { opcode: Opcode.GET, type: 0, key: key("b") },
      ]),
    );
    const results = decodeBatchResults(output).map((result) => [result.status, result.type, hex(result.payload)]);
    expect(results).toEqual([
      [Status.NOT_FOUND, 0, ""],
      [Status.OK, 0, ""],
      [Status.OK, LatticeType.LWW, hex(lww(1, "one"))],
      [Status.OK, 0, ""],
      [Status.LATTICE, 0, ""],
      [Status.MALFORMED, 0, ""],
      [Status.LATTICE, 0, ""],
      [Status.KEY_TOO_LARGE, 0, ""],
      [Status.OK, 0, ""],
      [Status.NOT_FOUND, 0, ""],
      [Status.OK, LatticeType.SET, hex(setOf("x"))],
    ]);
    expect(store.stats().dirtyKeyCount).toBe(0);
  });

  test("in-place batches and large GET outputs", () => {
    const store = newStore();
    const big = setOf("z".repeat(200_000));
    store.put("big", LatticeType.SET, big);
    const ops: BatchOp[] = Array.from({ length: 20 }, () => ({ opcode: Opcode.GET, type: 0, key: text.encode("big") }));
    const encoded = encodeBatch(ops);
    store.batchBuffer(encoded.length).set(encoded);
    const results = decodeBatchResults(store.executeBatchInPlace(encoded.length));
    expect(results.length).toBe(20);
    for (const result of results) expect(hex(result.payload)).toBe(hex(big));
    expect(() => store.executeBatchInPlace(1 << 30)).toThrow(RangeError);
  });

  test.each([
    ["empty input", () => new Uint8Array(0)],
    ["trailing byte", (good: Uint8Array) => u8([...good, 0])],
    ["missing byte", (good: Uint8Array) => good.subarray(0, good.length - 1)],
    ["op count too large", (good: Uint8Array) => u8([good[0] + 1, ...good.subarray(1)])],
    ["unknown opcode", (good: Uint8Array) => u8([...good.subarray(0, 4), 9, ...good.subarray(5)])],
    [
      "GET with a payload",
      () => encodeBatch([{ opcode: Opcode.GET, type: 0, key: text.encode("k"), payload: u8([1]) }]),
    ],
    [
      "DELETE with a payload",
      () => encodeBatch([{ opcode: Opcode.DELETE, type: 0, key: text.encode("k"), payload: u8([1]) }]),
    ],
    [
      "key length past the end",
      (good: Uint8Array) => u8([...good.subarray(0, 6), 0xff, 0xff, 0xff, 0x7f, ...good.subarray(10)]),
    ],
  ])("BAD_BATCH (%s) executes nothing", (_name, mutate) => {
    const store = newStore();
    const good = encodeBatch([
      { opcode: Opcode.PUT, type: LatticeType.LWW, key: text.encode("k"), payload: lww(1, "a") },
      { opcode: Opcode.PUT, type: LatticeType.LWW, key: text.encode("j"), payload: lww(1, "b") },
    ]);
    expect(statusOf(() => store.executeBatch(mutate(good)))).toBe("BAD_BATCH");
    expect(store.size).toBe(0);
    expect(store.stats().dirtyKeyCount).toBe(0);
    expect(decodeBatchResults(store.executeBatch(good)).map((result) => result.status)).toEqual([0, 0]);
  });
});

describe("dirty keys", () => {
  test("put dirties a changed key once, merge and an unchanged put do not, delete clears", () => {
    const store = newStore();
    store.put("a", LatticeType.LWW, lww(2, "x"));
    store.put("a", LatticeType.LWW, lww(3, "y"));
    store.merge("b", LatticeType.LWW, lww(1, "m"));
    store.put("c", LatticeType.SET, setOf("1"));
    expect(store.stats().dirtyKeyCount).toBe(2);
    let records = decodeRecords(store.drainDirty(1 << 20));
    expect(records.map((record) => [Buffer.from(record.key).toString(), record.type, hex(record.payload)])).toEqual([
      ["a", LatticeType.LWW, hex(lww(3, "y"))],
      ["c", LatticeType.SET, hex(setOf("1"))],
    ]);
    expect(store.drainDirty(1 << 20).length).toBe(0);
    store.put("a", LatticeType.LWW, lww(3, "y"));
    store.put("a", LatticeType.LWW, lww(1, "old"));
    store.put("c", LatticeType.SET, setOf("1"));
    store.merge("a", LatticeType.LWW, lww(9, "gossip"));
    expect(store.stats().dirtyKeyCount).toBe(0);
    store.put("c", LatticeType.SET, setOf("2"));
    store.put("d", LatticeType.SET, setOf("2"));
    store.delete("c");
    records = decodeRecords(store.drainDirty(1 << 20));
    expect(records.map((record) => Buffer.from(record.key).toString())).toEqual(["d"]);
  });

  test("drain honours maxBytes, writes at least one record, keeps first-dirtied order", () => {
    const store = newStore();
    const names = Array.from({ length: 100 }, (_, i) => `key-${String(i).padStart(3, "0")}`);
    for (const name of names) store.put(name, LatticeType.LWW, lww(1, "v".repeat(20)));
    const recordBytes = 9 + 7 + lww(1, "v".repeat(20)).length;
    expect(decodeRecords(store.drainDirty(1)).length).toBe(1);
    expect(decodeRecords(store.drainDirty(0)).length).toBe(1);
    const page = store.drainDirty(recordBytes * 10 + recordBytes - 1);
    expect(page.length).toBe(recordBytes * 10);
    expect(decodeRecords(page).map((record) => Buffer.from(record.key).toString())).toEqual(names.slice(2, 12));
    store.put(names[0], LatticeType.LWW, lww(2, "again"));
    const rest = decodeRecords(store.drainDirty(1 << 30)).map((record) => Buffer.from(record.key).toString());
    expect(rest).toEqual([...names.slice(12), names[0]]);
    expect(store.stats().dirtyKeyCount).toBe(0);
  });

  test("long churn keeps the dirty list bounded and exact", () => {
    const store = newStore();
    const random = new Random(SEED);
    const expected = new Set<string>();
    for (let round = 0; round < 50_000; round++) {
      const key = `churn-${random.int(500)}`;
      if (random.chance(0.3)) {
        store.delete(key);
        expected.delete(key);
      } else {
        store.put(key, LatticeType.LWW, lww(round + 1, "v"));
        expected.add(key);
      }
      if (random.chance(0.01)) {
        decodeRecords(store.drainDirty(200)).forEach((record) => expected.delete(Buffer.from(record.key).toString()));
      }
    }
    expect(store.stats().dirtyKeyCount).toBe(expected.size);
    const drained = decodeRecords(store.drainDirty(1 << 30)).map((record) => Buffer.from(record.key).toString());
    expect(drained.sort()).toEqual([...expected].sort());
    expect(store.stats().bytesUsed).toBeLessThan(200_000);
  });
});

describe("scan", () => {
  test("sees every key present for the whole scan, with growth and deletes in between", () => {
    const random = new Random(SEED);
    const store = newStore();
    const stable = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      store.put(`stable-${i}`, LatticeType.LWW, lww(1, "s"));
      stable.add(`stable-${i}`);
    }
    for (let i = 0; i < 5000; i++) store.put(`moving-${i}`, LatticeType.LWW, lww(1, "m"));
    const seen = new Set<string>();
    let cursor = 0;
    let pages = 0;
    let added = 0;
    do {
      const page = store.scan(cursor, 2000);
      const records = decodeRecords(page.records);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) seen.add(Buffer.from(record.key).toString());
      cursor = page.nextCursor;
      pages++;
      for (let i = 0; i < 20; i++) store.put(`added-${added++}`, LatticeType.SET, setOf("a"));
      for (let i = 0; i < 20; i++) store.delete(`moving-${random.int(5000)}`);
    } while (cursor !== 0);
    expect(pages).toBeGreaterThan(10);
    for (const key of stable) expect(seen.has(key)).toBe(true);
  });

  test("pages honour maxBytes, give at least one record, and an empty store is over at once", () => {
    const store = newStore();
    const empty = store.scan(0, 100);
    expect(empty).toEqual({ records: new Uint8Array(0), nextCursor: 0 });
    store.put("a", LatticeType.LWW, lww(1, "x".repeat(100)));
    store.put("b", LatticeType.LWW, lww(1, "y"));
    const first = store.scan(0, 1);
    expect(decodeRecords(first.records).length).toBe(1);
    expect(first.nextCursor).toBe(1);
    const second = store.scan(first.nextCursor, 1);
    expect(decodeRecords(second.records).map((record) => Buffer.from(record.key).toString())).toEqual(["b"]);
    expect(second.nextCursor).toBe(0);
    expect(store.scan(1000, 100).nextCursor).toBe(0);
    expect(() => store.scan(-1, 100)).toThrow(RangeError);
  });
});

describe("discardDirty (both engines)", () => {
  it.each(["wasm", "ts"] as const)(
    "%s: clears every mark without records, and later writes mark again",
    async (engine) => {
      const { createStore } = await import("../../src/core/create-store");
      const store = createStore({ engine });
      for (const key of ["a", "b", "c"]) store.put(key, LatticeType.LWW, lww(1, key));
      store.delete("b");
      expect(store.discardDirty()).toBe(2);
      expect(store.stats().dirtyKeyCount).toBe(0);
      expect(store.drainDirty(1 << 20).length).toBe(0);
      expect(store.get("a")?.payload).toEqual(lww(1, "a"));
      store.put("c", LatticeType.LWW, lww(2, "c"));
      expect(decodeRecords(store.drainDirty(1 << 20)).map((record) => Buffer.from(record.key).toString())).toEqual([
        "c",
      ]);
      expect(store.discardDirty()).toBe(0);
    },
  );
});
