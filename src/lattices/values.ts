/**
 * Friendly encoders and decoders of lattice payloads for clients and tools: plain JS
 * values in, canonical anna.proto bytes out, and back. Off the store's hot path, so
 * BigInt timestamps and string keys are fine here. Decoders throw MalformedPayloadError
 * and return copies, never views of the payload.
 */
import {
  LwwWindowEntry,
  lwwWindowEntry,
  prunedLww,
  stampKey,
  stampOfKey,
  STAMP_KEY_BYTES,
  VERSIONS_MAX,
  WRITE_ID_BYTES_MAX,
  WRITE_SET_KEY_BYTES_MAX,
  WRITE_SET_KEYS_MAX,
} from "./lww";
import { decodeLwwWire, encodeLwwWire } from "./lww-wire";
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
  /** The keys the committed version's transaction wrote (read atomic), sorted by UTF-8 bytes; empty for other writes. */
  writeSet: string[];
  /** The window: the key's recent read-atomic versions, prepared or committed, by (timestamp, write id). */
  versions: LwwVersionValue[];
}

/** One version of an LWW key's window (anna.proto `LWWVersion`). */
export interface LwwVersionValue {
  timestamp: bigint;
  writeId: Uint8Array;
  value: Uint8Array;
  writeSet: string[];
  /** Prepared versions are not yet visible; a commit (or a reader's repair) sets this. */
  committed: boolean;
}

export interface LwwVersionInput {
  timestamp: bigint | number;
  writeId?: Bytes;
  value: Bytes;
  writeSet?: Iterable<Bytes>;
  committed?: boolean;
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

function toWriteId(writeId: Bytes | undefined): Uint8Array {
  const bytes = writeId === undefined ? EMPTY_BYTES : toBytes(writeId);
  if (bytes.length > WRITE_ID_BYTES_MAX) {
    throw new RangeError(`write id must be at most ${WRITE_ID_BYTES_MAX} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function toWriteSet(keys: Iterable<Bytes> | undefined): ByteSet {
  const set = toSet(keys ?? []);
  if (set.length > WRITE_SET_KEYS_MAX) {
    throw new RangeError(`a write set holds at most ${WRITE_SET_KEYS_MAX} keys, got ${set.length}`);
  }
  for (const key of set) {
    if (key.length > WRITE_SET_KEY_BYTES_MAX) {
      throw new RangeError(`a write-set key must be at most ${WRITE_SET_KEY_BYTES_MAX} bytes, got ${key.length}`);
    }
  }
  return set;
}

function toWindowEntry(version: LwwVersionInput): MapEntry<LwwWindowEntry> {
  return {
    key: stampKey(toU64(version.timestamp), toWriteId(version.writeId)),
    value: {
      first: toBytes(version.value),
      second: { first: toWriteSet(version.writeSet), second: !!version.committed },
    },
  };
}

function toBigInt(stamp: U64): bigint {
  return (BigInt(stamp.high) << 32n) | BigInt(stamp.low);
}

function fromWriteSet(set: ByteSet): string[] {
  return set.map((key) => decoder.decode(key));
}

/**
 * The canonical LWWValue: the committed part (`writeId`, `writeSet` left out for a plain
 * write) and the window (`versions`, read atomic; pruned as the store prunes it). Limits as
 * the store's (docs/wasm-abi.md), as RangeErrors.
 */
export function encodeLww(value: {
  timestamp: bigint | number;
  value: Bytes;
  writeId?: Bytes;
  writeSet?: Iterable<Bytes>;
  versions?: Iterable<LwwVersionInput>;
}): Uint8Array {
  const versions = Array.from(value.versions ?? [], toWindowEntry);
  if (versions.length > VERSIONS_MAX) {
    throw new RangeError(`an LWW value carries at most ${VERSIONS_MAX} versions, got ${versions.length}`);
  }
  const committed = {
    first: toU64(value.timestamp),
    second: {
      first: toWriteId(value.writeId),
      second: { first: toBytes(value.value), second: toWriteSet(value.writeSet) },
    },
  };
  return encodeLwwWire(prunedLww(committed, toByteMap(versions, lwwWindowEntry)));
}

export function decodeLww(payload: Uint8Array): LwwValue {
  const { first: committed, second: window } = decodeLwwWire(payload);
  const { first: writeId, second: content } = committed.second;
  return {
    timestamp: toBigInt(committed.first),
    value: content.first.slice(),
    writeId: writeId.slice(),
    writeSet: fromWriteSet(content.second),
    versions: window.map(({ key, value: entry }) => ({
      timestamp: toBigInt(stampOfKey(key)),
      writeId: key.slice(STAMP_KEY_BYTES),
      value: entry.first.slice(),
      writeSet: fromWriteSet(entry.second.first),
      committed: entry.second.second,
    })),
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
