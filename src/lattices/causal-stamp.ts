/**
 * The stamp a multi-key causal session wraps its value in, inside the sibling envelope
 * (docs/causal-stability.md §6, §7): `CausalStamp{uint64 stamp_micros = 1, uint64 base_micros
 * = 2, bytes writer = 3, repeated DependencyStamp dependency_stamps = 4, bytes value = 5,
 * uint64 epoch = 6, uint64 base_epoch = 7}` with `DependencyStamp{string key = 1, uint64
 * stamp_micros = 2, uint64 epoch = 3, bytes writer = 4}`. `epoch` is the cluster epoch the
 * stamp was taken in. A dependency's `writer` is the LWW write id of the version it names
 * (causal-multi-key-lww, causal-lww.ts; left out by causal-multi-key, whose clocks name it).
 * `stamp_micros` is the write's hybrid stamp, `base_micros` the stable time its session
 * knew, `base_epoch` the epoch some node reported that stable time in (0: not known to be
 * one epoch's; its readers then learn nothing from it), `writer` the
 * session's clock entry (so that a reader can name this version by that entry alone), and
 * the dependency stamps the stamp of each dependency the write lists (the newest version
 * of that key in the writer's past). The store never looks inside: it keeps envelopes whole, so a concurrent
 * merge keeps each sibling's stamps and a dominating write replaces them. Only the node's
 * accept floor reads a PUT's stamps (`hasStaleStamp`; `stampedOfLwwPut` for causal LWW).
 *
 * Canonical and strict, like the envelope, so that a bare value is seldom taken for a
 * stamped one: fields in number order, `stamp_micros` above zero, `writer` not empty, zero
 * fields left out, dependency stamps sorted by key (byte order) then epoch, unique and above
 * zero.
 */
