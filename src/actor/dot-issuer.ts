/**
 * An actor's side of dot requests (docs/causal-dots.md §3): its dot id, and the dotted
 * value it merges for a request. A dot (id, n) must be made once only, and n must be one
 * above every dot of the id the key has had (invariant A there): the counter comes from the
 * stored value, so after the actor drops a key whose value names its id (a replica it
 * stopped holding, a key moved away) it draws a new id before its next dot, since it could
 * come to hold the key again from a replica that has not heard its last dots.
 */
import { randomBytes } from "node:crypto";
import { DOT_COUNTER_MAX, counterOf, dottedState, nextDotCounter, type DotRequest } from "../lattices/causal-dots";
import { LatticeType } from "../lattices/lattice-type";
import { decodeSingleCausalWire, singleCausal } from "../lattices/single-causal";
import type { StoredValue } from "../core/store";
import { StoreError } from "../core/status";

/** 72 random bits: actors that never meet still draw distinct ids (2^-36 odds against at 2^18 draws). */
const DOT_ID_BYTES = 9;

function drawDotId(): Uint8Array {
  return new TextEncoder().encode(randomBytes(DOT_ID_BYTES).toString("base64url"));
}

export class DotIssuer {
  private id = drawDotId();
  /** Set when a value naming `id` left the store: the next dot draws a new id first. */
  private mustRedraw = false;
  /** Ids drawn since the first (counted for the actor's stats and tests). */
  redraws = 0;

  get currentId(): Uint8Array {
    return this.id;
  }

  /**
   * The value to merge for `request` into a key whose stored value is `stored`: the stored
   * one with the request's dotted (id, next counter) in it (dottedState). StoreError LATTICE when the key holds
   * another type, as the store's merge would refuse it.
   */
  dotted(request: DotRequest, stored: StoredValue | undefined): Uint8Array {
    if (stored !== undefined && stored.type !== LatticeType.SINGLE_CAUSAL)
      throw new StoreError("LATTICE", `a dot request of a key holding ${LatticeType[stored.type] ?? stored.type}`);
    if (this.mustRedraw) this.redraw();
    const storedValue = stored === undefined ? singleCausal.bottom : decodeSingleCausalWire(stored.payload, true);
    let counter = nextDotCounter(request, storedValue, this.id);
    if (counter > DOT_COUNTER_MAX) {
      this.redraw();
      counter = nextDotCounter(request, storedValue, this.id);
    }
    return dottedState(request, { key: this.id, value: counter }, storedValue);
  }

  /** Before a key's value leaves the store: a value that names the current id makes the next dot draw a new one. */
  noteDropping(stored: StoredValue | undefined): void {
    if (this.mustRedraw || stored === undefined || stored.type !== LatticeType.SINGLE_CAUSAL) return;
    if (counterOf(decodeSingleCausalWire(stored.payload, true).first, this.id) > 0) this.mustRedraw = true;
  }

  private redraw(): void {
    this.id = drawDotId();
    this.mustRedraw = false;
    this.redraws++;
  }
}
