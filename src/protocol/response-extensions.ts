/**
 * annakv's KeyResponse extensions (proto/anna.proto fields 16 to 18), sent after a
 * response the store has written, in the same frame: protobuf reads fields in any order,
 * so a message with fields added at its end decodes as one with them in place. Anna's
 * clients skip them. Written as a tail (CopyingFrameSink.sendCopy), so that the response
 * is copied once, as it always was.
 */
import { safeUintBytes, WireType, WireWriter } from "../wire/protobuf";

const STABLE_MICROS_FIELD = 16;
const ACCEPT_FLOOR_MICROS_FIELD = 17;
const STABLE_EPOCH_FIELD = 18;
/** Fields 16 and up take a two-byte tag. */
const TAG_BYTES = 2;
/** Three fields of a two-byte tag and a varint of at most 8 bytes (values below 2^53). */
const EXTENSIONS_BYTES_MAX = 3 * (TAG_BYTES + 8);

export interface ResponseExtensions {
  /** The node's stable time (µs); 0: none, left out. */
  stableMicros: number;
  /** The accept floor of a STALE_STAMP refusal (µs); 0: none, left out. */
  acceptFloorMicros: number;
  /** The actor's epoch (docs/causal-stability.md §7), which `stableMicros` belongs to; 0: none, left out. */
  epoch: number;
}

/** Reused: the reply sink copies the tail before it returns. One thread, no await in between. */
const scratch = new Uint8Array(EXTENSIONS_BYTES_MAX);

function fieldLength(value: number): number {
  return value === 0 ? 0 : TAG_BYTES + safeUintBytes(value);
}

function writeField(writer: WireWriter, field: number, value: number): void {
  if (value === 0) return;
  writer.varint(0, (field << 3) | WireType.VARINT);
  writer.safeUint(value);
}

/**
 * The extension fields' bytes, to append to a response, or undefined when there are none.
 * A view of a buffer the next call reuses: the reply sink copies it at once.
 */
export function responseExtensionBytes(extensions: ResponseExtensions): Uint8Array | undefined {
  const { stableMicros, acceptFloorMicros, epoch } = extensions;
  const length = fieldLength(stableMicros) + fieldLength(acceptFloorMicros) + fieldLength(epoch);
  if (length === 0) return undefined;
  const writer = new WireWriter(length, scratch.subarray(0, length));
  writeField(writer, STABLE_MICROS_FIELD, stableMicros);
  writeField(writer, ACCEPT_FLOOR_MICROS_FIELD, acceptFloorMicros);
  writeField(writer, STABLE_EPOCH_FIELD, epoch);
  return writer.finish();
}
