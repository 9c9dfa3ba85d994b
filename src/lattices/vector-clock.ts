/**
 * Vector clocks: maps from client ids (raw bytes) to max-u32 counters, in anna.proto's
 * `map<string, uint32>` encoding. Zero counters are the bottom and never kept.
 */
import { ByteMap, MapEntry, orderedMapLattice, toByteMap } from "./map";
import { bytesEqual, compareBytes, EMPTY_BYTES } from "./lattice";
import { maxU32 } from "./max";
import { fieldBytes, varintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

export type VectorClock = ByteMap<number>;

export const vectorClock = orderedMapLattice(maxU32);

/** `clock`'s entry for `id` alone, as a clock of one entry; undefined when it has none. */
export function entryOf(clock: VectorClock, id: Uint8Array): VectorClock | undefined {
  const entry = clock.find(({ key }) => bytesEqual(key, id));
  return entry === undefined ? undefined : [entry];
}

/**
 * Whether `clock` is at least `needed` in every entry. Equal to `compare(needed, clock)`
 * being LESS or EQUAL, without walking all of `clock`: a dependency names a version by
 * one entry, checked against clocks of up to a session per entry (binary search).
 */
export function clockCovers(clock: VectorClock, needed: VectorClock): boolean {
  let low = 0;
  for (const { key, value } of needed) {
    if (value === 0) continue; // the bottom, never kept in a canonical clock
    let high = clock.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareBytes(clock[middle].key, key) < 0) low = middle + 1;
      else high = middle;
    }
    // Both sorted by key: the next entry of `needed` lies after this one in `clock`.
    if (low === clock.length || !bytesEqual(clock[low].key, key) || clock[low].value < value) return false;
  }
  return true;
}

const ENTRY_KEY_FIELD = 1;
const ENTRY_COUNTER_FIELD = 2;

/** Reads one map entry (the reader is at its field) into `entries`, unless its counter is 0. */
export function readClockEntry(reader: WireReader, entries: MapEntry<number>[]): void {
  const outerLimit = reader.enterMessage();
  let key = EMPTY_BYTES;
  let counter = 0;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === ENTRY_KEY_FIELD) key = reader.readBytes();
    else if (field === ENTRY_COUNTER_FIELD) counter = reader.readU32();
    else reader.skipField();
  }
  reader.leaveMessage(outerLimit);
  if (counter !== 0) entries.push({ key, value: counter });
}

/** The sum of a clock's counters (a clock strictly above another has a larger one). */
export function clockSum(clock: VectorClock): number {
  let sum = 0;
  for (const entry of clock) sum += entry.value;
  return sum;
}

export function toVectorClock(entries: MapEntry<number>[]): VectorClock {
  return toByteMap(entries, maxU32);
}

function entryBodyBytes(entry: MapEntry<number>): number {
  const keyBytes = entry.key.length === 0 ? 0 : fieldBytes(entry.key.length);
  return keyBytes + 1 + varintBytes(0, entry.value);
}

/** Bytes of the clock's entries written as repeated fields (tag, length, entry). */
export function clockBytes(clock: VectorClock): number {
  let bytes = 0;
  for (const entry of clock) bytes += fieldBytes(entryBodyBytes(entry));
  return bytes;
}

/** Writes the entries as field `fieldNumber`: an empty key is omitted; counters are never 0. */
export function writeClock(writer: WireWriter, fieldNumber: number, clock: VectorClock): void {
  for (const entry of clock) {
    writer.lengthPrefix(fieldNumber, entryBodyBytes(entry));
    if (entry.key.length !== 0) writer.bytesField(ENTRY_KEY_FIELD, entry.key);
    writer.tag(ENTRY_COUNTER_FIELD, WireType.VARINT);
    writer.varint(0, entry.value);
  }
}
