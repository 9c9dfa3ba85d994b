/**
 * KeyRequest and KeyResponse frames read and written in place, for the hot path (actors
 * serving requests, the load generator reading replies), and KeyAddressRequests read with
 * their keys bounded (the routing service). A request's tuples are read into KeyTuples,
 * one int32 column per field with keys and payloads as offsets into the frame, and answered
 * in the same columns: serving a request makes no object per tuple, and a key goes from the
 * request frame into the store batch and back into the response frame as bytes, never as a
 * JS string. This is the TypeScript side of request serving (the TS engine's, through
 * actor/request-servers.ts); the Wasm core reads and writes the same frames itself, byte
 * for byte the same (test/actor/request-servers.test.ts). protobufjs (protocol/anna.ts) remains
 * the codec of everything else and the reference these functions are tested against
 * (test/protocol/key-frames.test.ts).
 *
 * Stricter than protobufjs where proto3 allows it: a known field with the wrong wire type,
 * a truncated field, a group, or a key that is not UTF-8 is a malformed frame.
 */
import { isUtf8 } from "node:buffer";
import {
  fieldBytes,
  MalformedPayloadError,
  utf8Text,
  varintBytes,
  WireReader,
  WireType,
  WireWriter,
} from "../wire/protobuf";
import { AnnaError, KeyAddressRequest, ProtocolError, RequestType } from "./anna";
import { TUPLE_COLUMNS } from "../wire/request-table";

/**
 * The tuples of a burst of KeyRequests, one int32 column per field (in this order: the
 * Wasm core's request table has the same columns, docs/wasm-abi.md), reused from burst
 * to burst. As read, a tuple's key and payload are spans of its request's frame. A server
 * answers in place: it sets `error`, `invalidate` and (for a GET) `latticeType`, zeroes
 * `addressCacheSize` (never echoed), and points the payload span at the answer's payload,
 * or sets its length to 0; `status` keeps the store's status of a tuple it ran.
 */
export class KeyTuples {
  count = 0;
  keyStart!: Int32Array;
  keyLength!: Int32Array;
  latticeType!: Int32Array;
  error!: Int32Array;
  payloadStart!: Int32Array;
  payloadLength!: Int32Array;
  /** A uint32 on the wire, kept as its bits: read it with `>>> 0`. */
  addressCacheSize!: Int32Array;
  invalidate!: Int32Array;
  status!: Int32Array;
  /** The key's xxHash64 as int32 halves, where the reader computed it (`hashesKnown`). */
  hashHigh!: Int32Array;
  hashLow!: Int32Array;
  /** Whether hashHigh/hashLow hold the keys' hashes: the Wasm core's table does, readRequest does not. */
  hashesKnown: boolean;
  private readonly fixedCapacity: boolean;

  /**
   * Columns of their own that grow as tuples are added, or the given ones (views of a
   * table someone else fills: they never grow).
   */
  constructor(columns?: readonly Int32Array[]) {
    this.fixedCapacity = columns !== undefined;
    this.hashesKnown = columns !== undefined;
    this.adopt(columns ?? Array.from({ length: TUPLE_COLUMNS }, () => new Int32Array(INITIAL_TUPLE_CAPACITY)));
  }

  /** Reads and writes the tuples in `columns` from now on (the same table's, after its memory moved). */
  adopt(columns: readonly Int32Array[]): void {
    if (columns.length !== TUPLE_COLUMNS)
      throw new RangeError(`KeyTuples takes ${TUPLE_COLUMNS} columns, got ${columns.length}`);
    [
      this.keyStart,
      this.keyLength,
      this.latticeType,
      this.error,
      this.payloadStart,
      this.payloadLength,
      this.addressCacheSize,
      this.invalidate,
      this.status,
      this.hashHigh,
      this.hashLow,
    ] = columns;
  }

