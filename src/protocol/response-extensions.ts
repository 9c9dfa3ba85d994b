/**
 * annakv's KeyResponse extensions (proto/anna.proto fields 16 to 19), sent after a
 * response the store has written, in the same frame: protobuf reads fields in any order,
 * so a message with fields added at its end decodes as one with them in place. Anna's
 * clients skip them. Written as a tail (CopyingFrameSink.sendCopy), so that the response
 * is copied once, as it always was.
 */
import { LatticeType } from "../lattices/lattice-type";
import { fieldBytes, safeUintBytes, WireType, WireWriter } from "../wire/protobuf";

const STABLE_MICROS_FIELD = 16;
const ACCEPT_FLOOR_MICROS_FIELD = 17;
const STABLE_EPOCH_FIELD = 18;
const APPLIED_DOTS_FIELD = 19;
const TUPLE_KEY_FIELD = 1;
const TUPLE_LATTICE_TYPE_FIELD = 2;
const TUPLE_PAYLOAD_FIELD = 4;
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
  /** The dots the request's dot requests were given (docs/causal-dots.md §5), as KeyTuples; absent: none. */
  appliedDots?: readonly AppliedDot[];
}

/** The dot a key's dot request was given, as the answer carries it. */
export interface AppliedDot {
  /** The key's bytes (UTF-8). */
  readonly key: Uint8Array;
  /** A Dot message (lattices/dot-requests.ts, encodeDot). */
  readonly dot: Uint8Array;
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

/** A KeyTuple's body: the key, DOTTED_CAUSAL (two varint bytes), the dot as its payload. */
function appliedTupleBytes({ key, dot }: AppliedDot): number {
  return fieldBytes(key.length) + 2 + fieldBytes(dot.length);
}

/**
 * The extension fields' bytes, to append to a response, or undefined when there are none.
 * A view of a buffer the next call reuses, unless values are applied: the reply sink
 * copies it at once.
 */
export function responseExtensionBytes(extensions: ResponseExtensions): Uint8Array | undefined {
  const { stableMicros, acceptFloorMicros, epoch, appliedDots = [] } = extensions;
  let length = fieldLength(stableMicros) + fieldLength(acceptFloorMicros) + fieldLength(epoch);
  for (const applied of appliedDots) length += TAG_BYTES + fieldBytes(appliedTupleBytes(applied)) - 1;
  if (length === 0) return undefined;
  const writer = new WireWriter(length, appliedDots.length === 0 ? scratch.subarray(0, length) : undefined);
  writeField(writer, STABLE_MICROS_FIELD, stableMicros);
  writeField(writer, ACCEPT_FLOOR_MICROS_FIELD, acceptFloorMicros);
  writeField(writer, STABLE_EPOCH_FIELD, epoch);
  for (const applied of appliedDots) {
    writer.varint(0, (APPLIED_DOTS_FIELD << 3) | WireType.LENGTH_DELIMITED);
    writer.varint(0, appliedTupleBytes(applied));
    writer.bytesField(TUPLE_KEY_FIELD, applied.key);
    writer.tag(TUPLE_LATTICE_TYPE_FIELD, WireType.VARINT);
    writer.varint(0, LatticeType.DOTTED_CAUSAL);
    writer.bytesField(TUPLE_PAYLOAD_FIELD, applied.dot);
  }
  return writer.finish();
}
