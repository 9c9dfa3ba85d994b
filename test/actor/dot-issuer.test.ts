/**
 * The actor's dot id (src/actor/dot-issuer.ts, docs/causal-dots.md §5): dots counted on
 * from the stored value and the writer's context; a new id drawn before the next dot once a
 * value naming the current one left the store, and only then; and when a counter would
 * pass 2^32 - 1.
 */
import { DotIssuer } from "../../src/actor/dot-issuer";
import { StoreError } from "../../src/core/status";
import type { StoredValue } from "../../src/core/store";
import { encodeDotRequest, dotRequestOf, type DotRequest } from "../../src/lattices/dot-requests";
import {
  dottedCausal,
  encodeDottedCausalWire,
  toDottedContext,
  type DottedContext,
} from "../../src/lattices/dotted-causal";
import { LatticeType } from "../../src/lattices/lattice-type";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const request = (context: DottedContext = dottedCausal.bottom.context): DotRequest =>
  dotRequestOf(encodeDotRequest({ stampMicros: 9, epoch: 1, context, value: utf8.encode("v") }))!;
const dotted = (payload: Uint8Array): StoredValue => ({ type: LatticeType.DOTTED_CAUSAL, payload });
/** A store holding `value` under every key, as the issuer reads it before a drop. */
const holding = (value: StoredValue | undefined) => ({ get: () => value });

describe("the dot issuer", () => {
  it("counts on from the stored value and the writer's context", () => {
    const issuer = new DotIssuer();
    const id = issuer.currentId;
    const first = issuer.dotted(request(), undefined);
    expect(first.dot.counter).toBe(1);
    expect(issuer.dotted(request(), dotted(first.payload)).dot.counter).toBe(2);
    const sawFive = toDottedContext([], [{ id, counter: 5 }]);
    expect(issuer.dotted(request(sawFive), dotted(first.payload)).dot.counter).toBe(6);
  });

  it("keeps its id while the values dropped do not name it, and draws a new one after one that did", () => {
    const issuer = new DotIssuer();
    const firstId = text(issuer.currentId);
    const mine = issuer.dotted(request(), undefined).payload;
    const foreign = encodeDottedCausalWire({
      context: toDottedContext([{ key: utf8.encode("elsewhere"), value: 3 }], []),
      versions: [],
    });
    issuer.noteDropping(holding(undefined), "k");
    issuer.noteDropping(holding({ type: LatticeType.LWW, payload: new Uint8Array([8, 1]) }), "k");
    issuer.noteDropping(holding(dotted(foreign)), "k");
    expect(text(issuer.dotted(request(), undefined).dot.id)).toBe(firstId);
    expect(issuer.redraws).toBe(0);
    issuer.noteDropping(holding(dotted(mine)), "k");
    // Drawn before the next dot, not at once.
    expect(text(issuer.currentId)).toBe(firstId);
    expect(text(issuer.dotted(request(), dotted(mine)).dot.id)).not.toBe(firstId);
    expect(issuer.redraws).toBe(1);
  });

  it("draws a new id rather than pass 2^32 - 1", () => {
    const issuer = new DotIssuer();
    const id = issuer.currentId;
    const atTheEnd = toDottedContext([{ key: id, value: 0xffffffff }], []);
    const next = issuer.dotted(request(atTheEnd), undefined);
    expect(issuer.redraws).toBe(1);
    expect(text(next.dot.id)).not.toBe(text(id));
    expect(next.dot.counter).toBe(1);
  });

  it("refuses a dot request of a key holding another type, as the store would", () => {
    expect(() => new DotIssuer().dotted(request(), { type: LatticeType.LWW, payload: new Uint8Array([8, 1]) })).toThrow(
      StoreError,
    );
  });
});