  /** Appends a tuple with every field at its proto3 default; returns its index. */
  add(): number {
    if (this.count === this.keyStart.length) this.grow();
    const index = this.count++;
    this.keyStart[index] = 0;
    this.keyLength[index] = 0;
    this.latticeType[index] = 0;
    this.error[index] = AnnaError.NO_ERROR;
    this.payloadStart[index] = 0;
    this.payloadLength[index] = 0;
    this.addressCacheSize[index] = 0;
    this.invalidate[index] = 0;
    this.status[index] = 0;
    this.hashHigh[index] = 0;
    this.hashLow[index] = 0;
    return index;
  }

  private grow(): void {
    if (this.fixedCapacity)
      throw new RangeError(`KeyTuples over given columns holds at most ${this.keyStart.length} tuples`);
    const capacity = this.keyStart.length * 2;
    const grown = (column: Int32Array): Int32Array => {
      const bigger = new Int32Array(capacity);
      bigger.set(column);
      return bigger;
    };
    this.keyStart = grown(this.keyStart);
    this.keyLength = grown(this.keyLength);
    this.latticeType = grown(this.latticeType);
    this.error = grown(this.error);
    this.payloadStart = grown(this.payloadStart);
    this.payloadLength = grown(this.payloadLength);
    this.addressCacheSize = grown(this.addressCacheSize);
    this.invalidate = grown(this.invalidate);
    this.status = grown(this.status);
    this.hashHigh = grown(this.hashHigh);
    this.hashLow = grown(this.hashLow);
  }
}

/**
 * A KeyRequest's or KeyResponse's own fields; its tuples are `tuplesRead` rows of a
 * KeyTuples from `firstTuple`.
 */
export interface FrameHead {
  /** The frame, as a plain Uint8Array: the tuples' key and payload spans and the id are in it. */
  frame: Uint8Array;
  type: number;
  firstTuple: number;
  /** The first `maxTuples` tuples are read (readRequest's bound); `tupleCount` counts them all. */
  tuplesRead: number;
  tupleCount: number;
  /** A request's response_address; empty for a response. */
  responseAddress: string;
  /** A request's request_id, or a response's response_id (which echoes it byte for byte). */
  idStart: number;
  idLength: number;
  /** A response's error, set when the whole request failed; NO_ERROR for a request. */
  error: AnnaError;
  /**
   * A request's put_acks (annakv's extension): the replica nodes a PUT asks to hold its
   * value before the answer, 0 when absent (the node's default); 0 for a response. A uint32
   * as every uint32 field is read: the varint's low 32 bits.
   */
  putAcks: number;
  /** The request's row in the table of the burst it was read with (its index among the burst's frames). */
  row: number;
}

/** Rows a KeyTuples starts with (one burst of a few 16-tuple requests), doubled when full. */
const INITIAL_TUPLE_CAPACITY = 256;

enum TupleField {
  KEY = 1,
  LATTICE_TYPE = 2,
  ERROR = 3,
  PAYLOAD = 4,
  ADDRESS_CACHE_SIZE = 5,
  INVALIDATE = 6,
}

enum RequestField {
  TYPE = 1,
  TUPLES = 2,
  RESPONSE_ADDRESS = 3,
  REQUEST_ID = 4,
  /** annakv's extension of Anna's KeyRequest. */
  PUT_ACKS = 15,
}

enum ResponseField {
  TYPE = 1,
  TUPLES = 2,
  RESPONSE_ID = 3,
  ERROR = 4,
}

enum AddressRequestField {
  RESPONSE_ADDRESS = 1,
  KEYS = 2,
  REQUEST_ID = 3,
}

export interface AddressRequestFrame extends KeyAddressRequest {
  /** Keys in the frame; `keys` holds the first `maxKeys` of them. */
  keyCount: number;
}

/**
 * Reads a KeyRequest, its tuples appended to `tuples`; throws ProtocolError when the frame
 * is not one (and leaves `tuples` as it was). Tuples past `maxTuples` are checked for
 * framing and counted but not read, so that a huge frame of tiny tuples costs no more
 * memory than the bound.
 */
