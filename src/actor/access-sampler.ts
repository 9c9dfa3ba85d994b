/**
 * Counts key accesses cheaply for hot-key detection: one access in `sampleEvery` is
 * recorded, into a bounded table that is emptied every window. A hot key is sampled early in
 * any window (that is what makes it hot), so once the table is full, keys not yet in it are
 * skipped rather than evicting others; under a uniform load the table fills with keys seen
 * once each, which is the right answer there: nothing is hot.
 */
import { keyName } from "../wire/key";
import { xxhash64 } from "../routing/hash";

export interface AccessReport {
  /** Accesses this actor served in the window (sampled count x sampleEvery). */
  estimatedAccesses: number;
  /** The most sampled keys, most first, with estimated access counts. */
  topKeys: Array<[key: string, estimatedAccesses: number]>;
}

export class AccessSampler {
  // The window's sampled keys, open-addressed by the low 32 bits of their xxHash64 (0 marks
  // an empty slot, so a hash of 0 counts as 1): two typed arrays that stay in cache, where a
  // map of strings made and hashed a string per sample and missed the cache on each probe.
  // Two keys whose low hash bits are equal in one window count as the first one (4096 keys:
  // a pair collides once in ~500 windows, and matters only if one of them is hot).
  private readonly slotHashes: Int32Array;
  private readonly slotCounts: Int32Array;
  private readonly slotNames: string[];
  /** Slots in use, for the report and to empty them after it. */
  private readonly usedSlots: Int32Array;
  private usedCount = 0;
  private readonly slotMask: number;
  private countdown: number;
  private sampled = 0;

  constructor(
    private readonly sampleEvery: number,
    private readonly capacity: number,
    private readonly topKeyCount: number,
  ) {
    if (!Number.isInteger(sampleEvery) || sampleEvery < 1)
      throw new RangeError(`sampleEvery must be a positive integer, got ${sampleEvery}`);
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.countdown = sampleEvery;
    // At most half full: probes stay short.
    const slots = 2 ** Math.ceil(Math.log2(capacity * 2));
    this.slotMask = slots - 1;
    this.slotHashes = new Int32Array(slots);
    this.slotCounts = new Int32Array(slots);
    this.slotNames = new Array<string>(slots).fill("");
    this.usedSlots = new Int32Array(capacity);
  }

  /**
   * Called once per served tuple with its key, `length` bytes of `source` from `start` (a
   * span of the request frame), and the low 32 bits of its xxHash64 where the caller has
   * them (else they are computed); costs a decrement unless this access is sampled.
   */
  note(source: Uint8Array, start: number, length: number, hashLow?: number): void {
    if (--this.countdown !== 0) return;
    this.countdown = this.sampleEvery;
    this.sampled++;
    const hash = (hashLow ?? xxhash64(source, start, length).low) | 0 || 1;
    const hashes = this.slotHashes;
    for (let slot = hash & this.slotMask; ; slot = (slot + 1) & this.slotMask) {
      const held = hashes[slot];
      if (held === hash) {
        this.slotCounts[slot]++;
        return;
      }
      if (held !== 0) continue;
      if (this.usedCount === this.capacity) return;
      hashes[slot] = hash;
      this.slotCounts[slot] = 1;
      this.slotNames[slot] = keyName(source.subarray(start, start + length));
      this.usedSlots[this.usedCount++] = slot;
      return;
    }
  }

  /** The window's report; starts the next window. */
  drain(): AccessReport {
    const used = Array.from(this.usedSlots.subarray(0, this.usedCount));
    // By count, most first; among equal counts, the key sampled first.
    const top = used.sort((a, b) => this.slotCounts[b] - this.slotCounts[a]).slice(0, this.topKeyCount);
    const report: AccessReport = {
      estimatedAccesses: this.sampled * this.sampleEvery,
      topKeys: top.map((slot) => [this.slotNames[slot], this.slotCounts[slot] * this.sampleEvery]),
    };
    for (const slot of used) {
      this.slotHashes[slot] = 0;
      this.slotNames[slot] = "";
    }
    this.usedCount = 0;
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
