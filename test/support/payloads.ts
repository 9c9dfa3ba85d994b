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

/** An LWW write id: small so that ties collide, sometimes at or past the limit of 64 bytes (MALFORMED). */
function writeIdBytes(random: Random): Uint8Array {
  if (random.chance(0.05)) return random.bytes(64 + random.int(3));
  return smallBytes(random, 2);
}

/** A random, well-framed payload of a lattice type (1..6). */
export function randomPayload(random: Random, type: number, maxValueBytes = 16): Uint8Array {
  const writer = new ProtoWriter();
  const valueBytes = () => (random.chance(0.05) ? random.bytes(random.int(maxValueBytes * 4)) : smallBytes(random));
  switch (type) {
    case 1: {
      // LWWValue; the write id (field 13) goes before, between or after the other fields.
      const writeIdAt = random.chance(0.4) ? random.int(3) : -1;
      if (writeIdAt === 0) writer.lengthDelimited(13, writeIdBytes(random));
      if (random.chance(0.9))
        writer.tag(1, 0).varint(random.chance(0.05) ? 2n ** 64n - 1n - BigInt(random.int(3)) : BigInt(random.int(6)));
      maybeUnknown(writer, random);
      if (writeIdAt === 1) writer.lengthDelimited(13, writeIdBytes(random));
      if (random.chance(0.9)) writer.lengthDelimited(2, valueBytes());
      if (random.chance(0.05)) writer.tag(1, 0).varint(BigInt(random.int(6)));
      if (writeIdAt === 2) writer.lengthDelimited(13, writeIdBytes(random));
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
      for (let i = random.int(3); i > 0; i--) writer.lengthDelimited(2, valueBytes());
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
      for (let i = random.int(3); i > 0; i--) writer.lengthDelimited(3, valueBytes());
      maybeUnknown(writer, random);
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