export function readRequest(frame: Uint8Array, tuples: KeyTuples, maxTuples = Infinity): FrameHead {
  const head = emptyHead(frame, tuples);
  try {
    const reader = new WireReader(head.frame);
    while (reader.hasMore()) {
      switch (reader.readTag()) {
        case RequestField.TYPE:
          head.type = readEnum(reader);
          break;
        case RequestField.TUPLES:
          if (head.tupleCount++ < maxTuples) readTuple(reader, tuples);
          else skipLengthDelimited(reader);
          break;
        case RequestField.RESPONSE_ADDRESS:
          head.responseAddress = readResponseAddress(reader);
          break;
        case RequestField.REQUEST_ID:
          head.idStart = reader.readSpan();
          head.idLength = reader.spanLength;
          break;
        case RequestField.PUT_ACKS:
          head.putAcks = reader.readU32();
          break;
        default:
          reader.skipField();
      }
    }
  } catch (error) {
    tuples.count = head.firstTuple;
    throw asProtocolError("KeyRequest", error);
  }
  head.tuplesRead = tuples.count - head.firstTuple;
  return head;
}

/**
 * Reads a KeyAddressRequest; throws ProtocolError when the frame is not one. Keys past
 * `maxKeys` are counted, not decoded: a frame of millions of tiny keys must be refused
 * before it becomes millions of strings. Keys are read as protobufjs reads strings (a bad
 * UTF-8 sequence as U+FFFD).
 */
export function readAddressRequestFrame(frame: Uint8Array, maxKeys = Infinity): AddressRequestFrame {
  const request: AddressRequestFrame = { response_address: "", keys: [], request_id: "", keyCount: 0 };
  try {
    const reader = new WireReader(plainBytes(frame));
    while (reader.hasMore()) {
      switch (reader.readTag()) {
        case AddressRequestField.RESPONSE_ADDRESS:
          request.response_address = reader.readString();
          break;
        case AddressRequestField.KEYS:
          if (request.keyCount++ < maxKeys) request.keys.push(reader.readString());
          else skipLengthDelimited(reader);
          break;
        case AddressRequestField.REQUEST_ID:
          request.request_id = reader.readString();
          break;
        default:
          reader.skipField();
      }
    }
  } catch (error) {
    throw asProtocolError("KeyAddressRequest", error);
  }
  return request;
}

/** Reads a KeyResponse, its tuples appended to `tuples`; throws ProtocolError when the frame is not one (`tuples` left as it was). */
export function readResponse(frame: Uint8Array, tuples: KeyTuples): FrameHead {
  const head = emptyHead(frame, tuples);
  try {
    const reader = new WireReader(head.frame);
    while (reader.hasMore()) {
      switch (reader.readTag()) {
        case ResponseField.TYPE:
          head.type = readEnum(reader);
          break;
        case ResponseField.TUPLES:
          head.tupleCount++;
          readTuple(reader, tuples);
          break;
        case ResponseField.RESPONSE_ID:
          head.idStart = reader.readSpan();
          head.idLength = reader.spanLength;
          break;
        case ResponseField.ERROR:
          head.error = readEnum(reader);
          break;
        default:
          reader.skipField();
      }
    }
  } catch (error) {
    tuples.count = head.firstTuple;
    throw asProtocolError("KeyResponse", error);
  }
  head.tuplesRead = tuples.count - head.firstTuple;
  return head;
}

/** A head with every field at its proto3 default, its tuples to come after the rows `tuples` has. */
function emptyHead(frame: Uint8Array, tuples: KeyTuples): FrameHead {
  return {
    frame: plainBytes(frame),
    type: RequestType.RT_UNSPECIFIED,
    firstTuple: tuples.count,
    tuplesRead: 0,
    tupleCount: 0,
    responseAddress: "",
    idStart: 0,
    idLength: 0,
    error: AnnaError.NO_ERROR,
    putAcks: 0,
    row: 0,
  };
}

