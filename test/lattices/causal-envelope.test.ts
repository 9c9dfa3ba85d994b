/**
 * The sibling envelope (src/lattices/causal-envelope.ts, docs/consistency.md §2.7): its
 * encoding, the strict decoding that leaves bare values bare, the sibling set that keeps
 * only maximal envelopes (a join), and the filter that shows readers the same.
 */
import fc from "fast-check";
import {
  decodeEnvelope,
  encodeEnvelope,
  maximalSiblings,
  siblingSet,
  visibleSiblings,
} from "../../src/lattices/causal-envelope";
import { toByteSet } from "../../src/lattices/set-union";
import { Order } from "../../src/lattices/lattice";
import { toVectorClock, vectorClock, type VectorClock } from "../../src/lattices/vector-clock";
import { encodeSingleCausal } from "../../src/lattices/values";
import { WireWriter } from "../../src/wire/protobuf";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xe7e1;
const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function clock(entries: Record<string, number>): VectorClock {
  return toVectorClock(Object.entries(entries).map(([id, counter]) => ({ key: utf8.encode(id), value: counter })));
}

const envelope = (entries: Record<string, number>, value: string) =>
  encodeEnvelope({ clock: clock(entries), value: utf8.encode(value) });

describe("the causal envelope", () => {
  it("is the protobuf message of §2.9: vector_clock entries as field 1, the value as field 2", () => {
    const bytes = envelope({ s1: 2 }, "v");
    // Field 1 holds a map entry {key "s1", counter 2}; field 2 the value: what anna.proto's map<string, uint32> writes.
    expect(Buffer.from(bytes).toString("hex")).toBe("0a060a02733110021201" + "76");
    // A SingleKeyCausalValue's vector clock has the same entry encoding, so the bytes are its field 1 too.
    const single = encodeSingleCausal({ vectorClock: { s1: 2 }, values: [] });
    expect(Buffer.from(bytes.subarray(0, single.length)).equals(Buffer.from(single))).toBe(true);
  });

  it("decodes what it encodes, and returns undefined for bytes that are not one", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.integer({ min: 1, max: 0xffffffff }), { maxKeys: 5 }),
        fc.uint8Array({ maxLength: 40 }),
        (entries, value) => {
          const encoded = encodeEnvelope({ clock: clock(entries), value });
          const decoded = decodeEnvelope(encoded)!;
          expect(vectorClock.compare(decoded.clock, clock(entries))).toBe(Order.EQUAL);
          expect(Buffer.from(decoded.value).equals(Buffer.from(value))).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    const withoutValue = new WireWriter(0).finish();
    const trailing = new Uint8Array([...envelope({ a: 1 }, "v"), 0x18, 0x01]);
    const twoValues = new Uint8Array([...envelope({}, "v"), 0x12, 0x01, 0x77]);
    const unsorted = new Uint8Array([...envelope({ b: 1 }, "").subarray(0, 7), ...envelope({ a: 1 }, "v")]);
    for (const bytes of [
      utf8.encode("hello"),
      withoutValue,
      trailing,
      twoValues,
      unsorted,
      new Uint8Array([0x12, 0x05]),
    ]) {
      expect(decodeEnvelope(bytes)).toBeUndefined();
    }
  });

  it("drops a sibling whose clock another's dominates, keeps concurrent ones and bare values, and copies", () => {
    const siblings = [
      envelope({ a: 1 }, "first"),
      envelope({ b: 1 }, "concurrent"),
      envelope({ a: 1, c: 1 }, "after first"),
      utf8.encode("bare"),
    ];
    const visible = visibleSiblings(siblings);
    expect(visible.map(text)).toEqual(["concurrent", "after first", "bare"]);
    visible[0][0] = 0;
    expect(visibleSiblings(siblings).map(text)).toContain("concurrent");
    expect(visibleSiblings([])).toEqual([]);
  });

  it("keeps a set to its maximal siblings, returning the same set when nothing is overwritten", () => {
    const first = envelope({ a: 1 }, "first");
    const later = envelope({ a: 2 }, "later");
    const concurrent = envelope({ b: 1 }, "concurrent");
    const sameClock = envelope({ a: 2 }, "same clock");
    const bare = utf8.encode("bare");
    const values = toByteSet([first, later, concurrent, sameClock, bare]);
    expect(maximalSiblings(values)).toEqual(toByteSet([later, concurrent, sameClock, bare]));
    const antichain = toByteSet([later, concurrent, bare]);
    expect(maximalSiblings(antichain)).toBe(antichain);
  });

  it("makes the sibling set a join: commutative, associative, idempotent, and pruning early equals pruning late", () => {
    const ids = fc.constantFrom("a", "b", "c");
    const sibling = fc.oneof(
      fc
        .tuple(fc.dictionary(ids, fc.integer({ min: 1, max: 3 }), { maxKeys: 3 }), fc.constantFrom("x", "y"))
        .map(([entries, value]) => envelope(entries, value)),
      fc.constantFrom("bare-1", "bare-2").map((value) => utf8.encode(value)),
    );
    const siblings = fc.array(sibling, { maxLength: 6 }).map((values) => maximalSiblings(toByteSet(values)));
    const hexes = (values: readonly Uint8Array[]) => values.map((bytes) => Buffer.from(bytes).toString("hex"));
    fc.assert(
      fc.property(siblings, siblings, siblings, (a, b, c) => {
        const join = siblingSet.join;
        expect(hexes(join(a, b))).toEqual(hexes(join(b, a)));
        expect(hexes(join(join(a, b), c))).toEqual(hexes(join(a, join(b, c))));
        expect(hexes(join(a, a))).toEqual(hexes(a));
        expect(hexes(join(a, b))).toEqual(hexes(maximalSiblings(toByteSet([...a, ...b]))));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("keeps exactly the siblings no other sibling strictly dominates, in their order (against the pairwise definition)", () => {
    // Three ids and small counters: dominance, equality and concurrency all come up often.
    const clocks = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 3 }), { maxKeys: 3 });
    const sibling = fc.oneof(
      {
        weight: 9,
        arbitrary: fc.tuple(clocks, fc.string({ maxLength: 3 })).map(([entries, value]) => envelope(entries, value)),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }).map((value) => utf8.encode(`bare:${value}`)) },
    );
    fc.assert(
      fc.property(fc.array(sibling, { maxLength: 12 }), (values) => {
        const set = toByteSet(values);
        const envelopes = set.map(decodeEnvelope);
        const expected = set.filter(
          (_, i) =>
            envelopes[i] === undefined ||
            !envelopes.some(
              (other) => other !== undefined && vectorClock.compare(envelopes[i]!.clock, other.clock) === Order.LESS,
            ),
        );
        expect(maximalSiblings(set).map(text)).toEqual(expected.map(text));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
