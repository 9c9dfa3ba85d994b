/**
 * Dot requests (src/lattices/dot-requests.ts, docs/causal-dots.md §5): the request's codec
 * and strictness, the write a replica merges for one, the counter it reads from its stored
 * value, and the dot as answers carry it.
 */
import fc from "fast-check";
import {
  counterIn,
  counterInPayload,
  decodeDot,
  dotRequestOf,
  dottedWrite,
  encodeDot,
  encodeDotRequest,
} from "../../src/lattices/dot-requests";
import { decodeDottedCausalWire, encodeDottedCausalWire, toDottedContext } from "../../src/lattices/dotted-causal";
import { LatticeType } from "../../src/lattices/lattice-type";
import { mergePayloads } from "../../src/lattices/merge";
import { MalformedPayloadError } from "../../src/wire/protobuf";
import { dottedCausalPayload, ProtoWriter } from "../support/payloads";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const R = utf8.encode("r");

describe("dot requests", () => {
  it("read back as written; a value without a stamp is none", () => {
    const context = toDottedContext([{ key: R, value: 2 }], [{ id: utf8.encode("q"), counter: 4 }]);
    for (const epoch of [0, 42]) {
      const request = dotRequestOf(
        encodeDotRequest({ stampMicros: 1_765_148_412_345_678, epoch, context, value: utf8.encode("v") }),
      )!;
      expect(request.stampMicros).toBe(1_765_148_412_345_678);
      expect(request.epoch).toBe(epoch);
      expect(request.context).toEqual(context);
      expect(text(request.value)).toBe("v");
    }
    expect(dotRequestOf(dottedCausalPayload({ r: 1 }, [], [["r", 1, "v"]]))).toBeUndefined();
  });

  it("refuses, saying why, a stamped value that is not one request", () => {
    const stamped = (bytes: Uint8Array, stamp = 5) =>
      new Uint8Array([...bytes, ...new ProtoWriter().tag(3, 0).varint(BigInt(stamp)).finish()]);
    const bareVersion = (value: string) =>
      new ProtoWriter().lengthDelimited(2, new ProtoWriter().lengthDelimited(2, utf8.encode(value)).finish()).finish();
    const cases: [Uint8Array, RegExp][] = [
      [stamped(dottedCausalPayload({}, [], [["r", 1, "v"]])), /without a dot/],
      [stamped(new Uint8Array([...bareVersion("a"), ...bareVersion("b")])), /exactly one version/],
      [stamped(new Uint8Array(0)), /exactly one version/],
      [new ProtoWriter().tag(4, 0).varint(3n).finish(), /epoch without its stamp/],
    ];
    for (const [payload, reason] of cases) {
      expect(() => dotRequestOf(payload)).toThrow(MalformedPayloadError);
      expect(() => dotRequestOf(payload)).toThrow(reason);
    }
    // A store handed a request without a node in front refuses it: its version has no dot.
    const request = encodeDotRequest({
      stampMicros: 5,
      epoch: 0,
      context: toDottedContext([], []),
      value: utf8.encode("v"),
    });
    expect(mergePayloads(LatticeType.DOTTED_CAUSAL, undefined, request)).toBeNull();
  });

  it("is merged as its context with the dot, and the version", () => {
    const request = dotRequestOf(
      encodeDotRequest({
        stampMicros: 9,
        epoch: 1,
        context: toDottedContext([{ key: R, value: 2 }], []),
        value: utf8.encode("v"),
      }),
    )!;
    const write = decodeDottedCausalWire(dottedWrite(request, { id: R, counter: 3 }));
    expect(write.context.vector).toEqual([{ key: R, value: 3 }]);
    expect(write.versions.map(({ dot, value }) => `${text(dot.id)}:${dot.counter}=${text(value)}`)).toEqual(["r:3=v"]);
    expect(() => dottedWrite(request, { id: R, counter: 2 })).toThrow(/invariant/);
    // Merged over a version the writer saw (r:2) and one it did not (q:1): the first goes, the second stays.
    const stored = encodeDottedCausalWire(
      decodeDottedCausalWire(
        dottedCausalPayload(
          {},
          [],
          [
            ["r", 2, "seen"],
            ["q", 1, "unseen"],
          ],
        ),
      ),
    );
    const merged = decodeDottedCausalWire(
      mergePayloads(LatticeType.DOTTED_CAUSAL, stored, dottedWrite(request, { id: R, counter: 3 }))!,
    );
    expect(merged.versions.map(({ value }) => text(value)).sort()).toEqual(["unseen", "v"]);
  });

  it("reads a stored value's counter of an id without decoding it, as its canonical context has it", () => {
    const ids = ["q", "r", "s"];
    const dot = fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 1, max: 6 }));
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...ids), fc.integer({ min: 0, max: 6 })),
        fc.array(dot, { maxLength: 4 }),
        fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 1, max: 6 }), fc.string()), { maxLength: 4 }),
        (vector, cloud, versions) => {
          const payload = dottedCausalPayload(vector, cloud, versions);
          const { context } = decodeDottedCausalWire(payload);
          for (const id of ids)
            expect(counterInPayload(payload, utf8.encode(id))).toBe(counterIn(context, utf8.encode(id)));
        },
      ),
      { seed: 0xd07, numRuns: 300 },
    );
  });

  it("carries a dot in an answer as a Dot message", () => {
    const dot = { id: utf8.encode("actor-7"), counter: 300 };
    expect(decodeDot(encodeDot(dot))).toEqual(dot);
  });
});
