/**
 * annakv's KeyResponse extensions (proto/anna.proto fields 16 and 17), sent after a
 * response the store has written, in the same frame: protobuf reads fields in any order,
 * so a message with fields added at its end decodes as one with them in place. Anna's
 * clients skip them. Written as a tail (CopyingFrameSink.sendCopy), so that the response
 * is copied once, as it always was.
 */
import { safeUintBytes, WireType, WireWriter } from "../wire/protobuf";

const STABLE_MICROS_FIELD = 16;
const ACCEPT_FLOOR_MICROS_FIELD = 17;
/** Fields 16 and up take a two-byte tag. */
const TAG_BYTES = 2;
/** Two fields of a two-byte tag and a varint of at most 8 bytes (µs below 2^53). */
const EXTENSIONS_BYTES_MAX = 2 * (TAG_BYTES + 8);

export interface ResponseExtensions {
  /** The node's stable time (µs); 0: none, left out. */
  stableMicros: number;
  /** The accept floor of a STALE_STAMP refusal (µs); 0: none, left out. */
  acceptFloorMicros: number;
}

/** Reused: the reply sink copies the tail before it returns. One thread, no await in between. */
const scratch = new Uint8Array(EXTENSIONS_BYTES_MAX);

function fieldLength(micros: number): number {
  return micros === 0 ? 0 : TAG_BYTES + safeUintBytes(micros);
}

function writeField(writer: WireWriter, field: number, micros: number): void {
  if (micros === 0) return;
  writer.varint(0, (field << 3) | WireType.VARINT);
  writer.safeUint(micros);
}

/**
 * The extension fields' bytes, to append to a response, or undefined when there are none.
 * A view of a buffer the next call reuses: the reply sink copies it at once.
 */
export function responseExtensionBytes(extensions: ResponseExtensions): Uint8Array | undefined {
  const { stableMicros, acceptFloorMicros } = extensions;
  const length = fieldLength(stableMicros) + fieldLength(acceptFloorMicros);
  if (length === 0) return undefined;
  const writer = new WireWriter(length, scratch.subarray(0, length));
  writeField(writer, STABLE_MICROS_FIELD, stableMicros);
  writeField(writer, ACCEPT_FLOOR_MICROS_FIELD, acceptFloorMicros);
  return writer.finish();
}
