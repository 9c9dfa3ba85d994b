/**
 * SINGLE_CAUSAL: (vector clock, set of values kept to its maximal siblings) under the
 * causal rule of lexicographicPair; anna.proto `SingleKeyCausalValue`.
 */
import { lexicographicPair, Pair } from "./pair";
import { maximalSiblings, siblingSet } from "./causal-envelope";
import { ByteSet, toByteSet } from "./set-union";
import { MapEntry } from "./map";
import { elementsBytes, writeElements } from "./set";
import { clockBytes, readClockEntry, toVectorClock, VectorClock, vectorClock, writeClock } from "./vector-clock";
import { WireReader, WireWriter } from "../wire/protobuf";

export type SingleCausal = Pair<VectorClock, ByteSet>;

export const singleCausal = lexicographicPair(vectorClock, siblingSet);

const CLOCK_FIELD = 1;
const VALUES_FIELD = 2;

/**
 * Decodes and canonicalizes. `skipPruning` leaves the values as read instead of keeping
 * them to their maximal siblings: for a canonical payload (already so), or where only the
 * clock is wanted or the values go through visibleSiblings, which filters them anyway.
 */
export function decodeSingleCausalWire(bytes: Uint8Array, skipPruning = false): SingleCausal {
  const reader = new WireReader(bytes);
  const entries: MapEntry<number>[] = [];
  const values: Uint8Array[] = [];
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === CLOCK_FIELD) readClockEntry(reader, entries);
    else if (field === VALUES_FIELD) values.push(reader.readBytes());
    else reader.skipField();
  }
  const set = toByteSet(values);
  return { first: toVectorClock(entries), second: skipPruning ? set : maximalSiblings(set) };
}

export function encodeSingleCausalWire({ first: clock, second: values }: SingleCausal): Uint8Array {
  const writer = new WireWriter(clockBytes(clock) + elementsBytes(values));
  writeClock(writer, CLOCK_FIELD, clock);
  writeElements(writer, VALUES_FIELD, values);
  return writer.finish();
}
