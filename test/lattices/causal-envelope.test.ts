/**
 * The sibling envelope (src/lattices/causal-envelope.ts, docs/consistency.md §2.7): its
 * encoding, the strict decoding that leaves bare values bare, the sibling set that keeps
 * only maximal envelopes (a join), and the filter that shows readers the same.
 */
import fc from "fast-check";
import {
  type CausalEnvelope,
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

/** A dotted envelope (docs/causal-dots.md): clock `entries`, its dot the entry `id`, whose context counter is `contextCounter`. */
const dotted = (entries: Record<string, number>, id: string, contextCounter: number, value: string) =>
  encodeEnvelope({ clock: clock(entries), value: utf8.encode(value), dot: { id: utf8.encode(id), contextCounter } });

/** A sibling from small ids and counters: plain, dotted (when its clock names the dot's id above 1) or bare. */
const smallSibling = (values: fc.Arbitrary<string>) =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.dictionary(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 3 }), { maxKeys: 3 }), values)
        .map(([entries, value]) => envelope(entries, value)),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.dictionary(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 3 }), { maxKeys: 3 }),
          fc.constantFrom("a", "b", "c"),
          fc.integer({ min: 0, max: 3 }),
          values,
        )
        .map(([entries, id, context, value]) => {
          const counter = Math.max(entries[id] ?? 1, context + 1);
          return dotted({ ...entries, [id]: counter }, id, Math.min(context, counter - 1), value);
        }),
    },
    { weight: 1, arbitrary: values.map((value) => utf8.encode(`bare:${value}`)) },
  );

/**
 * Whether the envelope `above` overwrote the one of clock `below`, by the definition: a
 * plain one when its clock is strictly above; a dotted one when its context (its clock with
 * the dot's entry at the context counter) is at least `below`.
 */
function overwrote(above: CausalEnvelope, below: VectorClock): boolean {
  if (above.dot === undefined) return vectorClock.compare(below, above.clock) === Order.LESS;
  const { id, contextCounter } = above.dot;
  const context = toVectorClock(
    above.clock.map(({ key, value }) => ({ key, value: text(key) === text(id) ? contextCounter : value })),
  );
  const order = vectorClock.compare(below, context);
  return order === Order.LESS || order === Order.EQUAL;
}

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
    const sibling = smallSibling(fc.constantFrom("x", "y"));
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

  it("keeps exactly the siblings no other sibling overwrote, in their order (against the pairwise definition)", () => {
    // Three ids and small counters: dominance, equality and concurrency all come up often.
    fc.assert(
      fc.property(fc.array(smallSibling(fc.string({ maxLength: 3 })), { maxLength: 12 }), (values) => {
        const set = toByteSet(values);
        const envelopes = set.map(decodeEnvelope);
        const expected = set.filter(
          (_, i) =>
            envelopes[i] === undefined ||
            !envelopes.some((other, j) => j !== i && other !== undefined && overwrote(other, envelopes[i]!.clock)),
        );
        expect(maximalSiblings(set).map(text)).toEqual(expected.map(text));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  describe("dotted (docs/causal-dots.md)", () => {
    it("writes the dot as field 3 between the clock and the value, and reads back what it wrote", () => {
      const bytes = dotted({ r: 3, s: 1 }, "r", 2, "v");
      // Entries r:3 and s:1, then field 3 {id "r", context counter 2}, then the value.
      expect(Buffer.from(bytes).toString("hex")).toBe(
        "0a050a01721003" + "0a050a01731001" + "1a050a01721002" + "120176",
      );
      const decoded = decodeEnvelope(bytes)!;
      expect(text(decoded.dot!.id)).toBe("r");
      expect(decoded.dot!.contextCounter).toBe(2);
      expect(decoded.clock).toEqual(clock({ r: 3, s: 1 }));
      // A zero context counter is left out.
      const zeroContext = dotted({ r: 1 }, "r", 0, "v");
      expect(Buffer.from(zeroContext).toString("hex")).toBe("0a050a01721001" + "1a030a0172" + "120176");
      expect(decodeEnvelope(zeroContext)!.dot!.contextCounter).toBe(0);
    });

    it("takes a dot that is not canonical, or names no entry above its context counter, for a bare value", () => {
      const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
      const clockR2 = "0a050a01721002"; // entry r:2
      for (const bytes of [
        fromHex(`${clockR2} 1a030a0173 120176`), // the dot names s, which the clock lacks
        fromHex(`${clockR2} 1a050a01721002 120176`), // context counter 2, not below the clock's 2
        fromHex(`${clockR2} 1a050a01721000 120176`), // a zero context counter written out
        fromHex(`${clockR2} 1a020a00 120176`), // an empty id
        fromHex(`${clockR2} 120176 1a030a0172`), // the dot after the value
        fromHex(`${clockR2} 1a030a0172 1a030a0172 120176`), // two dots
        fromHex(`1a030a0172 ${clockR2} 120176`), // the dot before the clock
        fromHex(`${clockR2} 1a0510010a0172 120176`), // counter before id
      ])
        expect(decodeEnvelope(bytes)).toBeUndefined();
      expect(decodeEnvelope(fromHex(`${clockR2} 1a050a01721001 120176`))!.dot!.contextCounter).toBe(1);
    });

    it("overwrites what its context covers, and not a version of its own id its writer had not seen", () => {
      // Replica r made dot 2 for a writer who had seen r:1, then dot 3 for one who had seen nothing.
      const seenFirst = dotted({ r: 2 }, "r", 1, "second");
      const blind = dotted({ r: 3 }, "r", 0, "blind");
      const first = dotted({ r: 1 }, "r", 0, "first");
      expect(
        maximalSiblings(toByteSet([first, seenFirst, blind]))
          .map((bytes) => text(decodeEnvelope(bytes)!.value))
          .sort(),
      ).toEqual(["blind", "second"]);
      // A later write that saw r:3 overwrites both; a plain envelope below its context too.
      const after = dotted({ r: 4, s: 1 }, "r", 3, "after");
      const plain = envelope({ r: 3 }, "plain");
      expect(
        maximalSiblings(toByteSet([seenFirst, blind, plain, after])).map((bytes) => text(decodeEnvelope(bytes)!.value)),
      ).toEqual(["after"]);
    });
  });
});
