/**
 * annakv's KeyResponse extensions (proto/anna.proto fields 16 and 17), appended to a
 * response the store has written: protobuf reads fields in any order, so a message with
 * fields added at its end decodes as one with them in place. Anna's clients skip them.
 */
import { varintBytes, WireType, WireWriter } from "../wire/protobuf";

const STABLE_MICROS_FIELD = 16;
const ACCEPT_FLOOR_MICROS_FIELD = 17;
/** Fields 16 and up take a two-byte tag. */
const TAG_BYTES = 2;
const TWO_POW_32 = 2 ** 32;

export interface ResponseExtensions {
  /** The node's stable time (µs); 0: none, left out. */
  stableMicros: number;
  /** The accept floor of a STALE_STAMP refusal (µs); 0: none, left out. */
  acceptFloorMicros: number;
}

function fieldLength(micros: number): number {
  return micros === 0 ? 0 : TAG_BYTES + varintBytes(Math.floor(micros / TWO_POW_32), micros >>> 0);
}

function writeField(writer: WireWriter, field: number, micros: number): void {
  if (micros === 0) return;
  const tag = (field << 3) | WireType.VARINT;
  writer.varint(0, tag);
  writer.varint(Math.floor(micros / TWO_POW_32), micros >>> 0);
}

/** Reused, since the reply sink copies what it is given: grown as needed; one thread, no await in between. */
let scratch = new Uint8Array(64 * 1024);

/**
 * `response` with the extensions appended, or `response` itself when there are none. The
 * result is a view of a buffer the next call reuses: copy it (as the reply sink does)
 * before calling again.
 */
export function withResponseExtensions(response: Uint8Array, extensions: ResponseExtensions): Uint8Array {
  const { stableMicros, acceptFloorMicros } = extensions;
  const extra = fieldLength(stableMicros) + fieldLength(acceptFloorMicros);
  if (extra === 0) return response;
  const length = response.length + extra;
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
  const bytes = scratch.subarray(0, length);
  bytes.set(response);
  const writer = new WireWriter(extra, bytes.subarray(response.length));
  writeField(writer, STABLE_MICROS_FIELD, stableMicros);
  writeField(writer, ACCEPT_FLOOR_MICROS_FIELD, acceptFloorMicros);
  writer.finish();
  return bytes;
}
