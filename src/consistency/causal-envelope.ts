/**
 * The sibling envelope (docs/consistency.md §2.7, §2.9): each causal value is written as
 * `CausalEnvelope{map<string, uint32> vector_clock = 1, bytes value = 2}`, the clock of the
 * write that made it. Anna's causal merge keeps one clock for a whole set of values and is
 * not associative, so a replica can keep a value beside the later write that overwrote it;
 * with a clock per value a reader can tell, and drops it. Values without an envelope (bare
 * values of Anna's clients, or of sessions with `envelope: false`) have no clock: they are
 * shown as they are, never dropped.
 */
import { bytesEqual, Order } from "../lattices/lattice";
import type { MapEntry } from "../lattices/map";
import {
  clockBytes,
  readClockEntry,
  toVectorClock,
  vectorClock,
  writeClock,
  type VectorClock,
} from "../lattices/vector-clock";
import { fieldBytes, MalformedPayloadError, WireReader, WireWriter } from "../wire/protobuf";

const CLOCK_FIELD = 1;
const VALUE_FIELD = 2;

export interface CausalEnvelope {
  readonly clock: VectorClock;
  readonly value: Uint8Array;
}

/** Canonical: clock entries sorted by id, zero counters left out, then the value. */
export function encodeEnvelope({ clock, value }: CausalEnvelope): Uint8Array {
  const writer = new WireWriter(clockBytes(clock) + fieldBytes(value.length));
  writeClock(writer, CLOCK_FIELD, clock);
  writer.bytesField(VALUE_FIELD, value);
  return writer.finish();
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
  return bytesEqual(encodeEnvelope(envelope), bytes) ? envelope : undefined;
}

/**
 * What a reader is shown of a causal value's set (copies): envelopes opened, less those
 * whose clock another envelope's clock strictly dominates, and bare values as they are.
 * Quadratic in the siblings, which the node's value size limit bounds.
 */
export function visibleSiblings(values: readonly Uint8Array[]): Uint8Array[] {
  const envelopes = values.map(decodeEnvelope);
  const visible: Uint8Array[] = [];
  values.forEach((bytes, index) => {
    const envelope = envelopes[index];
    if (envelope === undefined) {
      visible.push(bytes.slice());
      return;
    }
    const overwritten = envelopes.some(
      (other) => other !== undefined && vectorClock.compare(envelope.clock, other.clock) === Order.LESS,
    );
    if (!overwritten) visible.push(envelope.value.slice());
  });
  return visible;
}
