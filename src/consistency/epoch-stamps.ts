/**
 * Stamps and stable times by epoch (docs/causal-stability.md §7). A stable time S reported
 * in epoch E proves that every version stamped in E at or below S is on every replica; a
 * later epoch's does not, since a member gone since may have accepted a version that
 * reached no one else. So a set of versions is kept as its largest stamp per epoch, and
 * is stable once each is at or below the stable time of its own epoch.
 *
 * Epoch 0 (`ANY_EPOCH`) is a bound that counts against any epoch's stable time: a
 * dependency a writer dropped as stable (every replica holds it), or a version stamped
 * where no node reported an epoch. `UNKNOWN_STAMPS` is never stable: a version without a
 * stamp.
 */
import type { StableReport } from "./transport";

export const ANY_EPOCH = 0;
/** The stamp, on the wire and here, of a version whose stamp is unknown: above any stable time. */
export const UNKNOWN_STAMP_MICROS = Number.MAX_SAFE_INTEGER;
/** The most recent epochs whose stable times a session keeps (entries of older ones stay in its past). */
const EPOCHS_MAX = 16;

/** Per epoch, the largest stamp (µs) of a set of versions. */
export type EpochStamps = ReadonlyMap<number, number>;

export const UNKNOWN_STAMPS: EpochStamps = new Map([[ANY_EPOCH, UNKNOWN_STAMP_MICROS]]);
const NO_STAMPS: EpochStamps = new Map();

/**
 * One stamp in its epoch, as a map of one entry in one small object. Most stamps are one
 * version's (a dependency of a decoded value, a past entry), and a causal client holds
 * thousands of them in its decodes and pasts; a `Map` of one entry took several objects,
 * ~200 bytes, most of the bytes a multi-key causal read's decode kept alive.
 */
class OneEpochStamp implements ReadonlyMap<number, number> {
  constructor(
    private readonly epoch: number,
    private readonly micros: number,
  ) {}

  get size(): number {
    return 1;
  }

  get(epoch: number): number | undefined {
    return epoch === this.epoch ? this.micros : undefined;
  }

  has(epoch: number): boolean {
    return epoch === this.epoch;
  }

  forEach(
    callback: (micros: number, epoch: number, map: ReadonlyMap<number, number>) => void,
    thisArg?: unknown,
  ): void {
    callback.call(thisArg, this.micros, this.epoch, this);
  }

  *entries(): MapIterator<[number, number]> {
    yield [this.epoch, this.micros];
  }

  *keys(): MapIterator<number> {
    yield this.epoch;
  }

  *values(): MapIterator<number> {
    yield this.micros;
  }

  [Symbol.iterator](): MapIterator<[number, number]> {
    return this.entries();
  }
}

/** One stamp in its epoch. */
export function epochStamp(epoch: number, micros: number): EpochStamps {
  return new OneEpochStamp(epoch, micros);
}

/** The stamps of both sets of versions. */
export function joinEpochStamps(a: EpochStamps, b: EpochStamps): EpochStamps {
  if (a === b || b.size === 0) return a;
  if (a.size === 0) return b;
  const joined = new Map(a);
  for (const [epoch, micros] of b) joined.set(epoch, Math.max(joined.get(epoch) ?? 0, micros));
  return joined;
}

/** A bound against any epoch, none for 0. */
export function anyEpochBound(micros: number): EpochStamps {
  return micros > 0 ? epochStamp(ANY_EPOCH, micros) : NO_STAMPS;
}

/** The stable times known: per epoch, and the largest of all (what `ANY_EPOCH` bounds count against). */
export interface StableTimes {
  readonly anyMicros: number;
  of(epoch: number): number;
}

/** What a node's answer (a read's or an applied write's) says of the stable time: 0 for what it leaves out. */
export function stableReportOf(answer: {
  readonly stableMicros?: number;
  readonly stableEpoch?: number;
}): StableReport {
  return { micros: answer.stableMicros ?? 0, epoch: answer.stableEpoch ?? 0 };
}

/** The largest of a set's stamps, whatever their epochs (-Infinity for none: a set of no versions is stable). */
export function topStampMicros(stamps: EpochStamps): number {
  let top = -Infinity;
  for (const micros of stamps.values()) top = Math.max(top, micros);
  return top;
}

/** Whether every version of the set is on every replica: each stamp at or below its epoch's stable time. */
export function isStable(stamps: EpochStamps, stable: StableTimes): boolean {
  for (const [epoch, micros] of stamps)
    if (micros > (epoch === ANY_EPOCH ? stable.anyMicros : stable.of(epoch))) return false;
  return true;
}

/** The largest stable time seen in each of the most recent epochs, and the largest of all. */
export class EpochStableTimes implements StableTimes {
  private readonly byEpoch = new Map<number, number>();
  private any = 0;

  get anyMicros(): number {
    return this.any;
  }

  of(epoch: number): number {
    return this.byEpoch.get(epoch) ?? 0;
  }

  /** A stable time a node reported in `epoch` (0: none; epoch 0: a node that names none). */
  learn({ micros, epoch }: StableReport): void {
    this.raiseAny(micros);
    if (micros === 0 || epoch === ANY_EPOCH || micros <= this.of(epoch)) return;
    // Re-inserted, so that the Map's order is that of the latest news: the first is the stalest.
    this.byEpoch.delete(epoch);
    this.byEpoch.set(epoch, micros);
    if (this.byEpoch.size > EPOCHS_MAX) this.byEpoch.delete(this.byEpoch.keys().next().value!);
  }

  /** A stable time known held in some epoch without its epoch (a writer's base): counts for `ANY_EPOCH` bounds. */
  raiseAny(micros: number): void {
    if (micros > this.any) this.any = micros;
  }

  /** These times as reports: each epoch's, and the largest of all as one that names none. */
  *reports(): IterableIterator<StableReport> {
    for (const [epoch, micros] of this.byEpoch) yield { micros, epoch };
    yield { micros: this.any, epoch: ANY_EPOCH };
  }

  /** These times joined with what a read's responses reported. */
  with(reports: Iterable<StableReport>): StableTimes {
    const joined = new EpochStableTimes();
    for (const [epoch, micros] of this.byEpoch) joined.learn({ micros, epoch });
    joined.raiseAny(this.any);
    for (const report of reports) joined.learn(report);
    return joined;
  }
}
