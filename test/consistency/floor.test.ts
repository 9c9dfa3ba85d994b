import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Floor } from "../../src/consistency/floor";
import { ConsistencyError } from "../../src/consistency/errors";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeSetWire, encodeSetWire } from "../../src/lattices/set";
import { toByteSet } from "../../src/lattices/set-union";
import { encodeLww } from "../../src/lattices/values";

const utf8 = new TextEncoder();
const setOf = (...elements: string[]) => ({
  type: LatticeType.SET,
  payload: encodeSetWire(toByteSet(elements.map((element) => utf8.encode(element)))),
});
const elementsOf = (payload: Uint8Array) => decodeSetWire(payload).map((element) => new TextDecoder().decode(element));

describe("Floor", () => {
  it("joins a value with the floor without changing it, and raises it", () => {
    const floor = new Floor({ maxKeys: 10, maxStateBytes: 1 << 20 });
    floor.raise("k", setOf("a"), "monotonic-reads");
    expect(elementsOf(floor.joined("k", setOf("b")).payload)).toEqual(["a", "b"]);
    expect(elementsOf(floor.get("k")!.payload)).toEqual(["a"]);
    floor.raise("k", setOf("c"), "monotonic-reads");
    expect(elementsOf(floor.get("k")!.payload)).toEqual(["a", "c"]);
  });

  it("takes back a join of its current entry as it is, and merges one of an older entry", () => {
    const floor = new Floor({ maxKeys: 10, maxStateBytes: 1 << 20 });
    floor.raise("k", setOf("a"), "monotonic-reads");
    const joined = floor.joined("k", setOf("b"));
    // Built from the current entry: it is the join already, returned as it is.
    expect(floor.joined("k", joined)).toBe(joined);
    expect(floor.raise("k", joined, "monotonic-reads")).toBe(joined);
    // The entry has moved on: an older join is merged again, not taken as the floor's value.
    floor.raise("k", setOf("c"), "monotonic-reads");
    expect(elementsOf(floor.joined("k", joined).payload)).toEqual(["a", "b", "c"]);
  });

  it("settles a write known to be at or above the floor as it is, without a join, and frees its room", () => {
    const floor = new Floor({ maxKeys: 1, maxStateBytes: 1 << 20 });
    floor.raise("k", setOf("a"), "monotonic-reads");
    const above = { key: "k", ...setOf("a", "b") };
    floor.settleAbove(floor.reserve([above], "read-your-writes"), [above]);
    expect(floor.get("k")!.payload).toBe(above.payload);
    // settle would have joined: the same write below the floor then keeps what the floor had.
    const below = { key: "k", ...setOf("c") };
    floor.settle(floor.reserve([below], "read-your-writes"), [below]);
    expect(elementsOf(floor.get("k")!.payload)).toEqual(["a", "b", "c"]);
    // The room held was given back both times: one key fits, and a second does not.
    expect(() => floor.reserve([{ key: "other", ...setOf("x") }], "read-your-writes")).toThrow(ConsistencyError);
    // A write of another type than the key's floor is refused, as settle refuses it.
    expect(() =>
      floor.settleAbove(floor.reserve([], "read-your-writes"), [
        { key: "k", type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) },
      ]),
    ).toThrow(/this session holds a SET one/);
  });

  it("keeps no earlier value of a key alive once the key's floor has moved on", async () => {
    setFlagsFromString("--expose-gc");
    const collectGarbage = runInNewContext("gc") as () => void;
    const floor = new Floor({ maxKeys: 10, maxStateBytes: 1 << 20 });
    floor.raise("k", setOf("a"), "monotonic-reads");
    const first = new WeakRef(floor.get("k")!);
    for (const element of ["b", "c", "d"]) {
      floor.joined("k", setOf(element));
      floor.raise("k", setOf(element), "monotonic-reads");
    }
    expect(elementsOf(floor.get("k")!.payload)).toEqual(["a", "b", "c", "d"]);
    // A WeakRef's target stays alive to the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(first.deref()).toBeUndefined();
  });

  it("refuses a key past its limits with SESSION_LIMIT naming the guarantee", () => {
    const floor = new Floor({ maxKeys: 1, maxStateBytes: 1 << 20 });
    floor.raise("k", setOf("a"), "monotonic-reads");
    expect(() => floor.raise("other", setOf("a"), "monotonic-reads")).toThrow(ConsistencyError);
    expect(() => floor.raise("other", setOf("a"), "monotonic-reads")).toThrow(/monotonic-reads.*maxKeys/);
  });
  it("keeps a copy of a payload that is a view of a larger buffer, such as a reply frame", () => {
    const floor = new Floor({ maxKeys: 10, maxStateBytes: 1 << 20 });
    const older = encodeLww({ timestamp: 1, value: "old" });
    const newer = encodeLww({ timestamp: 2, value: "new" });
    // A reply's payloads are Buffers cut from the frame: Buffer's own `slice` would be another view.
    const frame = Buffer.concat([Buffer.of(0xff, 0xff), older, newer]);
    const olderView = frame.subarray(2, 2 + older.length);
    const newerView = frame.subarray(2 + older.length);
    for (const view of [olderView, newerView]) {
      const kept = floor.raise("k", { type: LatticeType.LWW, payload: view }, "monotonic-reads").payload;
      expect(kept.buffer).not.toBe(frame.buffer);
      expect(Buffer.from(kept).equals(view)).toBe(true);
    }
  });

  it("keeps a payload that is the whole of its buffer as it is, by the same array", () => {
    const floor = new Floor({ maxKeys: 10, maxStateBytes: 1 << 20 });
    const first = { type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "x".repeat(100) }) };
    expect(floor.raise("k", first, "monotonic-reads").payload).toBe(first.payload);
    // A newer plain LWW value wins the join whole: the floor takes that array, as the causal cut's decodes expect.
    const second = { type: LatticeType.LWW, payload: encodeLww({ timestamp: 2, value: "y".repeat(100) }) };
    const reservation = floor.reserve([{ key: "k", ...second }], "read-your-writes");
    floor.settle(reservation, [{ key: "k", ...second }]);
    expect(floor.get("k")!.payload).toBe(second.payload);
    // An older one leaves the floor as it was.
    expect(floor.joined("k", first)).toBe(floor.get("k"));
  });
});
