import { createStore } from "../../src/core/create-store";
import { StoreError } from "../../src/core/status";
import type { EngineName } from "../../src/core/store";
import { canonicalize, decodeLww, encodeLww, LatticeType, mergePayloads } from "../../src/lattices";
import type { LwwVersionInput } from "../../src/lattices";
import { fromHex, hex, utf8 } from "./helpers";

const lww = (timestamp: bigint | number, value: string, writeId?: string) => encodeLww({ timestamp, value, writeId });
const merged = (a: Uint8Array, b: Uint8Array) => hex(mergePayloads(LatticeType.LWW, a, b));

describe("LWW", () => {
  it("writes the canonical bytes: timestamp then value, defaults omitted", () => {
    expect(hex(lww(5, "a"))).toBe("0805120161");
    expect(hex(lww(0, "a"))).toBe("120161");
    expect(hex(lww(5, ""))).toBe("0805");
    expect(hex(lww(0, ""))).toBe("");
    expect(hex(lww(300, "a"))).toBe("08ac02120161");
    expect(hex(lww(2n ** 64n - 1n, ""))).toBe("08ffffffffffffffffff01");
    expect(hex(lww(2n ** 32n, ""))).toBe("088080808010");
  });

  it("writes the write id last (field 13), omitted when empty", () => {
    expect(hex(lww(5, "a", "w"))).toBe("08051201616a0177");
    expect(hex(lww(5, "", "w"))).toBe("08056a0177");
    expect(hex(lww(0, "", "w"))).toBe("6a0177");
    expect(hex(lww(5, "a", ""))).toBe(hex(lww(5, "a")));
  });

  it("canonicalizes a write id in any field order; a repeated one keeps its last value, checked alone", () => {
    const canonical = (bytes: string) => hex(canonicalize(LatticeType.LWW, fromHex(bytes)));
    expect(canonical("6a0177 120161 0805")).toBe("08051201616a0177");
    expect(canonical("6a00 0805")).toBe("0805");
    expect(canonical(`6a41${"00".repeat(65)} 6a0177 0805`)).toBe("08056a0177");
    expect(canonical(`6a40${"ff".repeat(64)}`)).toBe(`6a40${"ff".repeat(64)}`);
    expect(canonical(`0805 6a41${"00".repeat(65)}`)).toBeNull();
    expect(canonical("0805 6801")).toBeNull();
  });

  it("lets the larger timestamp win, across the 32-bit halves", () => {
    expect(merged(lww(1, "z"), lww(2, "a"))).toBe(hex(lww(2, "a")));
    expect(merged(lww(2n ** 32n, "a"), lww(2n ** 32n - 1n, "z"))).toBe(hex(lww(2n ** 32n, "a")));
    expect(merged(lww(2n ** 63n, "a"), lww(2n ** 63n - 1n, "z"))).toBe(hex(lww(2n ** 63n, "a")));
  });

  it("breaks timestamp ties by the larger value bytes, a shorter prefix being smaller", () => {
    expect(merged(lww(7, "ab"), lww(7, "b"))).toBe(hex(lww(7, "b")));
    expect(merged(lww(7, "ab"), lww(7, "a"))).toBe(hex(lww(7, "ab")));
    expect(merged(lww(7, "\u00ff"), lww(7, "a"))).toBe(hex(lww(7, "\u00ff")));
  });

  it("breaks timestamp ties by the write id before the value; the empty write id is the bottom", () => {
    expect(merged(lww(7, "z", "a"), lww(7, "a", "b"))).toBe(hex(lww(7, "a", "b")));
    expect(merged(lww(7, "z", "ab"), lww(7, "a", "b"))).toBe(hex(lww(7, "a", "b")));
    expect(merged(lww(7, "a", "w"), lww(7, "b", "w"))).toBe(hex(lww(7, "b", "w")));
    expect(merged(lww(7, "zzz"), lww(7, "a", "\u0000"))).toBe(hex(lww(7, "a", "\u0000")));
    expect(merged(lww(7, "", "w"), lww(0, "", ""))).toBe(hex(lww(7, "", "w")));
    expect(merged(lww(8, "a"), lww(7, "z", "zz"))).toBe(hex(lww(8, "a")));
  });

  it("returns the stored array itself when it is unchanged, and never a view of the input", () => {
    const stored = lww(9, "a");
    expect(mergePayloads(LatticeType.LWW, stored, lww(3, "z"))).toBe(stored);
    expect(mergePayloads(LatticeType.LWW, stored, lww(9, "a"))).toBe(stored);
    const incoming = lww(10, "b");
    const result = mergePayloads(LatticeType.LWW, stored, incoming) as Uint8Array;
    expect(result.buffer).not.toBe(incoming.buffer);
    expect(canonicalize(LatticeType.LWW, incoming)?.buffer).not.toBe(incoming.buffer);
  });

  it("decodes to a bigint timestamp and a copy of the value", () => {
    const payload = fromHex("08ffffffffffffffffff01 120161");
    const value = decodeLww(payload);
    expect(value.timestamp).toBe(2n ** 64n - 1n);
    expect(value.value).toEqual(utf8("a"));
    expect(value.writeId).toEqual(new Uint8Array(0));
    payload[payload.length - 1] = 0x62;
    expect(value.value).toEqual(utf8("a"));
  });

  it("decodes a copy of the write id", () => {
    const payload = lww(3, "v", "id");
    const value = decodeLww(payload);
    expect(value).toEqual({ timestamp: 3n, value: utf8("v"), writeId: utf8("id"), writeSet: [], versions: [] });
    payload[payload.length - 1] = 0x78;
    expect(value.writeId).toEqual(utf8("id"));
  });

  it("rejects timestamps outside u64 in the helper", () => {
    expect(() => lww(-1, "a")).toThrow(RangeError);
    expect(() => lww(2n ** 64n, "a")).toThrow(RangeError);
    expect(() => lww(1.5, "a")).toThrow(RangeError);
  });

  it("takes write ids of at most 64 bytes in the helper", () => {
    expect(decodeLww(lww(1, "a", "w".repeat(64))).writeId.length).toBe(64);
    expect(() => lww(1, "a", "w".repeat(65))).toThrow(RangeError);
    expect(() => encodeLww({ timestamp: 1, value: "a", writeId: new Uint8Array(65) })).toThrow(RangeError);
  });
});

