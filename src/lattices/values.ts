/**
 * Friendly encoders and decoders of lattice payloads for clients and tools: plain JS
 * values in, canonical anna.proto bytes out, and back. Off the store's hot path, so
 * BigInt timestamps and string keys are fine here. Decoders throw MalformedPayloadError
 * and return copies, never views of the payload.
 */
import { decodeLwwWire, encodeLwwWire, WRITE_ID_BYTES_MAX } from "./lww";
import { EMPTY_BYTES } from "./lattice";
import { MapEntry, toByteMap } from "./map";
import { U64 } from "../wire/u64";
import { decodeMultiCausalWire, encodeMultiCausalWire } from "./multi-causal";
import { decodePriorityWire, encodePriorityWire } from "./priority";
import { ByteSet, toByteSet } from "./set-union";
import { decodeSetWire, encodeSetWire } from "./set";
import { decodeSingleCausalWire, encodeSingleCausalWire } from "./single-causal";
import { toVectorClock, VectorClock, vectorClock } from "./vector-clock";

/** Bytes, or a string that stands for its UTF-8 encoding. */
export type Bytes = Uint8Array | string;
/** Client id → counter (u32). */
export type VectorClockInput = Record<string, number> | ReadonlyMap<string, number>;

export interface LwwValue {
  timestamp: bigint;
  value: Uint8Array;
  /** Breaks timestamp ties before the value does; empty for a plain write (docs/lattices.md). */
  writeId: Uint8Array;
}

export interface PriorityValue {
  priority: number;
  value: Uint8Array;
}

export interface SingleCausalValue {
  /** Client ids in byte order; ids are decoded as UTF-8. */
  vectorClock: Map<string, number>;
  values: Uint8Array[];
}

export interface Dependency {
  key: string;
  vectorClock: Map<string, number>;
}

export interface MultiCausalValue extends SingleCausalValue {
  dependencies: Dependency[];
}

export interface DependencyInput {
  key: Bytes;
  vectorClock: VectorClockInput;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const U64_LIMIT = 1n << 64n;
const U32_MAX = 0xffffffff;

function toBytes(value: Bytes): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

function toU64(timestamp: bigint | number): U64 {
  const value = typeof timestamp === "number" && Number.isSafeInteger(timestamp) ? BigInt(timestamp) : timestamp;
  if (typeof value !== "bigint" || value < 0n || value >= U64_LIMIT) {
    throw new RangeError(`timestamp must be an integer in [0, 2^64), got ${timestamp}`);
  }
  return { high: Number(value >> 32n), low: Number(value & 0xffffffffn) };
}

function toClock(input: VectorClockInput): VectorClock {
  const pairs = input instanceof Map ? [...input] : Object.entries(input);
  const entries: MapEntry<number>[] = [];
  for (const [id, counter] of pairs) {
    if (!Number.isInteger(counter) || counter < 0 || counter > U32_MAX) {
      throw new RangeError(`vector clock counter of ${JSON.stringify(id)} must be a u32, got ${counter}`);
    }
    if (counter !== 0) entries.push({ key: encoder.encode(id), value: counter });
  }
  return toVectorClock(entries);
}

function fromClock(clock: VectorClock): Map<string, number> {
  return new Map(clock.map((entry) => [decoder.decode(entry.key), entry.value]));
}

function toSet(values: Iterable<Bytes>): ByteSet {
  return toByteSet(Array.from(values, toBytes));
}

function copies(set: ByteSet): Uint8Array[] {
  return set.map((element) => element.slice());
}

/** `writeId`, at most WRITE_ID_BYTES_MAX bytes, is left out for a plain write. */
export function encodeLww(value: { timestamp: bigint | number; value: Bytes; writeId?: Bytes }): Uint8Array {
  const writeId = value.writeId === undefined ? EMPTY_BYTES : toBytes(value.writeId);
  if (writeId.length > WRITE_ID_BYTES_MAX) {
    throw new RangeError(`write id must be at most ${WRITE_ID_BYTES_MAX} bytes, got ${writeId.length}`);
  }
  return encodeLwwWire({ first: toU64(value.timestamp), second: { first: writeId, second: toBytes(value.value) } });
}

export function decodeLww(payload: Uint8Array): LwwValue {
  const { first, second } = decodeLwwWire(payload);
  return {
    timestamp: (BigInt(first.high) << 32n) | BigInt(first.low),
    value: second.second.slice(),
    writeId: second.first.slice(),
  };
}

export function encodeSet(values: Iterable<Bytes>): Uint8Array {
  return encodeSetWire(toSet(values));
}

/** The elements in canonical order (unsigned bytes). */
export function decodeSet(payload: Uint8Array): Uint8Array[] {
  return copies(decodeSetWire(payload));
}

export function encodePriority(value: { priority: number; value: Bytes }): Uint8Array {
  if (Number.isNaN(value.priority)) throw new RangeError("priority must not be NaN");
  return encodePriorityWire({ first: value.priority + 0, second: toBytes(value.value) });
}

export function decodePriority(payload: Uint8Array): PriorityValue {
  const { first, second } = decodePriorityWire(payload);
  return { priority: first, value: second.slice() };
}

export function encodeSingleCausal(value: { vectorClock: VectorClockInput; values: Iterable<Bytes> }): Uint8Array {
  return encodeSingleCausalWire({ first: toClock(value.vectorClock), second: toSet(value.values) });
}

export function decodeSingleCausal(payload: Uint8Array): SingleCausalValue {
  const { first, second } = decodeSingleCausalWire(payload);
  return { vectorClock: fromClock(first), values: copies(second) };
}

export function encodeMultiCausal(value: {
  vectorClock: VectorClockInput;
  dependencies: Iterable<DependencyInput>;
  values: Iterable<Bytes>;
}): Uint8Array {
  const versions = Array.from(value.dependencies, (dependency) => ({
    key: toBytes(dependency.key),
    value: toClock(dependency.vectorClock),
  }));
  return encodeMultiCausalWire({
    first: toClock(value.vectorClock),
    second: { first: toByteMap(versions, vectorClock), second: toSet(value.values) },
  });
}

export function decodeMultiCausal(payload: Uint8Array): MultiCausalValue {
  const { first, second } = decodeMultiCausalWire(payload);
  return {
    vectorClock: fromClock(first),
    dependencies: second.first.map((version) => ({
      key: decoder.decode(version.key),
      vectorClock: fromClock(version.value),
    })),
    values: copies(second.second),
  };
}
