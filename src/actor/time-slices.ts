/**
 * Background work of an actor (a rebalance, anti-entropy) in short slices with the event
 * loop's I/O between them, so that a request waits behind at most one slice, not behind
 * the whole of a tick's budget: run in one block of 25 ms, a rebalance held every request
 * that arrived meanwhile for up to that long (event-loop delay p99 40–70 ms during a join on
 * 2 cores; bench/cluster, join section).
 */

/** Milliseconds of one slice: a few pages of a scan, well under a request's usual latency. */
export const SLICE_MS = 3;

/** One slice of work, to end by `deadlineMs` (performance.now()); true while more can be done now. */
export type SliceStep = (deadlineMs: number) => boolean;

export class TimeSlicer {
  private running = false;
  private stopped = false;

  /** `nowMs`: the clock deadlines are read on (tests give their own). */
  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /**
   * Runs `step` in slices until it has nothing more to do now or `budgetMs` of work is
   * spent. A call while an earlier run is still slicing does nothing: that run's budget is
   * the tick's.
   */
  run(step: SliceStep, budgetMs: number): void {
    if (this.running || this.stopped) return;
    this.running = true;
    let spentMs = 0;
    const slice = () => {
      if (this.stopped) {
        this.running = false;
        return;
      }
      const startedMs = this.nowMs();
      const more = step(startedMs + Math.min(SLICE_MS, budgetMs - spentMs));
      spentMs += this.nowMs() - startedMs;
      if (more && spentMs < budgetMs) setImmediate(slice);
      else this.running = false;
    };
    slice();
  }

  /** No slice runs after this (the actor is stopping). */
  stop(): void {
    this.stopped = true;
  }
}
