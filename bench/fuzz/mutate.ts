/**
 * Mutations of valid messages, the fuzzer's message layer: byte-level ones (bit flips,
 * inserts, deletes, truncation, splices with another message) for every frame, and
 * protobuf-aware ones (field numbers, wire types, huge varints, lengths, repeated and
 * dropped fields, mutations inside an embedded message) that walk the top-level fields of
 * a protobuf frame; gossip frames, which are not protobuf, get u16/u32 overwrites instead.
 */
import type { Prng } from "../workload";

/** No mutated frame grows past this: the point is odd shapes, not volume. */
export const MUTATED_FRAME_BYTES_MAX = 256 * 1024;
/** Mutations stacked on one frame: 1 up to this. */
const STACKED_MUTATIONS_MAX = 3;
/** How many times repeatField may copy a field (the node caps tuples at 10,000 and keys at 10,000). */
const REPEAT_COUNTS = [2, 10, 100, 1000, 12_000];
const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const VARINT_BYTES_MAX = 10;

export type MessageFormat = "protobuf" | "gossip";

/** A top-level field of a protobuf frame: its tag at `start`, its value from `valueStart` to `end`. */
interface WireField {
  start: number;
  valueStart: number;
  end: number;
  fieldNumber: number;
  wireType: number;
  /** LEN fields: where the length varint starts (it ends at valueStart). */
  lengthStart: number;
}

type Mutator = (bytes: Uint8Array, random: Prng, donor: Uint8Array) => Uint8Array;

/** Varints a parser must refuse or clamp: overlong, all-ones, sign-extended negatives, 2^32-ish lengths. */
const HUGE_VARINTS: readonly number[][] = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0xff, 0xff, 0xff, 0xff, 0x07],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
];
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Reads a varint at `offset`: its value (low 53 bits are enough here) and where it ends; undefined when cut or overlong. */
function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < VARINT_BYTES_MAX && offset + i < bytes.length; i++) {
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return undefined;
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/** The frame's top-level fields up to the first that does not parse. */
function topLevelFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarint(bytes, offset);
    if (tag === undefined) break;
    const wireType = tag.value % 8;
    const field: WireField = {
      start: offset,
      valueStart: tag.next,
      end: tag.next,
      fieldNumber: Math.floor(tag.value / 8),
      wireType,
      lengthStart: tag.next,
    };
    if (wireType === WIRE_VARINT) {
      const value = readVarint(bytes, tag.next);
      if (value === undefined) break;
      field.end = value.next;
    } else if (wireType === WIRE_LEN) {
      const length = readVarint(bytes, tag.next);
      if (length === undefined || length.next + length.value > bytes.length) break;
      field.valueStart = length.next;
      field.end = length.next + length.value;
    } else if (wireType === 1 || wireType === 5) {
      field.end = tag.next + (wireType === 1 ? 8 : 4);
      if (field.end > bytes.length) break;
    } else break;
    fields.push(field);
    offset = field.end;
  }
  return fields;
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Applies `change` to a random top-level field, or falls back to a bit flip when the frame has none that fits. */
function onField(
  bytes: Uint8Array,
  random: Prng,
  fits: (field: WireField) => boolean,
  change: (field: WireField) => Uint8Array,
): Uint8Array {
  const candidates = topLevelFields(bytes).filter(fits);
  return candidates.length === 0 ? flipBits(bytes, random) : change(random.pick(candidates));
}

function flipBits(bytes: Uint8Array, random: Prng): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return Uint8Array.of(random.int(256));
  for (let flips = 1 + random.int(8); flips > 0; flips--) out[random.int(out.length)] ^= 1 << random.int(8);
  return out;
}

const insertBytes: Mutator = (bytes, random) => {
  const at = random.int(bytes.length + 1);
  const inserted = random.chance(0.5)
    ? random.bytes(1 + random.int(16))
    : new Uint8Array(1 + random.int(16)).fill(random.pick([0x00, 0x7f, 0x80, 0xff]));
  return concat(bytes.subarray(0, at), inserted, bytes.subarray(at));
};

const deleteBytes: Mutator = (bytes, random) => {
  const at = random.int(bytes.length + 1);
  const end = Math.min(bytes.length, at + 1 + random.int(16));
  return concat(bytes.subarray(0, at), bytes.subarray(end));
};

const truncate: Mutator = (bytes, random) => bytes.slice(0, random.int(bytes.length + 1));

const splice: Mutator = (bytes, random, donor) =>
  concat(bytes.subarray(0, random.int(bytes.length + 1)), donor.subarray(random.int(donor.length + 1)));

const changeFieldNumber: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    () => true,
    (field) => {
      const fieldNumber = random.pick([0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 19_000, 2 ** 29 - 1, random.int(64)]);
      return concat(
        bytes.subarray(0, field.start),
        varint(fieldNumber * 8 + field.wireType),
        bytes.subarray(field.lengthStart),
      );
    },
  );

const changeWireType: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    () => true,
    (field) => {
      const wireType = (field.wireType + 1 + random.int(7)) % 8;
      return concat(
        bytes.subarray(0, field.start),
        varint(field.fieldNumber * 8 + wireType),
        bytes.subarray(field.lengthStart),
      );
    },
  );

