/**
 * DOTTED_CAUSAL (annakv's lattice type 16; docs/causal-dots.md §4, §5): a multi-value
 * register over a dotted causal context. A value is a context (a version vector, and the
 * dots beyond it, its cloud) and versions, each named by a dot (a replica's id and
 * counter) its context holds. The join keeps a version that both sides hold, or that the
 * other side's context does not name (it has not seen it); the contexts unite. Two
 * versions with one dot (only a replica that broke its promise makes them) keep the
 * larger value bytes. assembly/lattices/dotted-causal.ts is the Wasm twin.
 *
 * Wire (DottedCausalValue): context 1 {vector entries 1 (map<string, uint32>), cloud 2
 * (Dot)}, versions 2 (DottedVersion {dot 1 (Dot), bytes value 2}); Dot {string id 1,
 * uint32 counter 2}. Canonical: vector entries sorted by id, zero counters left out; cloud
 * dots sorted, each above its id's vector counter and not next to it (contiguous ones move
 * into the vector); versions sorted by dot, one per dot, each in the context; an empty
 * context left out. A dot with an empty id or counter 0 is MALFORMED.
 */
import { bytesEqual, compareBytes, EMPTY_BYTES, Lattice } from "./lattice";
import type { MapEntry } from "./map";
import { clockBytes, readClockEntry, toVectorClock, vectorClock, writeClock, type VectorClock } from "./vector-clock";
import { fieldBytes, MalformedPayloadError, varintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

export interface Dot {
  readonly id: Uint8Array;
  readonly counter: number;
}

export interface DottedContext {
  readonly vector: VectorClock;
  /** Sorted by compareDots; each above its id's vector counter plus one. */
  readonly cloud: readonly Dot[];
}

export interface DottedVersion {
  readonly dot: Dot;
  readonly value: Uint8Array;
}

export interface DottedCausal {
  readonly context: DottedContext;
  /** Sorted by dot, one per dot, every dot in the context. */
  readonly versions: readonly DottedVersion[];
}

export function compareDots(a: Dot, b: Dot): number {
  return compareBytes(a.id, b.id) || a.counter - b.counter;
}

/** `vector`'s counter of `id` (0 when it has none), by binary search. */
export function vectorCounter(vector: VectorClock, id: Uint8Array): number {
  let low = 0;
  let high = vector.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareBytes(vector[middle].key, id) < 0) low = middle + 1;
    else high = middle;
  }
  return low < vector.length && compareBytes(vector[low].key, id) === 0 ? vector[low].value : 0;
}

/** Whether the context names `dot`: at or below its id's vector counter, or in the cloud. */
export function contextHas(context: DottedContext, dot: Dot): boolean {
  if (dot.counter <= vectorCounter(context.vector, dot.id)) return true;
  let low = 0;
  let high = context.cloud.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareDots(context.cloud[middle], dot) < 0) low = middle + 1;
    else high = middle;
  }
  return low < context.cloud.length && compareDots(context.cloud[low], dot) === 0;
}

/**
 * The canonical context of a vector's entries and any dots: dots contiguous with the vector
 * move into it. One pass over the vector and the sorted dots, both in id order (the hot
 * path of every decode and join: no map, no strings).
 */
export function toDottedContext(entries: MapEntry<number>[], dots: Dot[]): DottedContext {
  const vector = toVectorClock(entries);
  if (dots.length === 0) return { vector, cloud: [] };
  dots.sort(compareDots);
  const merged: MapEntry<number>[] = [];
  const cloud: Dot[] = [];
  let v = 0;
  for (let i = 0; i < dots.length;) {
    const id = dots[i].id;
    while (v < vector.length && compareBytes(vector[v].key, id) < 0) merged.push(vector[v++]);
    const held = v < vector.length && compareBytes(vector[v].key, id) === 0 ? vector[v++] : undefined;
    let top = held?.value ?? 0;
    // Sorted by counter within the id: a dot next to the top extends it, and so may the
    // next; past a gap none does, so a dot in the cloud stays there.
    for (; i < dots.length && compareBytes(dots[i].id, id) === 0; i++) {
      const dot = dots[i];
      if (dot.counter === top + 1) top = dot.counter;
      else if (dot.counter > top + 1 && (cloud.length === 0 || compareDots(cloud[cloud.length - 1], dot) !== 0))
        cloud.push(dot);
    }
    if (held !== undefined) merged.push(top === held.value ? held : { key: held.key, value: top });
    else if (top > 0) merged.push({ key: id, value: top });
  }
  while (v < vector.length) merged.push(vector[v++]);
  return { vector: merged, cloud };
}

