/**
 * DOTTED_CAUSAL (src/lattices/dotted-causal.ts, docs/causal-dots.md §4, §5): its canonical
 * form (contiguous dots compacted into the vector, every version's dot in the context, one
 * version a dot), the multi-value register's join (a version stays unless the other side's
 * context names it without holding it), and the lattice laws on canonical values.
 */
import fc from "fast-check";
import {
  dottedAtOrAbove,
  joinDottedPayloads,
  decodeDottedCausalWire,
  dottedCausal,
  encodeDottedCausalWire,
  type Dot,
  type DottedCausal,
} from "../../src/lattices/dotted-causal";
import { LatticeType } from "../../src/lattices/lattice-type";
import { mergePayloads } from "../../src/lattices/merge";
import { dottedCausalPayload, ProtoWriter } from "../support/payloads";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xd07;
const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const payload = dottedCausalPayload;

const show = (value: DottedCausal) => ({
  vector: Object.fromEntries(value.context.vector.map(({ key, value: counter }) => [text(key), counter])),
  cloud: value.context.cloud.map(({ id, counter }: Dot) => `${text(id)}:${counter}`),
  versions: value.versions.map(({ dot, value: bytes }) => `${text(dot.id)}:${dot.counter}=${text(bytes)}`),
});

const join = (a: Uint8Array, b: Uint8Array) => mergePayloads(LatticeType.DOTTED_CAUSAL, a, b)!;
const canonical = (bytes: Uint8Array) => mergePayloads(LatticeType.DOTTED_CAUSAL, undefined, bytes)!;

describe("DOTTED_CAUSAL", () => {
  it("is canonical with contiguous dots in the vector, every version's dot in the context, one version a dot", () => {
    const value = decodeDottedCausalWire(
      payload(
        { r: 1 },
        [
          ["r", 3],
          ["r", 2],
          ["q", 5],
        ],
        [
          ["q", 7, "x"],
          ["r", 5, "y"],
          ["q", 7, "z"],
        ],
      ),
    );
    expect(show(value)).toEqual({ vector: { r: 3 }, cloud: ["q:5", "q:7", "r:5"], versions: ["q:7=z", "r:5=y"] });
    // Decoding the encoding gives the same bytes again.
    const bytes = encodeDottedCausalWire(value);
    expect(Buffer.from(encodeDottedCausalWire(decodeDottedCausalWire(bytes))).equals(Buffer.from(bytes))).toBe(true);
    expect(canonical(new Uint8Array(0))).toHaveLength(0);
  });

  it("refuses a dot without an id or with counter 0, or a version without its dot", () => {
    const versionWithoutDot = new ProtoWriter()
      .lengthDelimited(2, new ProtoWriter().lengthDelimited(2, utf8.encode("v")).finish())
      .finish();
    for (const bytes of [
      payload({}, [["", 1]], []),
      payload({}, [["r", 0]], []),
      payload({}, [], [["r", 0, "v"]]),
      versionWithoutDot,
    ])
      expect(mergePayloads(LatticeType.DOTTED_CAUSAL, undefined, bytes)).toBeNull();
  });

  it("keeps a version the other side has not seen, drops one its context names, and unites the contexts", () => {
    // Replica r made dot 1, then dot 2 for a writer who had seen r:1, and dot 3 for one who had seen nothing.
    const first = payload({ r: 1 }, [], [["r", 1, "first"]]);
    const overFirst = payload({ r: 2 }, [], [["r", 2, "second"]]);
    const blind = payload({}, [["r", 3]], [["r", 3, "blind"]]);
    const merged = join(join(first, overFirst), blind);
    expect(show(decodeDottedCausalWire(merged))).toEqual({
      vector: { r: 3 },
      cloud: [],
      versions: ["r:2=second", "r:3=blind"],
    });
    // A session that saw r:1..3 overwrites both with its own dot; one that saw only its own write r:3 keeps r:2.
    expect(
      show(decodeDottedCausalWire(join(merged, payload({ r: 3 }, [["s", 1]], [["s", 1, "after all"]])))).versions,
    ).toEqual(["s:1=after all"]);
    expect(
      show(
        decodeDottedCausalWire(
          join(
            merged,
            payload(
              {},
              [
                ["r", 3],
                ["s", 1],
              ],
              [["s", 1, "after own"]],
            ),
          ),
        ),
      ).versions,
    ).toEqual(["r:2=second", "s:1=after own"]);
  });

  const id = fc.constantFrom("a", "b");
  const counter = fc.integer({ min: 1, max: 4 });
  /** Small canonical values: two ids, low counters, clouds and versions inside and outside the context. */
  const value = fc
    .tuple(
      fc.dictionary(id, fc.integer({ min: 0, max: 3 }), { maxKeys: 2 }),
      fc.array(fc.tuple(id, counter), { maxLength: 3 }),
      fc.array(fc.tuple(id, counter, fc.constantFrom("x", "y")), { maxLength: 3 }),
    )
    .map(([vector, cloud, versions]) => canonical(payload(vector, cloud, versions)));
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

  it("joins canonical values commutatively, associatively and idempotently", () => {
    fc.assert(
      fc.property(value, value, value, (a, b, c) => {
        expect(hex(join(a, b))).toBe(hex(join(b, a)));
        expect(hex(join(join(a, b), c))).toBe(hex(join(a, join(b, c))));
        expect(hex(join(a, a))).toBe(hex(a));
        expect(
          hex(encodeDottedCausalWire(dottedCausal.join(decodeDottedCausalWire(a), decodeDottedCausalWire(b)))),
        ).toBe(hex(join(a, b)));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("tells a value at or above another exactly when their join is it, and joins payloads to the join's bytes", () => {
    let above = 0;
    fc.assert(
      fc.property(value, value, (a, b) => {
        const joined = join(a, b);
        const atOrAbove = dottedAtOrAbove(decodeDottedCausalWire(a), decodeDottedCausalWire(b));
        expect(atOrAbove).toBe(hex(joined) === hex(a));
        if (atOrAbove) above++;
        // Either side as it is where one is at or above the other: the same bytes as the join's.
        expect(hex(joinDottedPayloads(a, b))).toBe(hex(joined));
        expect(hex(joinDottedPayloads(b, a))).toBe(hex(joined));
      }),
      { seed: SEED, numRuns: 1000 },
    );
    // Both answers were met often.
    expect(above).toBeGreaterThan(100);
    expect(above).toBeLessThan(900);
  });
});
