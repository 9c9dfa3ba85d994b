/**
 * An actor's side of dot requests (docs/causal-dots.md §5, step 3): its dot id, and the
 * value it merges for a request. A dot (id, n) must be made once only, and n must be above
 * every dot of the id the key has had: the counter comes from the stored value, so after
 * the actor drops a key whose value names its id (a replica it stopped holding, a key moved
 * away) it draws a new id before its next dot, since it could come to hold the key again
 * from a replica that has not heard its last dots.
 */
import { randomBytes } from "node:crypto";
import {
  counterInPayload,
  DOT_COUNTER_MAX,
  dottedWrite,
  nextDotCounter,
  type DotRequest,
} from "../lattices/dot-requests";
import type { Dot } from "../lattices/dotted-causal";
import { LatticeType } from "../lattices/lattice-type";
import type { Store, StoredValue } from "../core/store";
import type { Key } from "../wire/key";
import { StoreError } from "../core/status";

/** 72 random bits: actors that never meet still draw distinct ids (2^-37 odds against at 2^18 draws). */
const DOT_ID_BYTES = 9;

function drawDotId(): Uint8Array {
  return new TextEncoder().encode(randomBytes(DOT_ID_BYTES).toString("base64url"));
}

export class DotIssuer {
  private id = drawDotId();
  /** Set when a value naming `id` left the store: the next dot draws a new id first. */
  private mustRedraw = false;
  /** Whether a dot was made under `id`: until then no value names it, and a drop reads nothing. */
  private usedId = false;
  /** Ids drawn since the first (for tests). */
  redraws = 0;

  get currentId(): Uint8Array {
    return this.id;
  }

  /**
   * The dot for `request` on a key whose stored value is `stored`, and the value to merge
   * for it (dottedWrite). StoreError LATTICE when the key holds another type, as the
   * store's merge would refuse it.
   */
  dotted(request: DotRequest, stored: StoredValue | undefined): { dot: Dot; payload: Uint8Array } {
    if (stored !== undefined && stored.type !== LatticeType.DOTTED_CAUSAL)
      throw new StoreError("LATTICE", `a dot request of a key holding ${LatticeType[stored.type] ?? stored.type}`);
    if (this.mustRedraw) this.redraw();
    let counter = nextDotCounter(request, stored?.payload, this.id);
    if (counter > DOT_COUNTER_MAX) {
      this.redraw();
      counter = nextDotCounter(request, stored?.payload, this.id);
    }
    const dot = { id: this.id, counter };
    this.usedId = true;
    return { dot, payload: dottedWrite(request, dot) };
  }

  /**
   * Before `key` leaves `store`: a value that names the current id makes the next dot draw
   * a new one. The value is read only once a dot was made under the id (an actor that takes
   * no dot request drops keys, a rebalance's many, without reading them).
   */
  noteDropping(store: Pick<Store, "get">, key: Key): void {
    if (this.mustRedraw || !this.usedId) return;
    const stored = store.get(key);
    if (stored === undefined || stored.type !== LatticeType.DOTTED_CAUSAL) return;
    if (counterInPayload(stored.payload, this.id) > 0) this.mustRedraw = true;
  }

  private redraw(): void {
    this.id = drawDotId();
    this.mustRedraw = false;
    this.usedId = false;
    this.redraws++;
  }
}