import { compareBytes } from "./lattice";
import { decodeEnvelope } from "./causal-envelope";
import { fieldBytes, MalformedPayloadError, safeUintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

const STAMP_FIELD = 1;
const BASE_FIELD = 2;
const WRITER_FIELD = 3;
const DEPENDENCY_FIELD = 4;
const VALUE_FIELD = 5;
const EPOCH_FIELD = 6;
const BASE_EPOCH_FIELD = 7;
const DEPENDENCY_KEY_FIELD = 1;
const DEPENDENCY_STAMP_FIELD = 2;
const DEPENDENCY_EPOCH_FIELD = 3;
const DEPENDENCY_WRITER_FIELD = 4;
/** MultiKeyCausalValue's `values`. */
const MULTI_CAUSAL_VALUES_FIELD = 3;

export interface DependencyStamp {
  /** The key's UTF-8 bytes. */
  readonly key: Uint8Array;
  readonly stampMicros: number;
  /** The epoch the dependency was stamped in (0: none). */
  readonly epoch: number;
  /** The LWW write id of the version depended on (causal-multi-key-lww); absent (never empty) otherwise. */
  readonly writer?: Uint8Array;
}

export interface StampedValue {
  readonly stampMicros: number;
  readonly baseMicros: number;
  /** The writing session's vector clock entry. */
  readonly writer: Uint8Array;
  /** Sorted by key bytes, unique. */
  readonly dependencyStamps: readonly DependencyStamp[];
  readonly value: Uint8Array;
  /** The cluster epoch it was stamped in (docs/causal-stability.md §7; 0: none). */
  readonly epoch: number;
  /** The epoch a node reported `baseMicros` as its stable time in (0: not known to be one epoch's). */
  readonly baseEpoch: number;
}

function writeMicros(writer: WireWriter, field: number, micros: number): void {
  writer.tag(field, WireType.VARINT);
  writer.safeUint(micros);
}

function dependencyBodyBytes({ key, stampMicros, epoch, writer }: DependencyStamp): number {
  const writerBytes = writer === undefined ? 0 : fieldBytes(writer.length);
  return fieldBytes(key.length) + 1 + safeUintBytes(stampMicros) + optionalUintBytes(epoch) + writerBytes;
}

/** A uint64 field's bytes with its one-byte tag, none when zero (left out). */
function optionalUintBytes(value: number): number {
  return value === 0 ? 0 : 1 + safeUintBytes(value);
}

/** Orders dependency stamps by key bytes, then epoch. */
export function compareDependencyStamps(a: DependencyStamp, b: DependencyStamp): number {
  return compareBytes(a.key, b.key) || a.epoch - b.epoch;
}

function assertStampable(stamped: StampedValue): void {
  if (!Number.isSafeInteger(stamped.stampMicros) || stamped.stampMicros <= 0)
    throw new RangeError(`invariant: stamp ${stamped.stampMicros} is not a positive µs count`);
  if (!Number.isSafeInteger(stamped.baseMicros) || stamped.baseMicros < 0)
    throw new RangeError(`invariant: base ${stamped.baseMicros} is not a µs count`);
  if (stamped.writer.length === 0) throw new RangeError("invariant: a stamp without its writer");
  if (!Number.isSafeInteger(stamped.epoch) || stamped.epoch < 0)
    throw new RangeError(`invariant: epoch ${stamped.epoch} is not a safe unsigned integer`);
  if (!Number.isSafeInteger(stamped.baseEpoch) || stamped.baseEpoch < 0)
    throw new RangeError(`invariant: base epoch ${stamped.baseEpoch} is not a safe unsigned integer`);
  if (stamped.baseEpoch > 0 && stamped.baseMicros === 0)
    throw new RangeError(`invariant: base epoch ${stamped.baseEpoch} without a base`);
  const stamps = stamped.dependencyStamps;
  for (let index = 0; index < stamps.length; index++) {
    if (!Number.isSafeInteger(stamps[index].stampMicros) || stamps[index].stampMicros <= 0)
      throw new RangeError(`invariant: dependency stamp ${stamps[index].stampMicros} is not a positive µs count`);
    if (!Number.isSafeInteger(stamps[index].epoch) || stamps[index].epoch < 0)
      throw new RangeError(`invariant: dependency epoch ${stamps[index].epoch} is not a safe unsigned integer`);
    if (stamps[index].writer?.length === 0)
      throw new RangeError("invariant: a dependency writer, where given, is not empty");
    if (index > 0 && compareDependencyStamps(stamps[index - 1], stamps[index]) >= 0)
      throw new RangeError("invariant: dependency stamps not sorted by key and epoch, and unique");
  }
}

/** The canonical bytes of a stamped value. */
export function encodeStamped(stamped: StampedValue): Uint8Array {
  const writer = new WireWriter(stampedLength(stamped));
  writeStamped(writer, stamped);
  return writer.finish();
}

/** The length of a stamped value's canonical bytes; RangeError when it breaks the stamp's invariants. */
export function stampedLength(stamped: StampedValue): number {
  assertStampable(stamped);
  return stampedBytes(stamped);
}

/**
 * Writes the canonical bytes of `stamped`, `stampedLength(stamped)` of them, where the
 * writer stands: how a message that holds a stamp (causal-lww.ts) writes it in place
 * rather than copy a separately encoded one.
 */
export function writeStamped(writer: WireWriter, stamped: StampedValue): void {
  writeMicros(writer, STAMP_FIELD, stamped.stampMicros);
  if (stamped.baseMicros > 0) writeMicros(writer, BASE_FIELD, stamped.baseMicros);
  writer.bytesField(WRITER_FIELD, stamped.writer);
  for (const dependency of stamped.dependencyStamps) {
    writer.lengthPrefix(DEPENDENCY_FIELD, dependencyBodyBytes(dependency));
    writer.bytesField(DEPENDENCY_KEY_FIELD, dependency.key);
    writeMicros(writer, DEPENDENCY_STAMP_FIELD, dependency.stampMicros);
    if (dependency.epoch > 0) writeMicros(writer, DEPENDENCY_EPOCH_FIELD, dependency.epoch);
    if (dependency.writer !== undefined) writer.bytesField(DEPENDENCY_WRITER_FIELD, dependency.writer);
  }
  writer.bytesField(VALUE_FIELD, stamped.value);
  if (stamped.epoch > 0) writeMicros(writer, EPOCH_FIELD, stamped.epoch);
  if (stamped.baseEpoch > 0) writeMicros(writer, BASE_EPOCH_FIELD, stamped.baseEpoch);
}

function readDependency(reader: WireReader): DependencyStamp {
  const outerLimit = reader.enterMessage();
  if (reader.readTag() !== DEPENDENCY_KEY_FIELD) throw new MalformedPayloadError("dependency stamp without its key");
  reader.expect(WireType.LENGTH_DELIMITED);
  const key = reader.readBytes();
  if (reader.readTag() !== DEPENDENCY_STAMP_FIELD)
    throw new MalformedPayloadError("dependency stamp without its stamp");
  const stampMicros = reader.readSafeUint();
  let epoch = 0;
  let writer: Uint8Array | undefined;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === DEPENDENCY_EPOCH_FIELD && epoch === 0 && writer === undefined) {
      epoch = reader.readSafeUint();
      if (epoch === 0) throw new MalformedPayloadError("dependency stamp with a zero epoch written");
    } else if (field === DEPENDENCY_WRITER_FIELD && writer === undefined) {
      reader.expect(WireType.LENGTH_DELIMITED);
      writer = reader.readBytes();
      if (writer.length === 0) throw new MalformedPayloadError("dependency stamp with an empty writer written");
    } else throw new MalformedPayloadError("dependency stamp with more fields");
  }
  reader.leaveMessage(outerLimit);
  return writer === undefined ? { key, stampMicros, epoch } : { key, stampMicros, epoch, writer };
}

