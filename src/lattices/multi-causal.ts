/**
 * MULTI_CAUSAL: (vector clock, (dependencies, values)) under the causal rule of
 * lexicographicPair, where dependencies are a map from keys to vector clocks and sit
 * beside the values (kept to their maximal siblings) in a product; anna.proto
 * `MultiKeyCausalValue`.
 */
import { EMPTY_BYTES } from "./lattice";
import { ByteMap, mapLattice, MapEntry, toByteMap } from "./map";
import { lexicographicPair, Pair, productLattice } from "./pair";
import { elementsBytes, writeElements } from "./set";
import { maximalSiblings, siblingSet } from "./causal-envelope";
import { ByteSet, toByteSet } from "./set-union";
import { clockBytes, readClockEntry, toVectorClock, VectorClock, vectorClock, writeClock } from "./vector-clock";
import { fieldBytes, WireReader, WireWriter } from "../wire/protobuf";

export type Dependencies = ByteMap<VectorClock>;
export type MultiCausal = Pair<VectorClock, Pair<Dependencies, ByteSet>>;

const dependencies = mapLattice(vectorClock);

export const multiCausal = lexicographicPair(vectorClock, productLattice(dependencies, siblingSet));

const CLOCK_FIELD = 1;
const DEPENDENCIES_FIELD = 2;
const VALUES_FIELD = 3;
const KEY_VERSION_KEY_FIELD = 1;
const KEY_VERSION_CLOCK_FIELD = 2;

/** Reads one `KeyVersion` (the reader is at its field) into `versions`. */
function readKeyVersion(reader: WireReader, versions: MapEntry<VectorClock>[]): void {
  const outerLimit = reader.enterMessage();
  let key = EMPTY_BYTES;
  const entries: MapEntry<number>[] = [];
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === KEY_VERSION_KEY_FIELD) key = reader.readBytes();
    else if (field === KEY_VERSION_CLOCK_FIELD) readClockEntry(reader, entries);
    else reader.skipField();
  }
  reader.leaveMessage(outerLimit);
  versions.push({ key, value: toVectorClock(entries) });
}

/** As decodeSingleCausalWire: `skipPruning` leaves the values as read. */
export function decodeMultiCausalWire(bytes: Uint8Array, skipPruning = false): MultiCausal {
  const reader = new WireReader(bytes);
  const entries: MapEntry<number>[] = [];
  const versions: MapEntry<VectorClock>[] = [];
  const values: Uint8Array[] = [];
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === CLOCK_FIELD) readClockEntry(reader, entries);
    else if (field === DEPENDENCIES_FIELD) readKeyVersion(reader, versions);
    else if (field === VALUES_FIELD) values.push(reader.readBytes());
    else reader.skipField();
  }
  return {
    first: toVectorClock(entries),
    second: {
      first: toByteMap(versions, vectorClock),
      second: skipPruning ? toByteSet(values) : maximalSiblings(toByteSet(values)),
    },
  };
}

function keyVersionBodyBytes(version: MapEntry<VectorClock>): number {
  return (version.key.length === 0 ? 0 : fieldBytes(version.key.length)) + clockBytes(version.value);
}

export function encodeMultiCausalWire(value: MultiCausal): Uint8Array {
  const clock = value.first;
  const versions = value.second.first;
  const values = value.second.second;
  let length = clockBytes(clock) + elementsBytes(values);
  for (const version of versions) length += fieldBytes(keyVersionBodyBytes(version));
  const writer = new WireWriter(length);
  writeClock(writer, CLOCK_FIELD, clock);
  for (const version of versions) {
    writer.lengthPrefix(DEPENDENCIES_FIELD, keyVersionBodyBytes(version));
    if (version.key.length !== 0) writer.bytesField(KEY_VERSION_KEY_FIELD, version.key);
    writeClock(writer, KEY_VERSION_CLOCK_FIELD, version.value);
  }
  writeElements(writer, VALUES_FIELD, values);
  return writer.finish();
}