/** Each tuple's encoded size, from writeResponse's sizing pass to its writing pass; reused, grown when short. */
let tupleSizes = new Int32Array(INITIAL_TUPLE_CAPACITY);

/**
 * Encodes the response to the request `head` into one exactly sized Buffer: its tuples as
 * answered in `tuples` (keys from the request frame, payloads from `payloads`), response_id
 * the request's request_id, error the head's.
 */
export function writeResponse(head: FrameHead, tuples: KeyTuples, payloads: Uint8Array): Buffer {
  const frame = head.frame;
  const first = head.firstTuple;
  const end = first + head.tuplesRead;
  if (tupleSizes.length < head.tuplesRead) tupleSizes = new Int32Array(head.tuplesRead);
  let length = enumBytes(head.type) + spanFieldBytes(head.idLength) + enumBytes(head.error);
  for (let i = first; i < end; i++) {
    tupleSizes[i - first] = tupleBytes(tuples, i);
    length += fieldBytes(tupleSizes[i - first]);
  }
  const writer = new WireWriter(length, Buffer.allocUnsafe(length));
  writeEnum(writer, ResponseField.TYPE, head.type);
  for (let i = first; i < end; i++) {
    writer.lengthPrefix(ResponseField.TUPLES, tupleSizes[i - first]);
    const keyLength = tuples.keyLength[i];
    if (keyLength > 0) writer.bytesSpanField(TupleField.KEY, frame, tuples.keyStart[i], keyLength);
    writeEnum(writer, TupleField.LATTICE_TYPE, tuples.latticeType[i]);
    writeEnum(writer, TupleField.ERROR, tuples.error[i]);
    const payloadLength = tuples.payloadLength[i];
    if (payloadLength > 0) writer.bytesSpanField(TupleField.PAYLOAD, payloads, tuples.payloadStart[i], payloadLength);
    writeUint32(writer, TupleField.ADDRESS_CACHE_SIZE, tuples.addressCacheSize[i] >>> 0);
    if (tuples.invalidate[i] !== 0) writeUint32(writer, TupleField.INVALIDATE, 1);
  }
  if (head.idLength > 0) writer.bytesSpanField(ResponseField.RESPONSE_ID, frame, head.idStart, head.idLength);
  writeEnum(writer, ResponseField.ERROR, head.error);
  return writer.finish() as Buffer;
}

/**
 * The frame as a plain Uint8Array over the same memory: the views still made of it (long
 * payloads copied into the store batch, sampled keys, address strings) then come from the
 * typed array's own subarray, cheaper than Buffer's (frames arrive as Buffer views of the
 * chunks a socket read).
 */
function plainBytes(frame: Uint8Array): Uint8Array {
  return Buffer.isBuffer(frame) ? new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength) : frame;
}

/** Reads one tuple (an embedded message) into a new row of `tuples`. */
function readTuple(reader: WireReader, tuples: KeyTuples): void {
  const index = tuples.add();
  const outerLimit = reader.enterMessage();
  while (reader.hasMore()) {
    switch (reader.readTag()) {
      case TupleField.KEY:
        tuples.keyStart[index] = reader.readSpan();
        tuples.keyLength[index] = reader.spanLength;
        if (!isUtf8Span(reader.bytes, tuples.keyStart[index], reader.spanLength))
          throw new MalformedPayloadError("key is not UTF-8");
        break;
      case TupleField.LATTICE_TYPE:
        tuples.latticeType[index] = readEnum(reader);
        break;
      case TupleField.ERROR:
        tuples.error[index] = readEnum(reader);
        break;
      case TupleField.PAYLOAD:
        tuples.payloadStart[index] = reader.readSpan();
        tuples.payloadLength[index] = reader.spanLength;
        break;
      case TupleField.ADDRESS_CACHE_SIZE:
        tuples.addressCacheSize[index] = reader.readU32() | 0;
        break;
      case TupleField.INVALIDATE:
        tuples.invalidate[index] = reader.readU32() !== 0 ? 1 : 0;
        break;
      default:
        reader.skipField();
    }
  }
  reader.leaveMessage(outerLimit);
}