/** A version of the window; `n` names its write id and value. */
const version = (timestamp: number, n: string, committed = false, writeSet: string[] = []): LwwVersionInput => ({
  timestamp,
  writeId: n,
  value: n,
  writeSet,
  committed,
});
const window = (timestamp: number, versions: LwwVersionInput[], value = "") =>
  encodeLww({ timestamp, value, versions });

describe.each<EngineName>(["ts", "wasm"])(
  "LWW read-atomic fields (write set 14, versions 15) on the %s engine",
  (engine) => {
    const store = createStore({ engine });
    let keyCount = 0;
    /** Puts the payloads into a fresh key; the stored bytes, or the first error's code. */
    const fold = (...payloads: Uint8Array[]): string => {
      const key = `k${keyCount++}`;
      try {
        for (const payload of payloads) store.put(key, LatticeType.LWW, payload);
      } catch (error) {
        return (error as StoreError).code;
      }
      return hex(store.get(key)!.payload)!;
    };
    const timestamps = (payload: string) => decodeLww(fromHex(payload)).versions.map((v) => Number(v.timestamp));

    it("writes the canonical bytes: the committed part, its write set sorted and unique, then the versions", () => {
      const payload = encodeLww({
        timestamp: 5,
        value: "a",
        writeId: "w",
        writeSet: ["y", "x", "x"],
        versions: [{ timestamp: 5, writeId: "w", value: "a", writeSet: ["y", "x"], committed: true }],
      });
      const canonical = "0805 120161 6a0177 720178 720179 7a10 0805 120177 1a0161 220178 220179 2801";
      expect(hex(payload)).toBe(canonical.replace(/ /g, ""));
      expect(fold(payload)).toBe(hex(payload));
    });

    it("canonicalizes any field order, joins repeated versions, drops unknown fields and defaults", () => {
      // Version (3, "w") twice: values "a" and "b", write sets {y} and {x}, committed as a varint 5 in one.
      const payload = fromHex("7a0e 220179 120177 1a0161 0803 a80101  720178 0803 7a0d 2805 220178 1a0162 120177 0803");
      expect(fold(payload)).toBe("0803720178 7a10 0803 120177 1a0162 220178 220179 2801".replace(/ /g, ""));
      expect(fold(fromHex("7a00"))).toBe("7a00");
      expect(fold(fromHex("7a02 2800 7200"))).toBe("72007a00");
    });

    it("keeps plain LWW bytes and merges as they were when neither side has the fields", () => {
      expect(fold(lww(5, "a", "w"), lww(5, "b", "w"))).toBe(hex(lww(5, "b", "w")));
      expect(fold(lww(5, "a"), window(0, [version(9, "p")]))).toBe(
        hex(encodeLww({ timestamp: 5, value: "a", versions: [version(9, "p")] })),
      );
    });

    it("orders the committed part by (timestamp, write id), then joins value and write set", () => {
      const commit = (writeId: string, value: string, writeSet: string[]) =>
        encodeLww({ timestamp: 7, value, writeId, writeSet });
      expect(fold(commit("a", "z", ["k1"]), commit("b", "a", ["k2"]))).toBe(hex(commit("b", "a", ["k2"])));
      expect(fold(commit("b", "a", ["k2"]), commit("b", "c", ["k1"]))).toBe(hex(commit("b", "c", ["k1", "k2"])));
      expect(fold(commit("b", "a", ["k2"]), lww(8, ""))).toBe(hex(lww(8, "")));
    });

    it("commits a prepared version: the committed part and the flag join in, the value comes again", () => {
      const prepare = window(0, [version(9, "t1", false, ["x", "y"])]);
      expect(decodeLww(fromHex(fold(prepare))).value).toEqual(new Uint8Array(0));
      const commit = encodeLww({
        timestamp: 9,
        value: "t1",
        writeId: "t1",
        writeSet: ["x", "y"],
        versions: [version(9, "t1", true, ["x", "y"])],
      });
      expect(fold(prepare, commit)).toBe(hex(commit));
      expect(fold(commit, prepare)).toBe(hex(commit));
    });

    it("prunes versions more than W (5 s) below the committed timestamp", () => {
      const versions = [version(4_999_999, "old"), version(5_000_000, "edge"), version(12_000_000, "new")];
      expect(timestamps(fold(window(10_000_000, versions)))).toEqual([5_000_000, 12_000_000]);
      expect(timestamps(fold(window(5_000_000, versions)))).toEqual([4_999_999, 5_000_000, 12_000_000]);
      expect(timestamps(fold(window(0, versions), lww(10_000_000, "")))).toEqual([5_000_000, 12_000_000]);
    });

    it("keeps the 4 greatest committed versions and what lies above the 4th", () => {
      const committed = [1, 2, 3, 4, 5].map((t) => version(t * 10, `c${t}`, true));
      const prepared = [version(15, "p15"), version(25, "p25"), version(60, "p60")];
      expect(timestamps(fold(window(0, [...committed, ...prepared])))).toEqual([20, 25, 30, 40, 50, 60]);
      expect(timestamps(fold(window(0, committed.slice(0, 2)), window(0, committed.slice(2))))).toEqual([
        20, 30, 40, 50,
      ]);
    });

    it("keeps at most 32 versions, the greatest", () => {
      const versions = Array.from({ length: 40 }, (_, i) => version(100 + i, `v${i}`));
      const merged = fold(window(0, versions.slice(0, 20)), window(0, versions.slice(20)));
      expect(timestamps(merged)).toEqual(versions.slice(8).map((v) => v.timestamp));
    });

    it("keeps the 64 least keys of a union of write sets under one version", () => {
      const keys = Array.from({ length: 80 }, (_, i) => `key${String(i).padStart(2, "0")}`);
      const commit = (writeSet: string[]) => encodeLww({ timestamp: 3, value: "v", writeId: "w", writeSet });
      expect(decodeLww(fromHex(fold(commit(keys.slice(0, 40)), commit(keys.slice(40))))).writeSet).toEqual(
        keys.slice(0, 64),
      );
      const prepared = (writeSet: string[]) => window(0, [version(3, "w", false, writeSet)]);
      const merged = decodeLww(fromHex(fold(prepared(keys.slice(40)), prepared(keys.slice(0, 40)))));
      expect(merged.versions[0].writeSet).toEqual(keys.slice(0, 64));
    });

    it("refuses payloads past the limits, or with a known field of the wrong wire type, as MALFORMED", () => {
      const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
      const field = (tag: number, bytes: ArrayLike<number>) => [tag, ...varint(bytes.length), ...Array.from(bytes)];
      const keys = (count: number, tag: number) =>
        Array.from({ length: count }, (_, i) => field(tag, utf8(`k${i}`))).flat();
      const versionWith = (body: number[]) => Uint8Array.from(field(0x7a, body));
      expect(fold(Uint8Array.from(keys(64, 0x72)))).not.toBe("MALFORMED");
      expect(fold(Uint8Array.from(keys(65, 0x72)))).toBe("MALFORMED");
      expect(fold(versionWith(keys(64, 0x22)))).not.toBe("MALFORMED");
      expect(fold(versionWith(keys(65, 0x22)))).toBe("MALFORMED");
      expect(fold(Uint8Array.from(field(0x72, new Uint8Array(1024))))).not.toBe("MALFORMED");
      expect(fold(Uint8Array.from(field(0x72, new Uint8Array(1025))))).toBe("MALFORMED");
      expect(fold(versionWith(field(0x22, new Uint8Array(1025))))).toBe("MALFORMED");
      const thirtyThree = Array.from({ length: 33 }, (_, i) => field(0x7a, [0x08, i + 1])).flat();
      expect(fold(Uint8Array.from(thirtyThree.slice(4)))).not.toBe("MALFORMED");
      expect(fold(Uint8Array.from(thirtyThree))).toBe("MALFORMED");
      expect(fold(versionWith(field(0x12, new Uint8Array(65))))).toBe("MALFORMED");
      expect(fold(versionWith(field(0x12, new Uint8Array(64))))).not.toBe("MALFORMED");
      expect(fold(Uint8Array.from([0x70, 1]))).toBe("MALFORMED");
      expect(fold(Uint8Array.from([0x78, 1]))).toBe("MALFORMED");
      expect(fold(versionWith([0x2a, 0]))).toBe("MALFORMED");
      expect(fold(versionWith([0x0a, 0]))).toBe("MALFORMED");
      expect(fold(versionWith([0x7a, 5]))).toBe("MALFORMED");
    });
  },
);

