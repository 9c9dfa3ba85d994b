/**
 * The sibling envelope (docs/consistency.md §2.7, §2.9): each causal value is written as
 * `CausalEnvelope{map<string, uint32> vector_clock = 1, bytes value = 2}`, the clock of the
 * write that made it. Anna's causal merge keeps one clock for a whole set of values and is
 * not associative, so a replica can keep a value beside the later write that overwrote it;
 * with a clock per value the store drops it in the merge (`siblingSet`) and a reader drops
 * any that a store without that merge kept. Values without an envelope (bare values of
 * Anna's clients, or of sessions with `envelope: false`) have no clock: they are kept and
 * shown as they are, never dropped. assembly/lattices/siblings.ts is the Wasm twin.
 */
import { bytesEqual, Lattice, Order } from "./lattice";
import type { MapEntry } from "./map";
import { ByteSet, setUnion } from "./set-union";
import {
  clockBytes,
  clockSum,
  readClockEntry,
  toVectorClock,
  vectorClock,
  writeClock,
  type VectorClock,
} from "./vector-clock";
import { fieldBytes, MalformedPayloadError, WireReader, WireWriter } from "../wire/protobuf";

const CLOCK_FIELD = 1;
const VALUE_FIELD = 2;

export interface CausalEnvelope {
  readonly clock: VectorClock;
  readonly value: Uint8Array;
}

/** Canonical: clock entries sorted by id, zero counters left out, then the value. */
export function encodeEnvelope(envelope: CausalEnvelope): Uint8Array {
  return writeEnvelope(envelope, undefined);
}

/** The envelope's canonical bytes, into `target` when given (exactly their length). */
function writeEnvelope({ clock, value }: CausalEnvelope, target: Uint8Array | undefined): Uint8Array {
  const writer = new WireWriter(target?.length ?? clockBytes(clock) + fieldBytes(value.length), target);
  writeClock(writer, CLOCK_FIELD, clock);
  writer.bytesField(VALUE_FIELD, value);
  return writer.finish();
}

/**
 * Where decodeEnvelope writes an envelope again to compare it with what it read: reused,
 * since a fresh array for every sibling of every read was a good part of a causal
 * client's allocations. Grown as needed; single-threaded use only (no await in between).
 */
let canonicalScratch = new Uint8Array(4096);

/** True when `bytes` are exactly the canonical encoding of `envelope`. */
function isCanonicalEnvelope(envelope: CausalEnvelope, bytes: Uint8Array): boolean {
  const length = clockBytes(envelope.clock) + fieldBytes(envelope.value.length);
  if (length !== bytes.length) return false;
  if (canonicalScratch.length < length)
    canonicalScratch = new Uint8Array(Math.max(length, 2 * canonicalScratch.length));
  return bytesEqual(writeEnvelope(envelope, canonicalScratch.subarray(0, length)), bytes);
}

/**
 * The envelope `bytes` hold (views of them), or undefined for a bare value. Strict, so that
 * a bare value is seldom taken for an envelope: fields 1 and 2 only, the value once and
 * last, and the bytes in the canonical form this module writes.
 */
export function decodeEnvelope(bytes: Uint8Array): CausalEnvelope | undefined {
  const entries: MapEntry<number>[] = [];
  let value: Uint8Array | undefined;
  try {
    const reader = new WireReader(bytes);
    while (reader.hasMore()) {
      const field = reader.readTag();
      if (value !== undefined) return undefined;
      if (field === CLOCK_FIELD) readClockEntry(reader, entries);
      else if (field === VALUE_FIELD) value = reader.readBytes();
      else return undefined;
    }
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  if (value === undefined) return undefined;
  const envelope = { clock: toVectorClock(entries), value };
  return isCanonicalEnvelope(envelope, bytes) ? envelope : undefined;
}

/**
 * The indices of `values` no envelope of theirs overwrites, in order, with each one's
 * envelope (undefined for a bare value). Envelopes are visited by descending counter sum:
 * whatever strictly dominates one has a larger sum and was visited before, and if it is
 * itself overwritten, the maximal envelope above it dominates this one too; so each is
 * checked against the maximal ones found so far only (a hot key's siblings are compared
 * far fewer times than all pairs, which profiles showed as most of a causal client's CPU).
 */
function maximalIndices(values: readonly Uint8Array[]): { index: number; envelope: CausalEnvelope | undefined }[] {
  const envelopes = values.map(decodeEnvelope);
  const sums = envelopes.map((envelope) => (envelope === undefined ? 0 : clockSum(envelope.clock)));
  const bySumDescending = envelopes
    .map((_, index) => index)
    .filter((index) => envelopes[index] !== undefined)
    .sort((a, b) => sums[b] - sums[a]);
  const overwritten = new Array<boolean>(values.length).fill(false);
  const maximal: number[] = [];
  for (const index of bySumDescending) {
    const clock = envelopes[index]!.clock;
    overwritten[index] = maximal.some(
      (above) => sums[above] > sums[index] && vectorClock.compare(clock, envelopes[above]!.clock) === Order.LESS,
    );
    if (!overwritten[index]) maximal.push(index);
  }
  return envelopes.flatMap((envelope, index) => (overwritten[index] ? [] : [{ index, envelope }]));
}

/**
 * The set less every envelope whose clock another envelope's clock strictly dominates
 * (the overwritten siblings); `values` itself when none is. Bare values and envelopes with
 * equal or concurrent clocks all stay. Quadratic in the siblings, which the node's value
 * size limit bounds.
 */
export function maximalSiblings(values: ByteSet): ByteSet {
  if (values.length < 2) return values;
  const kept = maximalIndices(values);
  return kept.length === values.length ? values : kept.map(({ index }) => values[index]);
}

/**
 * The value set of SINGLE_CAUSAL and MULTI_CAUSAL: the union kept to its maximal
 * siblings. Still a join: in a finite partial order every element a later union could
 * dominate is dominated by a maximal one, so pruning early or late keeps the same set.
 */
export const siblingSet: Lattice<ByteSet> = {
  bottom: setUnion.bottom,
  join(a, b) {
    const union = setUnion.join(a, b);
    return union === a ? a : maximalSiblings(union);
  },
};

/**
 * What a reader is shown of a causal value's set (copies): envelopes opened, less those
 * whose clock another envelope's clock strictly dominates, and bare values as they are;
 * with `oneOfEqualClocks`, only the first of envelopes with equal clocks. Each value is
 * decoded once.
 */
export function visibleSiblings(values: readonly Uint8Array[], oneOfEqualClocks = false): Uint8Array[] {
  let visible = maximalIndices(values);
  // Equal clocks name one version: a multi-key write stamped again, stored under both stamps (causal-multi-key.ts).
  if (oneOfEqualClocks)
    visible = visible.filter(
      ({ envelope }, position) =>
        envelope === undefined ||
        !visible
          .slice(0, position)
          .some(
            (earlier) =>
              earlier.envelope !== undefined &&
              vectorClock.compare(earlier.envelope.clock, envelope.clock) === Order.EQUAL,
          ),
    );
  return visible.map(({ index, envelope }) => (envelope?.value ?? values[index]).slice());
}
