/**
 * An independent protobuf writer for test payloads: random field order, repeats, unknown
 * fields and corruptions, so the engines are checked against inputs their own encoders
 * would never produce.
 */
import { Random } from "./random";

export class ProtoWriter {
  private readonly bytes: number[] = [];

  varint(value: bigint): this {
    let v = BigInt.asUintN(64, value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      this.bytes.push(byte);
    } while (v > 0n);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(BigInt((field << 3) | wireType));
  }

  lengthDelimited(field: number, body: Uint8Array): this {
    this.tag(field, 2).varint(BigInt(body.length));
    for (const byte of body) this.bytes.push(byte);
    return this;
  }

  double(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(8));
    buffer.setFloat64(0, value, true);
    this.tag(field, 1);
    for (let i = 0; i < 8; i++) this.bytes.push(buffer.getUint8(i));
    return this;
  }

  /** A field number the payload messages do not define, so decoders must skip it. */
  unknownField(random: Random): this {
    const field = 10 + random.int(20);
    switch (random.int(4)) {
      case 0:
        return this.tag(field, 0).varint(BigInt(random.int(1 << 30)));
      case 1:
        return this.double(field, random.next());
      case 2:
        return this.lengthDelimited(field, random.bytes(random.int(5)));
      default:
        this.tag(field, 5);
        for (let i = 0; i < 4; i++) this.bytes.push(random.int(256));
        return this;
    }
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const alphabet = Array.from(new TextEncoder().encode("abcdxyz"));

/** Small byte strings so that sets and clocks collide often. */
export function smallBytes(random: Random, maxLength = 4): Uint8Array {
  const out = new Uint8Array(random.int(maxLength + 1));
  for (let i = 0; i < out.length; i++) out[i] = random.chance(0.9) ? random.pick(alphabet) : random.int(256);
  return out;
}

function maybeUnknown(writer: ProtoWriter, random: Random): void {
  if (random.chance(0.1)) writer.unknownField(random);
}

function clockEntries(writer: ProtoWriter, field: number, random: Random): void {
  const count = random.int(4);
  for (let i = 0; i < count; i++) {
    const entry = new ProtoWriter();
    const parts = random.int(4);
    if (parts !== 1) entry.lengthDelimited(1, smallBytes(random, 2));
    if (parts !== 2) entry.tag(2, 0).varint(BigInt(random.chance(0.1) ? 0 : random.int(5)));
    if (parts === 3) entry.unknownField(random);
    writer.lengthDelimited(field, entry.finish());
  }
}

const SIBLING_CLOCK_IDS = ["", "a", "b"].map((id) => new TextEncoder().encode(id));

/** A Dot {id 1, counter 2} over two ids and small counters; now and then an empty id, a zero counter or a field left out (MALFORMED). */
function dotBytes(random: Random): Uint8Array {
  const dot = new ProtoWriter();
  if (random.chance(0.97))
    dot.lengthDelimited(1, random.chance(0.02) ? SIBLING_CLOCK_IDS[0] : random.pick(SIBLING_CLOCK_IDS.slice(1)));
  if (random.chance(0.97)) dot.tag(2, 0).varint(BigInt(random.chance(0.02) ? 0 : 1 + random.int(5)));
  maybeUnknown(dot, random);
  return dot.finish();
}

/**
 * DottedCausalValue (src/lattices/dotted-causal.ts): a context of vector entries and cloud
 * dots, and versions whose dots the context often names (so the join drops them) and
 * sometimes does not (canonicalization adds them), one dot now and then twice with other
 * values; contexts and versions in any order, sometimes two context fields.
 */
function dottedCausalFields(writer: ProtoWriter, random: Random, valueBytes: () => Uint8Array): void {
  for (let part = random.int(5); part > 0; part--) {
    if (random.chance(0.4)) {
      const context = new ProtoWriter();
      clockEntries(context, 1, random);
      for (let i = random.int(3); i > 0; i--) context.lengthDelimited(2, dotBytes(random));
      maybeUnknown(context, random);
      writer.lengthDelimited(1, context.finish());
    } else {
      const version = new ProtoWriter();
      if (random.chance(0.98)) version.lengthDelimited(1, dotBytes(random));
      if (random.chance(0.9)) version.lengthDelimited(2, valueBytes());
      maybeUnknown(version, random);
      writer.lengthDelimited(2, version.finish());
    }
  }
  maybeUnknown(writer, random);
}

/**
 * A value of a causal set: mostly a CausalEnvelope (docs/consistency.md §2.7) over three
 * ids and small counters, so that one sibling often dominates another and the merge drops
 * it; sometimes one a strict decoder must leave bare (keys out of order, an explicit empty
 * key, a zero or too large counter, a field after the value); sometimes a plain value.
 */
function siblingBytes(random: Random, valueBytes: () => Uint8Array): Uint8Array {
  if (random.chance(0.3)) return valueBytes();
  const ids = SIBLING_CLOCK_IDS.filter(() => random.chance(0.6));
  if (random.chance(0.05)) ids.reverse();
  const envelope = new ProtoWriter();
  for (const id of ids) {
    const entry = new ProtoWriter();
    if (id.length > 0 || random.chance(0.05)) entry.lengthDelimited(1, id);
    const odd = random.chance(0.05);
    entry.tag(2, 0).varint(odd ? random.pick([0n, 2n ** 32n]) : BigInt(1 + random.int(3)));
    envelope.lengthDelimited(1, entry.finish());
  }
  envelope.lengthDelimited(2, smallBytes(random, 2));
  if (random.chance(0.03)) envelope.unknownField(random);
  return envelope.finish();
}

/** An LWW write id: small so that ties collide, sometimes at or past the limit of 64 bytes (MALFORMED). */
function writeIdBytes(random: Random): Uint8Array {
  if (random.chance(0.05)) return random.bytes(64 + random.int(3));
  return smallBytes(random, 2);
}

/** LWW stamps on both sides of the window W (5 s of µs), so that versions are pruned by the committed stamp. */
const WINDOW_STAMPS = [0n, 1n, 3n, 4_999_999n, 5_000_000n, 5_000_003n, 9_000_000n, 2n ** 64n - 1n];

function stampVarint(writer: ProtoWriter, field: number, random: Random): void {
  writer.tag(field, 0).varint(random.chance(0.5) ? random.pick(WINDOW_STAMPS) : BigInt(random.int(6)));
}

/**
 * Write-set keys (fields 14, LWWVersion 4): usually small so sets collide, sometimes wide
 * (30 to 64 keys, so that unions pass the 64 a join keeps), rarely past the limits of 64
 * keys or 1024 bytes a key (MALFORMED).
 */
function writeSetKeys(writer: ProtoWriter, field: number, random: Random, wideChance = 0.1): void {
  const wide = random.chance(wideChance);
  const count = wide ? 40 + random.int(25) : random.chance(0.01) ? 65 : random.int(4);
  for (let i = 0; i < count; i++) {
    const key = random.chance(0.002) ? random.bytes(1025) : smallBytes(random, wide ? 3 : 2);
    writer.lengthDelimited(field, key);
  }
}

/** An LWWVersion (field 15): any field order, repeats, unknown fields, a committed flag of any non-zero varint. */
function lwwVersion(random: Random, valueBytes: () => Uint8Array, crowded: boolean): Uint8Array {
  const wideChance = crowded ? 0.5 : 0.1;
  const version = new ProtoWriter();
  if (random.chance(0.3)) writeSetKeys(version, 4, random, wideChance);
  if (random.chance(0.8)) stampVarint(version, 1, random);
  if (random.chance(0.6)) version.lengthDelimited(2, writeIdBytes(random));
  maybeUnknown(version, random);
  if (random.chance(0.7)) version.lengthDelimited(3, valueBytes());
  // Crowded windows are mostly prepared versions: committed ones past the 4th greatest are pruned.
  if (random.chance(crowded ? 0.1 : 0.5)) version.tag(5, 0).varint(random.chance(0.1) ? BigInt(random.int(300)) : 1n);
  if (random.chance(0.05)) stampVarint(version, 1, random);
  return version.finish();
}

/**
 * Read atomic's fields of an LWWValue: a write set (14) and versions (15). `crowded` ones
 * carry many versions and wide write sets, so that joins pass the 32 versions and 4
 * committed ones a window keeps and the 64 keys a write set keeps; rarely 33 versions
 * (MALFORMED).
 */
function lwwWindowFields(writer: ProtoWriter, random: Random, valueBytes: () => Uint8Array, crowded: boolean): void {
  if (random.chance(0.5)) writeSetKeys(writer, 14, random, crowded ? 0.5 : 0.1);
  const count = random.chance(0.01) ? 33 : crowded ? 16 + random.int(17) : random.int(5);
  for (let i = 0; i < count; i++) writer.lengthDelimited(15, lwwVersion(random, valueBytes, crowded));
}

/**
 * A random, well-framed payload of a lattice type (1..6). LWW payloads carry read atomic's
 * fields now and then, or always with `lwwWindow` "crowded" (many versions, wide write sets).
 */
export function randomPayload(
  random: Random,
  type: number,
  maxValueBytes = 16,
  lwwWindow: "sometimes" | "crowded" = "sometimes",
): Uint8Array {
  const writer = new ProtoWriter();
  const valueBytes = () => (random.chance(0.05) ? random.bytes(random.int(maxValueBytes * 4)) : smallBytes(random));
  switch (type) {
    case 1: {
      // LWWValue; the write id (field 13) and read atomic's fields (14, 15) go before, between or after the others.
      const writeIdAt = random.chance(0.4) ? random.int(3) : -1;
      const crowded = lwwWindow === "crowded";
      const windowAt = crowded || random.chance(0.3) ? random.int(3) : -1;
      if (writeIdAt === 0) writer.lengthDelimited(13, writeIdBytes(random));
      if (windowAt === 0) lwwWindowFields(writer, random, valueBytes, crowded);
      if (random.chance(0.9) && windowAt >= 0) stampVarint(writer, 1, random);
      else if (random.chance(0.9))
        writer.tag(1, 0).varint(random.chance(0.05) ? 2n ** 64n - 1n - BigInt(random.int(3)) : BigInt(random.int(6)));
      maybeUnknown(writer, random);
      if (writeIdAt === 1) writer.lengthDelimited(13, writeIdBytes(random));
      if (windowAt === 1) lwwWindowFields(writer, random, valueBytes, crowded);
      if (random.chance(0.9)) writer.lengthDelimited(2, valueBytes());
      if (random.chance(0.05)) writer.tag(1, 0).varint(BigInt(random.int(6)));
      if (writeIdAt === 2) writer.lengthDelimited(13, writeIdBytes(random));
      if (windowAt === 2) lwwWindowFields(writer, random, valueBytes, crowded);
      break;
    }
    case 2:
    case 5: // SetValue
      for (let i = random.int(5); i > 0; i--) {
        writer.lengthDelimited(1, valueBytes());
        maybeUnknown(writer, random);
      }
      break;
    case 3: // SingleKeyCausalValue
      if (random.chance(0.5)) clockEntries(writer, 1, random);
      for (let i = random.int(3); i > 0; i--) writer.lengthDelimited(2, siblingBytes(random, valueBytes));
      if (random.chance(0.5)) clockEntries(writer, 1, random);
      break;
    case 4: // MultiKeyCausalValue
      clockEntries(writer, 1, random);
      for (let i = random.int(3); i > 0; i--) {
        const dependency = new ProtoWriter();
        if (random.chance(0.9)) dependency.lengthDelimited(1, smallBytes(random, 2));
        clockEntries(dependency, 2, random);
        writer.lengthDelimited(2, dependency.finish());
      }
      for (let i = random.int(3); i > 0; i--) writer.lengthDelimited(3, siblingBytes(random, valueBytes));
      maybeUnknown(writer, random);
      break;
    case 16: // annakv's DottedCausalValue
      dottedCausalFields(writer, random, valueBytes);
      break;
    case 6: // PriorityValue
      if (random.chance(0.9))
        writer.double(1, random.pick([0, -0, 1.5, -2, 3, Infinity, -Infinity, NaN, random.next()]));
      maybeUnknown(writer, random);
      if (random.chance(0.9)) writer.lengthDelimited(2, valueBytes());
      break;
    default:
      for (let i = random.int(4); i > 0; i--) writer.lengthDelimited(1, valueBytes());
  }
  return writer.finish();
}

/** A payload damaged in one of the ways MALFORMED covers (or random bytes). */
export function corruptPayload(random: Random, payload: Uint8Array): Uint8Array {
  switch (random.int(5)) {
    case 0:
      return payload.length > 0 ? payload.subarray(0, random.int(payload.length)) : Uint8Array.of(0x0a);
    case 1:
      return random.bytes(1 + random.int(24));
    case 2:
      return Uint8Array.from([...payload, 0x0b]); // wire type 3 (group start)
    case 3:
      return Uint8Array.from([...payload, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]); // 11-byte varint
    default:
      return Uint8Array.from([...payload, 0x0a, 0x7f]); // length past the end
  }
}

/** A DottedCausalValue from a context (vector entries, cloud dots) and versions (id, counter, value), as given (not canonical). */
export function dottedCausalPayload(
  vector: Record<string, number>,
  cloud: readonly (readonly [string, number])[],
  versions: readonly (readonly [string, number, string])[],
): Uint8Array {
  const utf8 = new TextEncoder();
  const dot = (id: string, counter: number) =>
    new ProtoWriter().lengthDelimited(1, utf8.encode(id)).tag(2, 0).varint(BigInt(counter)).finish();
  const context = new ProtoWriter();
  for (const [id, counter] of Object.entries(vector)) context.lengthDelimited(1, dot(id, counter));
  for (const [id, counter] of cloud) context.lengthDelimited(2, dot(id, counter));
  const writer = new ProtoWriter().lengthDelimited(1, context.finish());
  for (const [id, counter, value] of versions)
    writer.lengthDelimited(
      2,
      new ProtoWriter().lengthDelimited(1, dot(id, counter)).lengthDelimited(2, utf8.encode(value)).finish(),
    );
  return writer.finish();
}
