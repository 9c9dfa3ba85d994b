/**
 * The actor's dot id (src/actor/dot-issuer.ts, docs/causal-dots.md §3): drawn again before
 * the next dot once a value naming it left the store, and only then; and when a counter
 * would pass 2^32 - 1.
 */
import { DotIssuer } from "../../src/actor/dot-issuer";
import { dotRequestOf, encodeDotRequest } from "../../src/lattices/causal-dots";
import { decodeEnvelope } from "../../src/lattices/causal-envelope";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeSingleCausalWire, encodeSingleCausalWire } from "../../src/lattices/single-causal";
import { toVectorClock, vectorClock, type VectorClock } from "../../src/lattices/vector-clock";
import type { StoredValue } from "../../src/core/store";
import { StoreError } from "../../src/core/status";

const utf8 = new TextEncoder();
const request = (context: VectorClock = vectorClock.bottom) =>
  dotRequestOf(encodeDotRequest({ stampMicros: 9, epoch: 1, context, value: utf8.encode("v"), enveloped: true }))!;
const single = (payload: Uint8Array): StoredValue => ({ type: LatticeType.SINGLE_CAUSAL, payload });
const dotIdOf = (payload: Uint8Array) =>
  new TextDecoder().decode(decodeEnvelope(decodeSingleCausalWire(payload).second[0])!.dot!.id);

describe("the dot issuer", () => {
  it("keeps its id while the values dropped do not name it, and draws a new one after one that did", () => {
    const issuer = new DotIssuer();
    const firstId = new TextDecoder().decode(issuer.currentId);
    const mine = issuer.dotted(request(), undefined);
    expect(dotIdOf(mine)).toBe(firstId);
    const foreign = encodeSingleCausalWire({
      first: toVectorClock([{ key: utf8.encode("elsewhere"), value: 3 }]),
      second: [],
    });
    issuer.noteDropping(undefined);
    issuer.noteDropping({ type: LatticeType.LWW, payload: new Uint8Array([8, 1]) });
    issuer.noteDropping(single(foreign));
    expect(dotIdOf(issuer.dotted(request(), undefined))).toBe(firstId);
    expect(issuer.redraws).toBe(0);
    issuer.noteDropping(single(mine));
    // Drawn before the next dot, not at once.
    expect(new TextDecoder().decode(issuer.currentId)).toBe(firstId);
    const after = issuer.dotted(request(), single(mine));
    expect(dotIdOf(after)).not.toBe(firstId);
    expect(issuer.redraws).toBe(1);
  });

  it("counts on from the stored value, and draws a new id rather than pass 2^32 - 1", () => {
    const issuer = new DotIssuer();
    const id = issuer.currentId;
    const stored = single(issuer.dotted(request(toVectorClock([{ key: id, value: 0xfffffffe }])), undefined));
    expect(decodeSingleCausalWire(stored.payload).first).toEqual(toVectorClock([{ key: id, value: 0xffffffff }]));
    const next = issuer.dotted(request(), stored);
    expect(issuer.redraws).toBe(1);
    expect(dotIdOf(next)).not.toBe(new TextDecoder().decode(id));
  });

  it("refuses a dot request of a key holding another type, as the store would", () => {
    expect(() => new DotIssuer().dotted(request(), { type: LatticeType.LWW, payload: new Uint8Array([8, 1]) })).toThrow(
      StoreError,
    );
  });
});
