/**
 * Dot requests (docs/causal-dots.md §5, step 3): a DOTTED_CAUSAL PUT that asks the replica
 * taking it to name its version. It carries the writer's context (what it has seen of the
 * key), one version without a dot, and a stamp with its epoch (fields 3 and 4), which the
 * node checks against its accept floor as any causal write's (docs/causal-stability.md §6):
 * a request is applied once or never, not late. The replica makes the dot (its dot id, one
 * above every counter of that id it and the context know: actor/dot-issuer.ts) and merges
 * the context with the dot and the version; its answer names the dot. A store that is
 * handed a request without a node in front refuses it (a version without a dot is MALFORMED).
 */
import {
  contextBodyBytes,
  contextFieldBytes,
  contextHas,
  dotBodyBytes,
  encodeDottedCausalWire,
  readContextField,
  readDotBody,
  readVersionField,
  toDottedContext,
  vectorCounter,
  writeContextField,
  writeDotBody,
  type Dot,
  type DottedContext,
} from "./dotted-causal";
import { bytesEqual } from "./lattice";
import type { MapEntry } from "./map";
import { fieldBytes, MalformedPayloadError, safeUintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

const CONTEXT_FIELD = 1;
const VERSIONS_FIELD = 2;
const STAMP_MICROS_FIELD = 3;
const STAMP_EPOCH_FIELD = 4;
const VALUE_FIELD = 2;
/** Clock counters are u32 on the wire. */
export const DOT_COUNTER_MAX = 0xffffffff;

export interface DotRequest {
  /** The writer's hybrid stamp (µs), for the accept floor. */
  readonly stampMicros: number;
  /** The epoch it is stamped in (docs/causal-stability.md §7); 0: none known yet. */
  readonly epoch: number;
  /** What the writer has seen of the key: the versions it overwrites. */
  readonly context: DottedContext;
  readonly value: Uint8Array;
}

export function encodeDotRequest({ stampMicros, epoch, context, value }: DotRequest): Uint8Array {
  if (!Number.isSafeInteger(stampMicros) || stampMicros <= 0 || !Number.isSafeInteger(epoch) || epoch < 0)
    throw new RangeError(
      `a dot request's stamp and epoch are safe integers, the stamp above 0 (${stampMicros}, ${epoch})`,
    );
  const versionBody = fieldBytes(value.length);
  const contextBytes = contextBodyBytes(context);
  const writer = new WireWriter(
    contextFieldBytes(contextBytes) +
      fieldBytes(versionBody) +
      1 +
      safeUintBytes(stampMicros) +
      (epoch === 0 ? 0 : 1 + safeUintBytes(epoch)),
  );
  // The context as DOTTED_CAUSAL writes it, then the one version without a dot, then the stamp.
  writeContextField(writer, context, contextBytes);
  writer.lengthPrefix(VERSIONS_FIELD, versionBody);
  writer.bytesField(VALUE_FIELD, value);
  writer.tag(STAMP_MICROS_FIELD, WireType.VARINT);
  writer.safeUint(stampMicros);
  if (epoch !== 0) {
    writer.tag(STAMP_EPOCH_FIELD, WireType.VARINT);
    writer.safeUint(epoch);
  }
  return writer.finish();
}

/**
 * The dot request a DOTTED_CAUSAL payload holds, or undefined for a plain value (no stamp).
 * MalformedPayloadError, saying why, for a stamped payload that is not one request: a stamp
 * of 0, a version count other than one, or a version with a dot.
 */
export function dotRequestOf(payload: Uint8Array): DotRequest | undefined {
  const reader = new WireReader(payload);
  const entries: MapEntry<number>[] = [];
  const cloud: Dot[] = [];
  const values: Uint8Array[] = [];
  let dotted = false;
  let stampMicros = 0;
  let epoch = 0;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === CONTEXT_FIELD) readContextField(reader, entries, cloud);
    else if (field === VERSIONS_FIELD) {
      const { dot, value } = readVersionField(reader);
      dotted ||= dot !== undefined;
      values.push(value);
    } else if (field === STAMP_MICROS_FIELD) stampMicros = reader.readSafeUint();
    else if (field === STAMP_EPOCH_FIELD) epoch = reader.readSafeUint();
    else reader.skipField();
  }
  if (stampMicros === 0) {
    if (epoch !== 0) throw new MalformedPayloadError("a dot request's epoch without its stamp");
    return undefined;
  }
  if (values.length !== 1 || dotted)
    throw new MalformedPayloadError(
      `a dot request holds exactly one version, without a dot (got ${values.length}${dotted ? ", dotted" : ""})`,
    );
  return { stampMicros, epoch, context: toDottedContext(entries, cloud), value: values[0] };
}

/** The largest counter of `id` a context names (its vector's, or a cloud dot's above it). */
export function counterIn(context: DottedContext, id: Uint8Array): number {
  let counter = vectorCounter(context.vector, id);
  for (const dot of context.cloud) if (bytesEqual(dot.id, id)) counter = Math.max(counter, dot.counter);
  return counter;
}

/**
 * The largest counter of `id` a DOTTED_CAUSAL payload names, in its context or on a
 * version, read without decoding the rest: no canonical form is built and no value copied,
 * as a replica making a dot over its stored value needs no more.
 */
export function counterInPayload(payload: Uint8Array, id: Uint8Array): number {
  const reader = new WireReader(payload);
  const entries: MapEntry<number>[] = [];
  const cloud: Dot[] = [];
  let counter = 0;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === CONTEXT_FIELD) readContextField(reader, entries, cloud);
    else if (field === VERSIONS_FIELD) {
      const { dot } = readVersionField(reader);
      if (dot !== undefined) cloud.push(dot);
    } else reader.skipField();
  }
  for (const { key, value } of entries) if (value > counter && bytesEqual(key, id)) counter = value;
  for (const dot of cloud) if (dot.counter > counter && bytesEqual(dot.id, id)) counter = dot.counter;
  return counter;
}

/** The counter of the dot replica `id` makes for `request` over its stored value (a payload): one above every one of the id either names. */
export function nextDotCounter(request: DotRequest, stored: Uint8Array | undefined, id: Uint8Array): number {
  return Math.max(stored === undefined ? 0 : counterInPayload(stored, id), counterIn(request.context, id)) + 1;
}

/** What a replica merges for `request` with `dot`: the context with the dot, and the version. */
export function dottedWrite(request: DotRequest, dot: Dot): Uint8Array {
  if (dot.counter < 1 || dot.counter > DOT_COUNTER_MAX || contextHas(request.context, dot))
    throw new RangeError(`invariant: a new dot is above every one its writer saw, at most ${DOT_COUNTER_MAX}`);
  const context = toDottedContext([...request.context.vector], [...request.context.cloud, dot]);
  return encodeDottedCausalWire({ context, versions: [{ dot, value: request.value }] });
}

/** A dot as an answer carries it (a Dot message). */
export function encodeDot(dot: Dot): Uint8Array {
  const writer = new WireWriter(dotBodyBytes(dot));
  writeDotBody(writer, dot);
  return writer.finish();
}

export function decodeDot(bytes: Uint8Array): Dot {
  return readDotBody(new WireReader(bytes));
}
