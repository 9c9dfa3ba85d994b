/**
 * anna.proto `LWWValue` and `LWWVersion` for lww.ts: decoding validates the limits and
 * canonicalizes (write sets sorted and unique, versions keyed, repeated keys joined, the
 * window pruned); encoding writes the canonical bytes (docs/wasm-abi.md).
 */
import { EMPTY_BYTES } from "./lattice";
import {
  Lww,
  LwwWindow,
  lwwWindow,
  LwwWindowEntry,
  lwwWindowEntry,
  lwwWriteSet,
  prunedLww,
  stampKey,
  stampOfKey,
  STAMP_KEY_BYTES,
  VERSIONS_MAX,
  WRITE_ID_BYTES_MAX,
  WRITE_SET_KEY_BYTES_MAX,
  WRITE_SET_KEYS_MAX,
} from "./lww";
import { MapEntry, toByteMap } from "./map";
import { elementsBytes, writeElements } from "./set";
import { toByteSet } from "./set-union";
import { U64, U64_ZERO } from "../wire/u64";
import { fieldBytes, MalformedPayloadError, varintBytes, WireReader, WireType, WireWriter } from "../wire/protobuf";

/** `LWWValue`'s fields that every LWW payload has (anna.proto), which lww-plain.ts and causal-lww.ts scan too. */
export const TIMESTAMP_FIELD = 1;
export const VALUE_FIELD = 2;
export const WRITE_ID_FIELD = 13;
const WRITE_SET_FIELD = 14;
const VERSION_FIELD = 15;
const VERSION_TIMESTAMP_FIELD = 1;
const VERSION_WRITE_ID_FIELD = 2;
const VERSION_VALUE_FIELD = 3;
const VERSION_WRITE_SET_FIELD = 4;
const VERSION_COMMITTED_FIELD = 5;
const COMMITTED_FIELD_BYTES = 2;

/** Reads one write-set key into `keys`, within the limits. */
function readWriteSetKey(reader: WireReader, keys: Uint8Array[]): void {
  const key = reader.readBytes();
  if (key.length > WRITE_SET_KEY_BYTES_MAX) {
    throw new MalformedPayloadError(`write-set key of ${key.length} bytes (at most ${WRITE_SET_KEY_BYTES_MAX})`);
  }
  if (keys.length === WRITE_SET_KEYS_MAX) {
    throw new MalformedPayloadError(`write set of more than ${WRITE_SET_KEYS_MAX} keys`);
  }
  keys.push(key);
}

function checkWriteId(writeId: Uint8Array): void {
  // Checked on the last write id only: a repeated field keeps its last value (proto3).
  if (writeId.length > WRITE_ID_BYTES_MAX) {
    throw new MalformedPayloadError(`write id of ${writeId.length} bytes (at most ${WRITE_ID_BYTES_MAX})`);
  }
}

/** Reads one `LWWVersion` (the reader is at its field) into `versions`. */
function readVersion(reader: WireReader, versions: MapEntry<LwwWindowEntry>[]): void {
  const outerLimit = reader.enterMessage();
  let timestamp = U64_ZERO;
  let writeId = EMPTY_BYTES;
  let value = EMPTY_BYTES;
  const writeSet: Uint8Array[] = [];
  let committed = false;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === VERSION_TIMESTAMP_FIELD) timestamp = reader.readU64();
    else if (field === VERSION_WRITE_ID_FIELD) writeId = reader.readBytes();
    else if (field === VERSION_VALUE_FIELD) value = reader.readBytes();
    else if (field === VERSION_WRITE_SET_FIELD) readWriteSetKey(reader, writeSet);
    else if (field === VERSION_COMMITTED_FIELD) committed = readBool(reader);
    else reader.skipField();
  }
  reader.leaveMessage(outerLimit);
  checkWriteId(writeId);
  versions.push({
    key: stampKey(timestamp, writeId),
    value: { first: value, second: { first: toByteSet(writeSet), second: committed } },
  });
}

/** proto3 bool: any non-zero varint is true. */
function readBool(reader: WireReader): boolean {
  const { high, low } = reader.readU64();
  return high !== 0 || low !== 0;
}

