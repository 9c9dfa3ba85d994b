/**
 * TimeSlicer: background work runs in slices of at most SLICE_MS with the event loop's
 * I/O between them, stops at its budget or when the work says it has nothing more to do,
 * never overlaps an earlier run, and runs nothing after stop().
 */
import { SLICE_MS, TimeSlicer } from "../../src/actor/time-slices";

/** Busy-waits until `deadlineMs` or `capMs` from now, whichever is first: a step's work. */
function workUntil(deadlineMs: number, capMs = Infinity): void {
  const end = Math.min(deadlineMs, performance.now() + capMs);
  while (performance.now() < end) {
    // spin: the step's work
  }
}

/** Resolves once `done()` holds, polling each turn of the event loop, or rejects after 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadlineMs = performance.now() + 5000;
  while (!done()) {
    if (performance.now() > deadlineMs) throw new Error("slicer never finished");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("TimeSlicer", () => {
  it("gives each slice a deadline at most SLICE_MS away and lets I/O run between slices", async () => {
    const slicer = new TimeSlicer();
    const sliceMs: number[] = [];
    let turnsBetween = 0;
    let running = true;
    const ticker = setInterval(() => turnsBetween++, 0);
    slicer.run((deadlineMs) => {
      sliceMs.push(deadlineMs - performance.now());
      workUntil(deadlineMs);
      running = sliceMs.length < 5;
      return running;
    }, 1000);
    await until(() => !running);
    clearInterval(ticker);
    expect(sliceMs).toHaveLength(5);
    for (const ms of sliceMs) expect(ms).toBeLessThanOrEqual(SLICE_MS);
    // Timers fired between the slices: they did not run as one block.
    expect(turnsBetween).toBeGreaterThan(0);
  });

  it("stops at its budget, the last slice cut to what is left", async () => {
    // A clock of its own: each slice's work takes exactly the time it was given.
    let clockMs = 0;
    const slicer = new TimeSlicer(() => clockMs);
    const givenMs: number[] = [];
    slicer.run(
      (deadlineMs) => {
        givenMs.push(deadlineMs - clockMs);
        clockMs = deadlineMs;
        return true;
      },
      4 * SLICE_MS + 1,
    );
    await until(() => givenMs.length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(givenMs).toEqual([SLICE_MS, SLICE_MS, SLICE_MS, SLICE_MS, 1]);
  });

  it("ignores a run while one is slicing, and runs again once it is over", async () => {
    const slicer = new TimeSlicer();
    const calls: string[] = [];
    let firstLeft = 3;
    slicer.run(() => {
      calls.push("first");
      return --firstLeft > 0;
    }, 1000);
    slicer.run(() => {
      calls.push("overlapping");
      return false;
    }, 1000);
    await until(() => firstLeft === 0);
    slicer.run(() => {
      calls.push("later");
      return false;
    }, 1000);
    expect(calls).toEqual(["first", "first", "first", "later"]);
  });

  it("runs no slice after stop", async () => {
    const slicer = new TimeSlicer();
    let slices = 0;
    slicer.run(() => {
      slices++;
      return true;
    }, 1000);
    slicer.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(slices).toBe(1);
    slicer.run(() => {
      slices++;
      return true;
    }, 1000);
    expect(slices).toBe(1);
  });
});