/** The stamped value `bytes` hold (views of them), or undefined for a value that is not one in canonical form. */
export function decodeStamped(bytes: Uint8Array): StampedValue | undefined {
  let stampMicros = 0;
  let baseMicros = 0;
  let writerId: Uint8Array | undefined;
  const dependencyStamps: DependencyStamp[] = [];
  let value: Uint8Array | undefined;
  let epoch = 0;
  let baseEpoch = 0;
  try {
    const reader = new WireReader(bytes);
    let lastField = 0;
    while (reader.hasMore()) {
      const field = reader.readTag();
      if (field < lastField || (field === lastField && field !== DEPENDENCY_FIELD)) return undefined;
      lastField = field;
      if (field === STAMP_FIELD) stampMicros = reader.readSafeUint();
      else if (field === BASE_FIELD) baseMicros = reader.readSafeUint();
      else if (field === WRITER_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) writerId = reader.readBytes();
      else if (field === DEPENDENCY_FIELD && reader.wireType === WireType.LENGTH_DELIMITED)
        dependencyStamps.push(readDependency(reader));
      else if (field === VALUE_FIELD && reader.wireType === WireType.LENGTH_DELIMITED) value = reader.readBytes();
      else if (field === EPOCH_FIELD) epoch = reader.readSafeUint();
      else if (field === BASE_EPOCH_FIELD) baseEpoch = reader.readSafeUint();
      else return undefined;
    }
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  if (value === undefined || writerId === undefined || stampMicros === 0) return undefined;
  const stamped = { stampMicros, baseMicros, writer: writerId, dependencyStamps, value, epoch, baseEpoch };
  try {
    assertStampable(stamped);
  } catch {
    return undefined;
  }
  // Minimal varints and no zero base or epoch: the canonical encoding has exactly this length.
  return stampedBytes(stamped) === bytes.length ? stamped : undefined;
}

/** The length of the canonical encoding. */
function stampedBytes(stamped: StampedValue): number {
  let length =
    1 + safeUintBytes(stamped.stampMicros) + fieldBytes(stamped.writer.length) + fieldBytes(stamped.value.length);
  length +=
    optionalUintBytes(stamped.baseMicros) + optionalUintBytes(stamped.epoch) + optionalUintBytes(stamped.baseEpoch);
  for (const dependency of stamped.dependencyStamps) length += fieldBytes(dependencyBodyBytes(dependency));
  return length;
}

/**
 * The stamped values of a MULTI_CAUSAL payload (each sibling an envelope holding a stamped
 * value; bare siblings left out), or undefined when the payload is malformed (the store
 * then refuses or takes it as it would any other).
 */
export function stampedValuesOf(payload: Uint8Array): StampedValue[] | undefined {
  const stamped: StampedValue[] = [];
  try {
    const reader = new WireReader(payload);
    while (reader.hasMore()) {
      const field = reader.readTag();
      if (field !== MULTI_CAUSAL_VALUES_FIELD || reader.wireType !== WireType.LENGTH_DELIMITED) {
        reader.skipField();
        continue;
      }
      const envelope = decodeEnvelope(reader.readBytes());
      const value = envelope === undefined ? undefined : decodeStamped(envelope.value);
      if (value !== undefined) stamped.push(value);
    }
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  return stamped;
}

/**
 * Whether a value is stamped at or below `acceptFloorMicros` or in another epoch than
 * `epoch` (docs/causal-stability.md §6, §7): what the accept floor refuses, since taking it
 * would break the floor's promise or put it outside the epoch whose stable time covers it.
 */
export function isStaleStamp(
  stamped: Pick<StampedValue, "stampMicros" | "epoch">,
  acceptFloorMicros: number,
  epoch: number,
): boolean {
  return stamped.stampMicros <= acceptFloorMicros || stamped.epoch !== epoch;
}

/**
 * Whether a PUT's MULTI_CAUSAL payload holds a stale stamp (`isStaleStamp`). False for
 * bare values and malformed payloads.
 */
export function hasStaleStamp(payload: Uint8Array, acceptFloorMicros: number, epoch: number): boolean {
  return (stampedValuesOf(payload) ?? []).some((stamped) => isStaleStamp(stamped, acceptFloorMicros, epoch));
}