export function decodeLwwWire(bytes: Uint8Array): Lww {
  const reader = new WireReader(bytes);
  let timestamp = U64_ZERO;
  let value = EMPTY_BYTES;
  let writeId = EMPTY_BYTES;
  // Made at the first field 14 or 15: a plain LWW payload, the usual one, has neither.
  let writeSet: Uint8Array[] | undefined;
  let versions: MapEntry<LwwWindowEntry>[] | undefined;
  while (reader.hasMore()) {
    const field = reader.readTag();
    if (field === TIMESTAMP_FIELD) timestamp = reader.readU64();
    else if (field === VALUE_FIELD) value = reader.readBytes();
    else if (field === WRITE_ID_FIELD) writeId = reader.readBytes();
    else if (field === WRITE_SET_FIELD) readWriteSetKey(reader, (writeSet ??= []));
    else if (field === VERSION_FIELD) {
      versions ??= [];
      if (versions.length === VERSIONS_MAX) throw new MalformedPayloadError(`more than ${VERSIONS_MAX} versions`);
      readVersion(reader, versions);
    } else reader.skipField();
  }
  checkWriteId(writeId);
  const keys = writeSet === undefined ? lwwWriteSet.bottom : toByteSet(writeSet);
  const committed = { first: timestamp, second: { first: writeId, second: { first: value, second: keys } } };
  if (versions === undefined) return { first: committed, second: lwwWindow.bottom };
  return prunedLww(committed, toByteMap(versions, lwwWindowEntry));
}

function hasStamp(stamp: U64): boolean {
  return stamp.high !== 0 || stamp.low !== 0;
}

function stampBytes(stamp: U64): number {
  return hasStamp(stamp) ? 1 + varintBytes(stamp.high, stamp.low) : 0;
}

function bytesFieldBytes(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : fieldBytes(bytes.length);
}

function writeStamp(writer: WireWriter, field: number, stamp: U64): void {
  if (!hasStamp(stamp)) return;
  writer.tag(field, WireType.VARINT);
  writer.varint(stamp.high, stamp.low);
}

function writeNonEmpty(writer: WireWriter, field: number, bytes: Uint8Array): void {
  if (bytes.length !== 0) writer.bytesField(field, bytes);
}

/** The parts of a window entry's `LWWVersion` body, read from its key. */
function versionParts(entry: MapEntry<LwwWindowEntry>): { stamp: U64; writeId: Uint8Array } {
  return { stamp: stampOfKey(entry.key), writeId: entry.key.subarray(STAMP_KEY_BYTES) };
}

function versionBodyBytes(entry: MapEntry<LwwWindowEntry>): number {
  const { stamp, writeId } = versionParts(entry);
  const {
    first: value,
    second: { first: writeSet, second: committed },
  } = entry.value;
  return (
    stampBytes(stamp) +
    bytesFieldBytes(writeId) +
    bytesFieldBytes(value) +
    elementsBytes(writeSet) +
    (committed ? COMMITTED_FIELD_BYTES : 0)
  );
}

function writeVersions(writer: WireWriter, window: LwwWindow): void {
  for (const entry of window) {
    const { stamp, writeId } = versionParts(entry);
    const {
      first: value,
      second: { first: writeSet, second: committed },
    } = entry.value;
    writer.lengthPrefix(VERSION_FIELD, versionBodyBytes(entry));
    writeStamp(writer, VERSION_TIMESTAMP_FIELD, stamp);
    writeNonEmpty(writer, VERSION_WRITE_ID_FIELD, writeId);
    writeNonEmpty(writer, VERSION_VALUE_FIELD, value);
    writeElements(writer, VERSION_WRITE_SET_FIELD, writeSet);
    if (committed) {
      writer.tag(VERSION_COMMITTED_FIELD, WireType.VARINT);
      writer.varint(0, 1);
    }
  }
}

export function encodeLwwWire({ first: committed, second: window }: Lww): Uint8Array {
  const {
    first: timestamp,
    second: {
      first: writeId,
      second: { first: value, second: writeSet },
    },
  } = committed;
  let length = stampBytes(timestamp) + bytesFieldBytes(value) + bytesFieldBytes(writeId) + elementsBytes(writeSet);
  for (const entry of window) length += fieldBytes(versionBodyBytes(entry));
  const writer = new WireWriter(length);
  writeStamp(writer, TIMESTAMP_FIELD, timestamp);
  writeNonEmpty(writer, VALUE_FIELD, value);
  writeNonEmpty(writer, WRITE_ID_FIELD, writeId);
  writeElements(writer, WRITE_SET_FIELD, writeSet);
  writeVersions(writer, window);
  return writer.finish();
}
