/**
 * The hybrid clock (src/consistency/clock.ts, docs/consistency.md §2.0): stamps rise
 * whatever the wall clock does, exceed every stamp absorbed, and a stamp too far ahead is
 * not absorbed but makes a write that must follow it fail CLOCK_AHEAD. Seeded fast-check
 * runs; ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { MonotonicMicrosClock } from "../../src/client/anna-client";
import { HybridClock } from "../../src/consistency/clock";
import { ConsistencyError } from "../../src/consistency/errors";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xc10c;
const RUNS = 200;
const AHEAD_MS = 60_000;
const AHEAD_MICROS = BigInt(AHEAD_MS) * 1000n;
const START_MICROS = 1_700_000_000_000_000n;

/** A wall clock the test moves by hand. */
function manualClock(): { clock: HybridClock; set(micros: bigint): void } {
  let now = START_MICROS;
  const clock = new HybridClock({ maxClockAheadMs: AHEAD_MS, nowMicros: () => now });
  return { clock, set: (micros) => (now = micros) };
}

describe("HybridClock", () => {
  it("follows the wall clock, and rises by one when it stands still or steps back", () => {
    const { clock, set } = manualClock();
    expect(clock.next()).toBe(START_MICROS);
    expect(clock.next()).toBe(START_MICROS + 1n);
    set(START_MICROS - 5_000_000n);
    expect(clock.next()).toBe(START_MICROS + 2n);
    set(START_MICROS + 10n);
    expect(clock.next()).toBe(START_MICROS + 10n);
  });

  it("stamps above a stamp it absorbed, and absorbs one up to maxClockAheadMs ahead", () => {
    const { clock } = manualClock();
    expect(clock.observe(START_MICROS + AHEAD_MICROS)).toBe(true);
    expect(clock.next()).toBe(START_MICROS + AHEAD_MICROS + 1n);
    expect(clock.observe(START_MICROS - 1n)).toBe(true);
    expect(clock.next()).toBe(START_MICROS + AHEAD_MICROS + 2n);
  });

  it("does not absorb a stamp further ahead, and a write that must follow it fails CLOCK_AHEAD naming the guarantee", () => {
    const { clock, set } = manualClock();
    const farMicros = START_MICROS + AHEAD_MICROS + 1_000_000n;
    expect(clock.observe(farMicros)).toBe(false);
    expect(clock.next()).toBe(START_MICROS);
    let thrown: unknown;
    try {
      clock.follow(farMicros, "read-committed");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConsistencyError);
    expect(thrown).toMatchObject({ code: "CLOCK_AHEAD", guarantee: "read-committed" });
    expect((thrown as Error).message).toMatch(
      /^read-committed: .* 61000 ms ahead of this clock \(more than maxClockAheadMs, 60000 ms\)/,
    );
    // Once the wall clock is within reach, the same stamp is absorbed and followed.
    set(START_MICROS + 1_000_000n);
    clock.follow(farMicros, "read-committed");
    expect(clock.next()).toBe(farMicros + 1n);
  });

  it("keeps every stamp above the last, every stamp absorbed and the wall clock, whatever the wall clock does", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("move" as const), deltaMicros: fc.bigInt({ min: -5_000_000n, max: 5_000_000n }) }),
      fc.record({
        kind: fc.constant("observe" as const),
        aheadMicros: fc.bigInt({ min: -AHEAD_MICROS, max: 2n * AHEAD_MICROS }),
      }),
      fc.record({ kind: fc.constant("next" as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { clock, set } = manualClock();
        let now = START_MICROS;
        let last = 0n;
        let absorbed = 0n;
        for (const s of steps) {
          if (s.kind === "move") set((now += s.deltaMicros));
          else if (s.kind === "observe") {
            const stamp = now + s.aheadMicros;
            const taken = clock.observe(stamp);
            expect(taken).toBe(stamp <= now + AHEAD_MICROS);
            if (taken && stamp > absorbed) absorbed = stamp;
          } else {
            const stamp = clock.next();
            expect(stamp > last && stamp > absorbed && stamp >= now).toBe(true);
            last = stamp;
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("is AnnaClient's clock too, under the name it had: the wall clock in microseconds, rising", () => {
    const clock = new MonotonicMicrosClock();
    const before = BigInt(Date.now()) * 1000n;
    const first = clock.next();
    expect(first >= before).toBe(true);
    expect(clock.next() > first).toBe(true);
  });
});
