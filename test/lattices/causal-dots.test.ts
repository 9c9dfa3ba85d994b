/**
 * Dot requests (src/lattices/causal-dots.ts, docs/causal-dots.md §3): the request's codec
 * and strictness, and the value a replica stores for one over what it holds.
 */
import { counterOf, dotRequestOf, dottedState, encodeDotRequest, nextDotCounter } from "../../src/lattices/causal-dots";
import { decodeEnvelope, encodeEnvelope } from "../../src/lattices/causal-envelope";
import { toByteSet } from "../../src/lattices/set-union";
import { decodeSingleCausalWire, encodeSingleCausalWire, singleCausal } from "../../src/lattices/single-causal";
import { toVectorClock, vectorClock, type VectorClock } from "../../src/lattices/vector-clock";
import { MalformedPayloadError } from "../../src/wire/protobuf";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const clock = (entries: Record<string, number>): VectorClock =>
  toVectorClock(Object.entries(entries).map(([id, value]) => ({ key: utf8.encode(id), value })));
const R = utf8.encode("r");

describe("dot requests", () => {
  it("read back as written, enveloped or bare, and a plain value is none", () => {
    for (const enveloped of [true, false]) {
      const payload = encodeDotRequest({
        stampMicros: 1_765_148_412_345_678,
        epoch: 42,
        context: clock({ q: 2 }),
        value: utf8.encode("v"),
        enveloped,
      });
      const request = dotRequestOf(payload)!;
      expect(request.stampMicros).toBe(1_765_148_412_345_678);
      expect(request.epoch).toBe(42);
      expect(request.context).toEqual(clock({ q: 2 }));
      expect(text(request.value)).toBe("v");
      expect(request.enveloped).toBe(enveloped);
    }
    const plainClock = clock({ session: 3 });
    const plain = encodeSingleCausalWire({
      first: plainClock,
      second: toByteSet([encodeEnvelope({ clock: plainClock, value: utf8.encode("v") })]),
    });
    expect(dotRequestOf(plain)).toBeUndefined();
  });

  it("refuses, saying why, a mark that is not one request's", () => {
    const marked = (entries: Record<string, number>, values: Uint8Array[]) =>
      encodeSingleCausalWire({ first: clock(entries), second: toByteSet(values) });
    const cases: [Uint8Array, RegExp][] = [
      [marked({ "@5.1": 1, "@6.1": 1 }, [utf8.encode("v")]), /one entry/],
      [marked({ "@5.1": 2 }, [utf8.encode("v")]), /counter 1/],
      [marked({ "@five.1": 1 }, [utf8.encode("v")]), /one entry/],
      [marked({ "@0.1": 1 }, [utf8.encode("v")]), /stamp above 0/],
      [marked({ "@5.1": 1 }, [utf8.encode("v"), utf8.encode("w")]), /exactly one value/],
      [marked({ "@5.1": 1 }, []), /exactly one value/],
    ];
    for (const [payload, reason] of cases) {
      expect(() => dotRequestOf(payload)).toThrow(MalformedPayloadError);
      expect(() => dotRequestOf(payload)).toThrow(reason);
    }
  });

  it("is stored dotted beside the siblings its writer had not seen, and over those it had", () => {
    const request = (context: VectorClock, value: string) =>
      dotRequestOf(
        encodeDotRequest({ stampMicros: 9, epoch: 1, context, value: utf8.encode(value), enveloped: true }),
      )!;
    const first = decodeSingleCausalWire(
      dottedState(request(vectorClock.bottom, "a"), { key: R, value: 1 }, singleCausal.bottom),
    );
    expect(nextDotCounter(request(vectorClock.bottom, "b"), first, R)).toBe(2);
    const blind = decodeSingleCausalWire(dottedState(request(vectorClock.bottom, "b"), { key: R, value: 2 }, first));
    expect(blind.first).toEqual(clock({ r: 2 }));
    expect(blind.second.map((bytes) => text(decodeEnvelope(bytes)!.value)).sort()).toEqual(["a", "b"]);
    const seen = decodeSingleCausalWire(dottedState(request(blind.first, "c"), { key: R, value: 3 }, blind));
    expect(seen.second.map((bytes) => text(decodeEnvelope(bytes)!.value))).toEqual(["c"]);
    const dot = decodeEnvelope(seen.second[0])!.dot!;
    expect(text(dot.id)).toBe("r");
    expect(dot.contextCounter).toBe(2);
    expect(counterOf(seen.first, R)).toBe(3);
  });

  it("keeps a stored bare value unless the writer had seen the whole stored clock", () => {
    const bare = (context: VectorClock, value: string) =>
      dotRequestOf(
        encodeDotRequest({ stampMicros: 9, epoch: 1, context, value: utf8.encode(value), enveloped: false }),
      )!;
    const stored = { first: clock({ q: 1 }), second: toByteSet([utf8.encode("old")]) };
    const unseen = decodeSingleCausalWire(dottedState(bare(vectorClock.bottom, "new"), { key: R, value: 1 }, stored));
    expect(unseen.second.map(text).sort()).toEqual(["new", "old"]);
    const seen = decodeSingleCausalWire(dottedState(bare(clock({ q: 1 }), "new"), { key: R, value: 1 }, stored));
    expect(seen.second.map(text)).toEqual(["new"]);
    expect(seen.first).toEqual(clock({ q: 1, r: 1 }));
  });

  it("never makes a dot at or below the context's counter of its id", () => {
    const request = dotRequestOf(
      encodeDotRequest({
        stampMicros: 9,
        epoch: 1,
        context: clock({ r: 4 }),
        value: utf8.encode("v"),
        enveloped: true,
      }),
    )!;
    expect(nextDotCounter(request, singleCausal.bottom, R)).toBe(5);
    expect(() => dottedState(request, { key: R, value: 4 }, singleCausal.bottom)).toThrow(/invariant/);
  });
});