describe("LWW read-atomic fields in the helpers", () => {
  it("decodes the write set and the window", () => {
    const payload = encodeLww({
      timestamp: 9,
      value: "v",
      writeId: "w",
      writeSet: ["b", "a"],
      versions: [{ timestamp: 9, writeId: "w", value: "v", writeSet: ["a", "b"], committed: true }, version(11, "p")],
    });
    expect(decodeLww(payload)).toEqual({
      timestamp: 9n,
      value: utf8("v"),
      writeId: utf8("w"),
      writeSet: ["a", "b"],
      versions: [
        { timestamp: 9n, writeId: utf8("w"), value: utf8("v"), writeSet: ["a", "b"], committed: true },
        { timestamp: 11n, writeId: utf8("p"), value: utf8("p"), writeSet: [], committed: false },
      ],
    });
  });

  it("refuses what the store would refuse, as RangeErrors", () => {
    const keys = (count: number) => Array.from({ length: count }, (_, i) => `k${i}`);
    expect(() => encodeLww({ timestamp: 1, value: "", writeSet: keys(65) })).toThrow(RangeError);
    expect(() => encodeLww({ timestamp: 1, value: "", writeSet: ["k".repeat(1025)] })).toThrow(RangeError);
    const versions = keys(33).map((_, i) => version(i, "v"));
    expect(() => encodeLww({ timestamp: 1, value: "", versions })).toThrow(RangeError);
    expect(() => window(0, [{ ...version(1, "v"), writeId: "w".repeat(65) }])).toThrow(RangeError);
    expect(encodeLww({ timestamp: 1, value: "", writeSet: keys(64) }).length).toBeGreaterThan(0);
  });
});