/** The versions sorted by dot, one per dot (the larger value bytes), and the context with every version's dot. */
function canonical(entries: MapEntry<number>[], cloud: Dot[], versions: DottedVersion[]): DottedCausal {
  versions.sort((a, b) => compareDots(a.dot, b.dot) || compareBytes(b.value, a.value));
  const unique = versions.filter(
    (version, index) => index === 0 || compareDots(versions[index - 1].dot, version.dot) !== 0,
  );
  return { context: toDottedContext(entries, [...cloud, ...unique.map(({ dot }) => dot)]), versions: unique };
}

export const dottedCausal: Lattice<DottedCausal> = {
  bottom: { context: { vector: vectorClock.bottom, cloud: [] }, versions: [] },
  join(a, b) {
    const kept: DottedVersion[] = [];
    let i = 0;
    let j = 0;
    while (i < a.versions.length || j < b.versions.length) {
      const order =
        i === a.versions.length ? 1 : j === b.versions.length ? -1 : compareDots(a.versions[i].dot, b.versions[j].dot);
      if (order === 0) {
        kept.push(compareBytes(a.versions[i].value, b.versions[j].value) >= 0 ? a.versions[i] : b.versions[j]);
        i++;
        j++;
      } else if (order < 0) {
        if (!contextHas(b.context, a.versions[i].dot)) kept.push(a.versions[i]);
        i++;
      } else {
        if (!contextHas(a.context, b.versions[j].dot)) kept.push(b.versions[j]);
        j++;
      }
    }
    const context = toDottedContext(
      [...a.context.vector, ...b.context.vector],
      [...a.context.cloud, ...b.context.cloud],
    );
    return { context, versions: kept };
  },
};

const CONTEXT_FIELD = 1;
const VERSIONS_FIELD = 2;
const VECTOR_FIELD = 1;
const CLOUD_FIELD = 2;
const DOT_FIELD = 1;
const VALUE_FIELD = 2;
const DOT_ID_FIELD = 1;
const DOT_COUNTER_FIELD = 2;

/** Reads a Dot message's fields (to the reader's limit); MalformedPayloadError for an empty id or counter 0. */
export function readDotBody(reader: WireReader): Dot {
  let id: Uint8Array | undefined;
  let counter = 0;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === DOT_ID_FIELD) id = reader.readBytes();
    else if (field === DOT_COUNTER_FIELD) counter = reader.readU32();
    else reader.skipField();
  }
  if (id === undefined || id.length === 0 || counter === 0)
    throw new MalformedPayloadError("a dot needs a non-empty id and a counter above 0");
  return { id, counter };
}

function readDot(reader: WireReader): Dot {
  const outerLimit = reader.enterMessage();
  const dot = readDotBody(reader);
  reader.leaveMessage(outerLimit);
  return dot;
}

/** Reads a context field's body (the reader at it) into vector entries and cloud dots. */
export function readContextField(reader: WireReader, entries: MapEntry<number>[], cloud: Dot[]): void {
  const outerLimit = reader.enterMessage();
  while (reader.hasMore()) {
    const contextField = reader.readTag();
    if (contextField === VECTOR_FIELD) readClockEntry(reader, entries);
    else if (contextField === CLOUD_FIELD) cloud.push(readDot(reader));
    else reader.skipField();
  }
  reader.leaveMessage(outerLimit);
}

/** Reads a version field's body (the reader at it): its dot (undefined when it has none) and value. */
export function readVersionField(reader: WireReader): { dot: Dot | undefined; value: Uint8Array } {
  const outerLimit = reader.enterMessage();
  let dot: Dot | undefined;
  // A shared empty array: one allocated per version decoded was a tenth of a read's decode.
  let value: Uint8Array = EMPTY_BYTES;
  while (reader.hasMore()) {
    const versionField = reader.readTag();
    if (versionField === DOT_FIELD) dot = readDot(reader);
    else if (versionField === VALUE_FIELD) value = reader.readBytes();
    else reader.skipField();
  }
  reader.leaveMessage(outerLimit);
  return { dot, value };
}

/**
 * Whether `x` is at or above `y` (their join is `x`): `x`'s context names every dot `y`'s
 * does; every version of `x` survives `y`'s context (`y` holds it, or has not seen it);
 * and where both hold a dot, `x`'s value bytes are the larger (the join's rule).
 */
export function dottedAtOrAbove(x: DottedCausal, y: DottedCausal): boolean {
  if (!contextCovers(x.context, y.context)) return false;
  let j = 0;
  for (const version of x.versions) {
    while (j < y.versions.length && compareDots(y.versions[j].dot, version.dot) < 0) j++;
    const held = j < y.versions.length && compareDots(y.versions[j].dot, version.dot) === 0;
    if (held ? compareBytes(version.value, y.versions[j].value) < 0 : contextHas(y.context, version.dot)) return false;
  }
  return true;
}

