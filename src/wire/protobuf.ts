/**
 * The slice of protobuf's wire format that lattice payloads (with the MALFORMED rules of
 * docs/wasm-abi.md) and the hot-path Key frames (protocol/key-frames.ts) use. Decoding
 * reads views of the input (no copies); encoding sizes a message first and writes it into
 * one exact allocation.
 */
import { U64 } from "./u64";

/** Thrown by the reader on any MALFORMED rule; mergePayloads turns it into a status. */
export class MalformedPayloadError extends Error {
  /** The store's status name for this failure (core/status.ts). */
  readonly code = "MALFORMED";

  constructor(readonly reason: string) {
    super(`malformed payload: ${reason}`);
    this.name = "MalformedPayloadError";
  }
}

export enum WireType {
  VARINT = 0,
  FIXED64 = 1,
  LENGTH_DELIMITED = 2,
  FIXED32 = 5,
}

/** Protobuf's varints are at most 10 bytes; the 10th holds bit 63 and bits that are dropped. */
const VARINT_BYTES_MAX = 10;
/** Stands for any field number of 2^29 or more: none is a known field. */
const FIELD_NUMBER_UNKNOWN = 0x20000000;
const TWO_POW_32 = 2 ** 32;

export class WireReader {
  readonly bytes: Uint8Array;
  private position = 0;
  private limit: number;
  /** Made on the first double read: most messages have none. */
  private view: DataView | undefined;
  /** The wire type of the field whose tag was read last. */
  wireType = 0;
  /** The last varint read, as unsigned 32-bit halves (its low 64 bits). */
  varintHigh = 0;
  varintLow = 0;
  /** The length of the field last read by readSpan. */
  spanLength = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.limit = bytes.length;
  }

  /** Whether the current message has more fields. */
  hasMore(): boolean {
    return this.position < this.limit;
  }

  /** Reads a tag and returns its field number; the wire type is left in `wireType`. */
  readTag(): number {
    this.readVarint();
    const wireType = this.varintLow & 7;
    if (wireType === 3 || wireType === 4 || wireType === 6 || wireType === 7) {
      throw new MalformedPayloadError(`wire type ${wireType}`);
    }
    this.wireType = wireType;
    if (this.varintHigh !== 0) return FIELD_NUMBER_UNKNOWN;
    const fieldNumber = this.varintLow >>> 3;
    if (fieldNumber === 0) throw new MalformedPayloadError("field number 0");
    return fieldNumber;
  }

  /** A known field must come with its own wire type. */
  expect(wireType: WireType): void {
    if (this.wireType !== wireType) {
      throw new MalformedPayloadError(`wire type ${this.wireType} where ${wireType} is expected`);
    }
  }

  readVarint(): void {
    let low = 0;
    let high = 0;
    for (let index = 0; index < VARINT_BYTES_MAX; index++) {
      if (this.position >= this.limit) throw new MalformedPayloadError("truncated varint");
      const byte = this.bytes[this.position++];
      const bits = byte & 0x7f;
      if (index < 4) low |= bits << (7 * index);
      else if (index === 4) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else high |= bits << (7 * index - 32);
      if (byte < 0x80) {
        this.varintLow = low >>> 0;
        this.varintHigh = high >>> 0;
        return;
      }
    }
    throw new MalformedPayloadError("varint longer than 10 bytes");
  }

  readU64(): U64 {
    this.expect(WireType.VARINT);
    this.readVarint();
    return { high: this.varintHigh, low: this.varintLow };
  }

  /** A `uint64` field that holds a safe integer (µs stamps); MalformedPayloadError past 2^53. */
  readSafeUint(): number {
    const { high, low } = this.readU64();
    const value = high * TWO_POW_32 + low;
    if (!Number.isSafeInteger(value)) throw new MalformedPayloadError("uint64 past 2^53");
    return value;
  }

  /** A `uint32` field keeps the varint's low 32 bits. */
  readU32(): number {
    this.expect(WireType.VARINT);
    this.readVarint();
    return this.varintLow;
  }

  readDouble(): number {
    this.expect(WireType.FIXED64);
    this.need(8);
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  /** A length-delimited field's contents, as a view of the input. */
  readBytes(): Uint8Array {
    const start = this.readSpan();
    return this.bytes.subarray(start, this.position);
  }

  /**
   * A length-delimited field's contents in place, for readers that keep offsets instead of
   * views: returns where they start in the input and leaves their length in `spanLength`.
   */
  readSpan(): number {
    this.expect(WireType.LENGTH_DELIMITED);
    const length = this.readLength();
    const start = this.position;
    this.position += length;
    this.spanLength = length;
    return start;
  }

  /** A string field: its bytes as UTF-8 (a bad sequence reads as U+FFFD, as in protobufjs). */
  readString(): string {
    return utf8Text(this.readBytes());
  }

  /** Narrows the reader to an embedded message; returns what `leaveMessage` restores. */
  enterMessage(): number {
    this.expect(WireType.LENGTH_DELIMITED);
    const length = this.readLength();
    const outerLimit = this.limit;
    this.limit = this.position + length;
    return outerLimit;
  }

  leaveMessage(outerLimit: number): void {
    this.limit = outerLimit;
  }

  skipField(): void {
    switch (this.wireType) {
      case WireType.VARINT:
        this.readVarint();
        return;
      case WireType.FIXED64:
        this.skip(8);
        return;
      case WireType.LENGTH_DELIMITED:
        this.skip(this.readLength());
        return;
      default:
        this.skip(4);
    }
  }

  private readLength(): number {
    this.readVarint();
    if (this.varintHigh !== 0 || this.varintLow > this.limit - this.position) {
      throw new MalformedPayloadError("length past the end");
    }
    return this.varintLow;
  }

  private need(bytes: number): void {
    if (this.limit - this.position < bytes) throw new MalformedPayloadError("truncated field");
  }

  private skip(bytes: number): void {
    this.need(bytes);
    this.position += bytes;
  }
}

