/**
 * How far ahead of its wall clock a client stamps its causal writes (docs/causal-stability.md
 * §2, "Writes that arrive late"). A node refuses a stamp at or below its accept floor, now −
 * the accept lag, with STALE_STAMP naming the floor. A write arrives below the floor when
 * its trip to the node (network, queueing) plus the client's clock lag behind the node
 * exceed the accept lag. Following the floor alone does not help such a client: its next
 * stamp arrives just as late, so every attempt would be refused. The refusal says by how
 * much the stamp was late; the client's stamps then lead its clock by twice that, for
 * LEAD_HOLD_MS after the last refusal, so that a far or slow client pays one refusal per
 * hold instead of failing every write. A lead only delays when its values count as stable.
 */

/** A lead lasts this long after the refusal that set it: long enough to stop repeats, short enough to drop a spike. */
export const LEAD_HOLD_MICROS = 10_000_000;
/** A lead never exceeds this: a write later than it stays refused (STALE_STAMP), as a clock that far off would be. */
export const LEAD_MAX_MICROS = 10_000_000;

export class StampLead {
  private leadMicros = 0;
  private heldUntilMicros = 0;

  /** The lead to stamp with at `nowMicros` (0 once the hold of the last refusal has passed). */
  at(nowMicros: number): number {
    return nowMicros < this.heldUntilMicros ? this.leadMicros : 0;
  }

  /**
   * A write stamped `stampMicros` was refused for a floor of `floorMicros` at about
   * `nowMicros`: the lead becomes twice its lateness (at least what it was), so that a
   * trip up to twice as late still arrives above the floor. A refusal for another reason
   * (another epoch, a floor below the stamp) teaches nothing.
   */
  learn(stampMicros: number, floorMicros: number, nowMicros: number): void {
    if (floorMicros < stampMicros) return;
    const lateMicros = floorMicros - stampMicros + 1;
    this.leadMicros = Math.min(LEAD_MAX_MICROS, Math.max(this.at(nowMicros), 2 * lateMicros));
    this.heldUntilMicros = nowMicros + LEAD_HOLD_MICROS;
  }
}