/** A varint field's value, or a LEN field's length, replaced by a huge or overlong varint. */
const hugeVarint: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    (field) => field.wireType === WIRE_VARINT || field.wireType === WIRE_LEN,
    (field) => {
      const huge = random.pick(HUGE_VARINTS);
      const rest = field.wireType === WIRE_VARINT ? bytes.subarray(field.end) : bytes.subarray(field.valueStart);
      return concat(bytes.subarray(0, field.lengthStart), huge, rest);
    },
  );

/** A LEN field's length set off by one, to zero, or to past the frame's end. */
const changeLength: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    (field) => field.wireType === WIRE_LEN,
    (field) => {
      const length = field.end - field.valueStart;
      const changed = random.pick([
        0,
        Math.max(0, length - 1),
        length + 1,
        length + 1 + random.int(1000),
        bytes.length * 2,
      ]);
      return concat(bytes.subarray(0, field.lengthStart), varint(changed), bytes.subarray(field.valueStart));
    },
  );

const repeatField: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    () => true,
    (field) => {
      const copy = bytes.subarray(field.start, field.end);
      const count = Math.min(
        random.pick(REPEAT_COUNTS),
        Math.floor(MUTATED_FRAME_BYTES_MAX / Math.max(1, copy.length)),
      );
      const copies = new Uint8Array(copy.length * count);
      for (let i = 0; i < count; i++) copies.set(copy, i * copy.length);
      return concat(bytes.subarray(0, field.end), copies, bytes.subarray(field.end));
    },
  );

const dropField: Mutator = (bytes, random) =>
  onField(
    bytes,
    random,
    () => true,
    (field) => concat(bytes.subarray(0, field.start), bytes.subarray(field.end)),
  );

/** A mutation inside an embedded message (a tuple, a payload), its length fixed up so the outer frame stays well formed. */
const mutateNested: Mutator = (bytes, random, donor) =>
  onField(
    bytes,
    random,
    (field) => field.wireType === WIRE_LEN && field.end > field.valueStart,
    (field) => {
      const inner = random.pick(PROTOBUF_MUTATORS.filter(([name]) => name !== "nested"))[1](
        bytes.subarray(field.valueStart, field.end),
        random,
        donor,
      );
      return concat(bytes.subarray(0, field.lengthStart), varint(inner.length), inner, bytes.subarray(field.end));
    },
  );

function overwrite(bytes: Uint8Array, random: Prng, width: 2 | 4): Uint8Array {
  if (bytes.length < width) return flipBits(bytes, random);
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const at = random.int(out.length - width + 1);
  const value = random.chance(0.3) ? random.int(out.length * 2) : random.pick(INTERESTING_U32);
  if (width === 2) view.setUint16(at, value & 0xffff, true);
  else view.setUint32(at, value >>> 0, true);
  return out;
}

const overwriteU16: Mutator = (bytes, random) => overwrite(bytes, random, 2);
const overwriteU32: Mutator = (bytes, random) => overwrite(bytes, random, 4);

const changeKind: Mutator = (bytes, random) => {
  const out = bytes.length === 0 ? new Uint8Array(1) : bytes.slice();
  out[0] = random.chance(0.7) ? random.int(10) : random.int(256);
  return out;
};

const BYTE_MUTATORS: ReadonlyArray<readonly [string, Mutator]> = [
  ["bit-flip", flipBits],
  ["insert", insertBytes],
  ["delete", deleteBytes],
  ["truncate", truncate],
  ["splice", splice],
];

const PROTOBUF_MUTATORS: ReadonlyArray<readonly [string, Mutator]> = [
  ...BYTE_MUTATORS,
  ["field-number", changeFieldNumber],
  ["wire-type", changeWireType],
  ["huge-varint", hugeVarint],
  ["length", changeLength],
  ["repeat-field", repeatField],
  ["drop-field", dropField],
  ["nested", mutateNested],
];

const GOSSIP_MUTATORS: ReadonlyArray<readonly [string, Mutator]> = [
  ...BYTE_MUTATORS,
  ["u16", overwriteU16],
  ["u32", overwriteU32],
  ["kind", changeKind],
];

export interface Mutation {
  bytes: Uint8Array;
  /** The mutators applied, in order, joined by "+" (the first names the input in the tallies). */
  names: string[];
}

/** 1 to STACKED_MUTATIONS_MAX mutations of `bytes`, `donor` the other half of any splice. */
export function mutate(format: MessageFormat, bytes: Uint8Array, donor: Uint8Array, random: Prng): Mutation {
  const mutators = format === "protobuf" ? PROTOBUF_MUTATORS : GOSSIP_MUTATORS;
  const names: string[] = [];
  let out = bytes;
  for (let count = 1 + random.int(STACKED_MUTATIONS_MAX); count > 0; count--) {
    const [name, mutator] = random.pick(mutators);
    out = mutator(out, random, donor);
    if (out.length > MUTATED_FRAME_BYTES_MAX) out = out.subarray(0, MUTATED_FRAME_BYTES_MAX);
    names.push(name);
  }
  return { bytes: out, names };
}