const utf8 = new TextDecoder();

/** Up to this many bytes, a JS loop copies faster than a view and a native set (~50 ns each). */
const LOOP_COPY_MAX_BYTES = 24;

/** Copies `length` bytes of `source` from `start` into `target` at `at`, without a view for short runs (keys). */
export function copyBytes(source: Uint8Array, start: number, length: number, target: Uint8Array, at: number): void {
  if (length <= LOOP_COPY_MAX_BYTES) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i];
  } else if (start === 0 && length === source.length) target.set(source, at);
  else target.set(source.subarray(start, start + length), at);
}

/** Bytes read as UTF-8 text, as string fields are. */
export function utf8Text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Bytes of the varint of an unsigned value given as 32-bit halves. */
export function varintBytes(high: number, low: number): number {
  if (high === 0) {
    if (low < 0x80) return 1;
    if (low < 0x4000) return 2;
    if (low < 0x200000) return 3;
    if (low < 0x10000000) return 4;
    return 5;
  }
  if (high < 0x8) return 5;
  if (high < 0x400) return 6;
  if (high < 0x20000) return 7;
  if (high < 0x1000000) return 8;
  if (high < 0x80000000) return 9;
  return 10;
}

/** Bytes of the varint of a non-negative safe integer (µs stamps). */
export function safeUintBytes(value: number): number {
  return varintBytes(Math.floor(value / TWO_POW_32), value >>> 0);
}

/** Bytes of a one-byte tag plus a length-delimited body of `bodyBytes`. */
export function fieldBytes(bodyBytes: number): number {
  return 1 + varintBytes(0, bodyBytes) + bodyBytes;
}

/** Writes into an exactly sized buffer; every field number in our messages fits a one-byte tag. */
export class WireWriter {
  readonly bytes: Uint8Array;
  private position = 0;

  /** `bytes`, when given, is the exactly sized target (e.g. a Buffer to send). */
  constructor(length: number, bytes: Uint8Array = new Uint8Array(length)) {
    if (bytes.length !== length) throw new RangeError(`target of ${bytes.length} bytes for a message of ${length}`);
    this.bytes = bytes;
  }

  tag(fieldNumber: number, wireType: WireType): void {
    this.bytes[this.position++] = (fieldNumber << 3) | wireType;
  }

  varint(high: number, low: number): void {
    while (high !== 0 || low >= 0x80) {
      this.bytes[this.position++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.bytes[this.position++] = low;
  }

  /** The varint of a non-negative safe integer (µs stamps). */
  safeUint(value: number): void {
    this.varint(Math.floor(value / TWO_POW_32), value >>> 0);
  }

  /** A length-delimited field's tag and length; the caller writes the body next. */
  lengthPrefix(fieldNumber: number, bodyBytes: number): void {
    this.tag(fieldNumber, WireType.LENGTH_DELIMITED);
    this.varint(0, bodyBytes);
  }

  bytesField(fieldNumber: number, value: Uint8Array): void {
    this.bytesSpanField(fieldNumber, value, 0, value.length);
  }

  /** A bytes field whose contents are `length` bytes of `source` from `start`. */
  bytesSpanField(fieldNumber: number, source: Uint8Array, start: number, length: number): void {
    this.lengthPrefix(fieldNumber, length);
    copyBytes(source, start, length, this.bytes, this.position);
    this.position += length;
  }

  double(fieldNumber: number, value: number): void {
    this.tag(fieldNumber, WireType.FIXED64);
    new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).setFloat64(
      this.position,
      value,
      true,
    );
    this.position += 8;
  }

  /** The finished message; asserts that the size computed beforehand was exact. */
  finish(): Uint8Array {
    if (this.position !== this.bytes.length) {
      throw new Error(`encoder wrote ${this.position} bytes into ${this.bytes.length}`);
    }
    return this.bytes;
  }
}
