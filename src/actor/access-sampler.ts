/**
 * Counts key accesses cheaply for hot-key detection: one access in `sampleEvery` is
 * recorded, into a bounded map that is emptied every window. A hot key is sampled early in
 * any window (that is what makes it hot), so once the map is full, keys not yet in it are
 * skipped rather than evicting others; under a uniform load the map fills with keys seen
 * once each, which is the right answer there: nothing is hot.
 */
import { keyName } from "../core/key";

export interface AccessReport {
  /** Accesses this actor served in the window (sampled count x sampleEvery). */
  estimatedAccesses: number;
  /** The most sampled keys, most first, with estimated access counts. */
  topKeys: Array<[key: string, estimatedAccesses: number]>;
}

export class AccessSampler {
  private readonly counts = new Map<string, number>();
  private countdown: number;
  private sampled = 0;

  constructor(
    private readonly sampleEvery: number,
    private readonly capacity: number,
    private readonly topKeyCount: number,
  ) {
    if (!Number.isInteger(sampleEvery) || sampleEvery < 1) throw new RangeError(`sampleEvery must be a positive integer, got ${sampleEvery}`);
    this.countdown = sampleEvery;
  }

  /**
   * Called once per served tuple with its key, `length` bytes of `source` from `start` (a
   * span of the request frame); costs a decrement unless this access is sampled.
   */
  note(source: Uint8Array, start: number, length: number): void {
    if (--this.countdown !== 0) return;
    this.countdown = this.sampleEvery;
    this.sampled++;
    const key = keyName(source.subarray(start, start + length));
    const count = this.counts.get(key);
    if (count !== undefined) this.counts.set(key, count + 1);
    else if (this.counts.size < this.capacity) this.counts.set(key, 1);
  }

  /** The window's report; starts the next window. */
  drain(): AccessReport {
    const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, this.topKeyCount);
    const report: AccessReport = {
      estimatedAccesses: this.sampled * this.sampleEvery,
      topKeys: top.map(([key, count]) => [key, count * this.sampleEvery]),
    };
    this.counts.clear();
    this.sampled = 0;
    return report;
  }
}

/**
 * An actor's sampler: one access in 8 is counted (a decrement per tuple otherwise), at most
 * 4096 distinct keys a window, the 32 most accessed reported.
 */
export function actorAccessSampler(): AccessSampler {
  return new AccessSampler(8, 4096, 32);
}
