/**
 * The hybrid clock of docs/consistency.md §2.0: LWW stamps in microseconds since the epoch
 * (so they still order against plain `putLww` writes), strictly increasing per clock even
 * when the wall clock steps back, and above every stamp the clock has absorbed. A stamp
 * read from a faster clock is absorbed, unless it is so far ahead that following it would
 * carry this clock off with it: then a write that must follow it fails CLOCK_AHEAD.
 */
import { ConsistencyError, type Guarantee } from "./errors";

export interface HybridClockOptions {
  /** A stamp further ahead of the wall clock than this is not absorbed. */
  maxClockAheadMs?: number;
  /** The wall clock, in microseconds; tests give skewed ones. */
  nowMicros?: () => bigint;
}

const MAX_CLOCK_AHEAD_MS_DEFAULT = 60_000;
/** LWW timestamps are u64 on the wire. */
const STAMP_MICROS_MAX = (1n << 64n) - 1n;

export function wallClockMicros(): bigint {
  return BigInt(Date.now()) * 1000n;
}

export class HybridClock {
  private lastMicros = 0n;
  private observedMicros = 0n;
  private readonly maxClockAheadMicros: bigint;
  private readonly nowMicros: () => bigint;

  constructor(options: HybridClockOptions = {}) {
    this.maxClockAheadMicros = BigInt(options.maxClockAheadMs ?? MAX_CLOCK_AHEAD_MS_DEFAULT) * 1000n;
    this.nowMicros = options.nowMicros ?? wallClockMicros;
  }

  /**
   * max(now + lead, last + 1, observed + 1): above every stamp issued or absorbed, and
   * `leadMicros` ahead of the wall clock for a write that arrived late (multi-key-session.ts).
   */
  next(leadMicros = 0n): bigint {
    let stamp = this.nowMicros() + leadMicros;
    if (stamp <= this.lastMicros) stamp = this.lastMicros + 1n;
    if (stamp <= this.observedMicros) stamp = this.observedMicros + 1n;
    if (stamp > STAMP_MICROS_MAX) throw new Error(`invariant: stamp ${stamp} past u64`);
    this.lastMicros = stamp;
    return stamp;
  }

  /** The wall clock this clock stamps by (µs). */
  wallMicros(): bigint {
    return this.nowMicros();
  }

  /** Absorbs a stamp read, so that later stamps exceed it; false (not absorbed) when it is too far ahead. */
  observe(stampMicros: bigint): boolean {
    if (stampMicros > this.nowMicros() + this.maxClockAheadMicros) return false;
    if (stampMicros > this.observedMicros) this.observedMicros = stampMicros;
    return true;
  }

  /** Absorbs a stamp that later writes must follow; CLOCK_AHEAD, naming `guarantee`, when it is too far ahead. */
  follow(stampMicros: bigint, guarantee: Guarantee): void {
    if (this.observe(stampMicros)) return;
    const aheadMs = (stampMicros - this.nowMicros()) / 1000n;
    throw new ConsistencyError(
      "CLOCK_AHEAD",
      guarantee,
      `${guarantee}: a version read has stamp ${stampMicros} µs, ${aheadMs} ms ahead of this clock ` +
        `(more than maxClockAheadMs, ${this.maxClockAheadMicros / 1000n} ms), so no write can be stamped after it`,
    );
  }
}

/** A write refused for a stale stamp is stamped above the floor named and sent again, this many times in all. */
export const STAMP_ATTEMPTS_MAX = 3;
/** A write is never stamped further ahead of the wall clock than this to arrive above a floor: later, it stays refused. */
const RETRY_LEAD_MAX_MICROS = 10_000_000;

/**
 * How far ahead of the wall clock to stamp a write sent again after its stamp
 * `stampMicros`, sent when the session's clock read `sentAtMicros`, arrived at or below the
 * accept floor `floorMicros` (docs/causal-stability.md §2, "Writes that arrive late"):
 * twice its lateness. A write arrives below the floor (now − the accept lag) when its trip
 * (network, a queue at a loaded node) and the client's clock lag behind the node's take
 * longer than the accept lag; a stamp that only followed the floor would be taken from the
 * clock when the refusal came back and arrive just as late, so a far client's every attempt
 * would be refused. The lateness is the floor's lead over the clock at sending, not over the
 * stamp: a stamp already led by an earlier refusal was late by its lead and more. 0 for a
 * refusal that is not about lateness (another epoch names a floor below the stamp).
 */
export function retryLeadMicros(stampMicros: number, sentAtMicros: number, floorMicros: number): number {
  if (floorMicros < stampMicros) return 0;
  return Math.min(RETRY_LEAD_MAX_MICROS, 2 * (floorMicros - Math.min(stampMicros, sentAtMicros) + 1));
}