function skipLengthDelimited(reader: WireReader): void {
  reader.expect(WireType.LENGTH_DELIMITED);
  reader.skipField();
}

/** proto3 strings are UTF-8; keys are mostly short ASCII, checked without a native call. */
function isUtf8Span(bytes: Uint8Array, start: number, length: number): boolean {
  const end = start + length;
  for (let i = start; i < end; i++) if (bytes[i] >= 0x80) return isUtf8(bytes.subarray(start, end));
  return true;
}

/** Enums are int32 on the wire: a negative value is a 10-byte varint whose low bits we keep. */
function readEnum(reader: WireReader): number {
  return reader.readU32() | 0;
}

/**
 * A client sends every request with the same response address: the last one read is kept
 * with its bytes (in a buffer reused from one address to the next, so that requests from
 * many clients in turn allocate nothing for it), and a request whose address has the same
 * bytes gets the same string without decoding it again.
 */
let lastAddressBytes = new Uint8Array(256);
let lastAddressLength = -1;
let lastAddress = "";

function readResponseAddress(reader: WireReader): string {
  const start = reader.readSpan();
  return responseAddressAt(reader.bytes, start, reader.spanLength);
}

/** The response address that is `length` bytes of `bytes` from `start`, as a string (a bad UTF-8 sequence as U+FFFD). */
export function responseAddressAt(bytes: Uint8Array, start: number, length: number): string {
  if (!isLastAddress(bytes, start, length)) {
    lastAddress = utf8Text(bytes.subarray(start, start + length));
    if (length > lastAddressBytes.length) lastAddressBytes = new Uint8Array(length);
    lastAddressBytes.set(bytes.subarray(start, start + length));
    lastAddressLength = length;
  }
  return lastAddress;
}

function isLastAddress(bytes: Uint8Array, start: number, length: number): boolean {
  if (length !== lastAddressLength) return false;
  for (let i = 0; i < length; i++) if (bytes[start + i] !== lastAddressBytes[i]) return false;
  return true;
}

/** Bytes of row `index`'s fields as writeResponse writes them. */
function tupleBytes(tuples: KeyTuples, index: number): number {
  const length =
    enumBytes(tuples.latticeType[index]) +
    enumBytes(tuples.error[index]) +
    uint32Bytes(tuples.addressCacheSize[index] >>> 0) +
    (tuples.invalidate[index] !== 0 ? 2 : 0);
  return length + spanFieldBytes(tuples.keyLength[index]) + spanFieldBytes(tuples.payloadLength[index]);
}

/** A bytes or string field of `length` bytes, or nothing when empty (proto3's default). */
function spanFieldBytes(length: number): number {
  return length === 0 ? 0 : fieldBytes(length);
}

/** A one-byte tag and a varint, or nothing for proto3's default 0. */
function uint32Bytes(value: number): number {
  return value === 0 ? 0 : 1 + varintBytes(0, value);
}

/** As uint32Bytes, for an int32 enum: a negative one takes a sign-extended 10-byte varint. */
function enumBytes(value: number): number {
  return value < 0 ? 11 : uint32Bytes(value);
}

function writeUint32(writer: WireWriter, field: number, value: number): void {
  if (value === 0) return;
  writer.tag(field, WireType.VARINT);
  writer.varint(0, value);
}

function writeEnum(writer: WireWriter, field: number, value: number): void {
  if (value >= 0) return writeUint32(writer, field, value);
  writer.tag(field, WireType.VARINT);
  writer.varint(0xffffffff, value >>> 0);
}

function asProtocolError(message: string, error: unknown): Error {
  if (error instanceof MalformedPayloadError) return new ProtocolError(`not a valid ${message}: ${error.reason}`);
  return error as Error;
}
