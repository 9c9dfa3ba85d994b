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
 * Decodes and canonicalizes; `canonical` (a payload this code or the store wrote) skips
 * keeping the values to their maximal siblings, which such a payload already is.
 */
export function decodeSingleCausalWire(bytes: Uint8Array, canonical = false): SingleCausal {
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
  return { first: toVectorClock(entries), second: canonical ? set : maximalSiblings(set) };
}

export function encodeSingleCausalWire({ first: clock, second: values }: SingleCausal): Uint8Array {
  const writer = new WireWriter(clockBytes(clock) + elementsBytes(values));
  writeClock(writer, CLOCK_FIELD, clock);
  writeElements(writer, VALUES_FIELD, values);
  return writer.finish();
}