/**
 * Whether `have` names every dot `needed` names. Both canonical: where `have`'s vector
 * stops below `needed`'s, the next dot is not in its cloud (it would have moved into the
 * vector), so one entry decides.
 */
function contextCovers(have: DottedContext, needed: DottedContext): boolean {
  for (const { key, value } of needed.vector) if (vectorCounter(have.vector, key) < value) return false;
  for (const dot of needed.cloud) if (!contextHas(have, dot)) return false;
  return true;
}

/**
 * Two canonical payloads joined, returning either one as it is where it is at or above
 * the other (a session's floor and a replica's newer value, the usual read): no encode.
 * The result may be `incoming` itself, which callers that keep it must copy if it is a
 * view. `decode`: how to decode both (a caller's cache of payloads it keeps).
 * MalformedPayloadError as `decodeDottedCausalWire`.
 */
export function joinDottedPayloads(
  stored: Uint8Array,
  incoming: Uint8Array,
  decode: (payload: Uint8Array) => DottedCausal = decodeDottedCausalWire,
): Uint8Array {
  if (bytesEqual(stored, incoming)) return stored;
  const storedValue = decode(stored);
  const incomingValue = decode(incoming);
  if (dottedAtOrAbove(storedValue, incomingValue)) return stored;
  if (dottedAtOrAbove(incomingValue, storedValue)) return incoming;
  return encodeDottedCausalWire(dottedCausal.join(storedValue, incomingValue));
}

/** Decodes and canonicalizes (MalformedPayloadError for what no canonical value can come from). */
export function decodeDottedCausalWire(bytes: Uint8Array): DottedCausal {
  const reader = new WireReader(bytes);
  const entries: MapEntry<number>[] = [];
  const cloud: Dot[] = [];
  const versions: DottedVersion[] = [];
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === CONTEXT_FIELD) readContextField(reader, entries, cloud);
    else if (field === VERSIONS_FIELD) {
      const { dot, value } = readVersionField(reader);
      if (dot === undefined) throw new MalformedPayloadError("a dotted version needs its dot");
      versions.push({ dot, value });
    } else reader.skipField();
  }
  return canonical(entries, cloud, versions);
}

export function dotBodyBytes({ id, counter }: Dot): number {
  return fieldBytes(id.length) + 1 + varintBytes(0, counter);
}

/** Writes a Dot message's fields. */
export function writeDotBody(writer: WireWriter, dot: Dot): void {
  writer.bytesField(DOT_ID_FIELD, dot.id);
  writer.tag(DOT_COUNTER_FIELD, WireType.VARINT);
  writer.varint(0, dot.counter);
}

function writeDot(writer: WireWriter, fieldNumber: number, dot: Dot): void {
  writer.lengthPrefix(fieldNumber, dotBodyBytes(dot));
  writeDotBody(writer, dot);
}

function versionBodyBytes({ dot, value }: DottedVersion): number {
  return fieldBytes(dotBodyBytes(dot)) + fieldBytes(value.length);
}

/** The bytes of a context's body, its entries and cloud dots (0: an empty context, whose field is left out). */
export function contextBodyBytes({ vector, cloud }: DottedContext): number {
  let bytes = clockBytes(vector);
  for (const dot of cloud) bytes += fieldBytes(dotBodyBytes(dot));
  return bytes;
}

/** The bytes of a value's context field of `bodyBytes`, with its tag and length (0 for an empty context). */
export function contextFieldBytes(bodyBytes: number): number {
  return bodyBytes === 0 ? 0 : fieldBytes(bodyBytes);
}

/** Writes a value's context field, its body `bodyBytes` long (nothing for an empty context). */
export function writeContextField(writer: WireWriter, context: DottedContext, bodyBytes: number): void {
  if (bodyBytes === 0) return;
  writer.lengthPrefix(CONTEXT_FIELD, bodyBytes);
  writeClock(writer, VECTOR_FIELD, context.vector);
  for (const dot of context.cloud) writeDot(writer, CLOUD_FIELD, dot);
}

export function encodeDottedCausalWire({ context, versions }: DottedCausal): Uint8Array {
  const contextBytes = contextBodyBytes(context);
  let length = contextFieldBytes(contextBytes);
  for (const version of versions) length += fieldBytes(versionBodyBytes(version));
  const writer = new WireWriter(length);
  writeContextField(writer, context, contextBytes);
  for (const version of versions) {
    writer.lengthPrefix(VERSIONS_FIELD, versionBodyBytes(version));
    writeDot(writer, DOT_FIELD, version.dot);
    writer.bytesField(VALUE_FIELD, version.value);
  }
  return writer.finish();
}
