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
