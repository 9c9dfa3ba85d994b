/**
 * KeyRequest and KeyResponse frames read and written in place, for the hot path (actors
 * serving requests, the load generator reading replies), and KeyAddressRequests read with
 * their keys bounded (the routing service). Keys, payloads and ids stay
 * views of the frame they came in: a key goes from the request frame into the store
 * batch and back into the response frame as bytes, never as a JS string. protobufjs
 * (protocol/anna.ts) remains the codec of everything else and the reference these
 * functions are tested against (test/protocol/key-frames.test.ts).
 *
 * Stricter than protobufjs where proto3 allows it: a known field with the wrong wire type,
 * a truncated field, a group, or a key that is not UTF-8 is a malformed frame.
 */
import { isUtf8 } from "node:buffer";
import { fieldBytes, MalformedPayloadError, utf8Text, varintBytes, WireReader, WireType, WireWriter } from "../lattices/wire";
import { AnnaError, KeyAddressRequest, ProtocolError, RequestType } from "./anna";

/**
 * One KeyTuple, of a request or a response, as views of its frame. Absent fields read as
 * proto3 defaults (0, false, empty) and fields at their default are not written.
 */
export interface FrameTuple {
  key: Uint8Array;
  latticeType: number;
  error: AnnaError;
  payload: Uint8Array;
  addressCacheSize: number;
  invalidate: boolean;
}

export interface RequestFrame {
  type: number;
  /** The first `maxTuples` tuples (readRequestFrame's bound); `tupleCount` counts them all. */
  tuples: FrameTuple[];
  tupleCount: number;
  responseAddress: string;
  /** Echoed as the response's response_id, byte for byte. */
  requestId: Uint8Array;
}

export interface ResponseFrame {
  type: number;
  tuples: FrameTuple[];
  responseId: Uint8Array;
  /** Set only when the whole request failed. */
  error: AnnaError;
}

const EMPTY = new Uint8Array(0);

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
 * Reads a KeyRequest; throws ProtocolError when the frame is not one. Tuples past
 * `maxTuples` are checked for framing and counted but not read, so that a huge frame of
 * tiny tuples costs no more memory than the bound.
 */
export function readRequestFrame(frame: Uint8Array, maxTuples = Infinity): RequestFrame {
  const request: RequestFrame = { type: RequestType.RT_UNSPECIFIED, tuples: [], tupleCount: 0, responseAddress: "", requestId: EMPTY };
  try {
    const reader = new WireReader(plainBytes(frame));
    while (reader.hasMore()) {
      switch (reader.readTag()) {
        case RequestField.TYPE:
          request.type = readEnum(reader);
          break;
        case RequestField.TUPLES:
          if (request.tupleCount++ < maxTuples) request.tuples.push(readTuple(reader));
          else skipLengthDelimited(reader);
          break;
        case RequestField.RESPONSE_ADDRESS:
          request.responseAddress = readResponseAddress(reader);
          break;
        case RequestField.REQUEST_ID:
          request.requestId = reader.readBytes();
          break;
        default:
          reader.skipField();
      }
    }
  } catch (error) {
    throw asProtocolError("KeyRequest", error);
  }
  return request;
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

/** Reads a KeyResponse; throws ProtocolError when the frame is not one. */
export function readResponseFrame(frame: Uint8Array): ResponseFrame {
  const response: ResponseFrame = { type: RequestType.RT_UNSPECIFIED, tuples: [], responseId: EMPTY, error: AnnaError.NO_ERROR };
  try {
    const reader = new WireReader(plainBytes(frame));
    while (reader.hasMore()) {
      switch (reader.readTag()) {
        case ResponseField.TYPE:
          response.type = readEnum(reader);
          break;
        case ResponseField.TUPLES:
          response.tuples.push(readTuple(reader));
          break;
        case ResponseField.RESPONSE_ID:
          response.responseId = reader.readBytes();
          break;
        case ResponseField.ERROR:
          response.error = readEnum(reader);
          break;
        default:
          reader.skipField();
      }
    }
  } catch (error) {
    throw asProtocolError("KeyResponse", error);
  }
  return response;
}

/** Encodes a KeyResponse into one exactly sized Buffer. */
export function writeResponseFrame(response: ResponseFrame): Buffer {
  const tupleLengths = new Int32Array(response.tuples.length);
  let length = enumBytes(response.type) + bytesFieldBytes(response.responseId) + enumBytes(response.error);
  for (let i = 0; i < response.tuples.length; i++) {
    tupleLengths[i] = tupleBytes(response.tuples[i]);
    length += fieldBytes(tupleLengths[i]);
  }
  const writer = new WireWriter(length, Buffer.allocUnsafe(length));
  writeEnum(writer, ResponseField.TYPE, response.type);
  for (let i = 0; i < response.tuples.length; i++) {
    const tuple = response.tuples[i];
    writer.lengthPrefix(ResponseField.TUPLES, tupleLengths[i]);
    if (tuple.key.length > 0) writer.bytesField(TupleField.KEY, tuple.key);
    writeEnum(writer, TupleField.LATTICE_TYPE, tuple.latticeType);
    writeEnum(writer, TupleField.ERROR, tuple.error);
    if (tuple.payload.length > 0) writer.bytesField(TupleField.PAYLOAD, tuple.payload);
    writeUint32(writer, TupleField.ADDRESS_CACHE_SIZE, tuple.addressCacheSize);
    if (tuple.invalidate) writeUint32(writer, TupleField.INVALIDATE, 1);
  }
  if (response.responseId.length > 0) writer.bytesField(ResponseField.RESPONSE_ID, response.responseId);
  writeEnum(writer, ResponseField.ERROR, response.error);
  return writer.finish() as Buffer;
}

/** An empty tuple: proto3 defaults everywhere. */
export function frameTuple(key: Uint8Array = EMPTY): FrameTuple {
  return { key, latticeType: 0, error: AnnaError.NO_ERROR, payload: EMPTY, addressCacheSize: 0, invalidate: false };
}

/**
 * The frame as a plain Uint8Array over the same memory: views of it are made by the
 * typed array's own subarray, cheaper than Buffer's (zeromq.js hands out Buffers).
 */
function plainBytes(frame: Uint8Array): Uint8Array {
  return Buffer.isBuffer(frame) ? new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength) : frame;
}

function readTuple(reader: WireReader): FrameTuple {
  const tuple = frameTuple();
  const outerLimit = reader.enterMessage();
  while (reader.hasMore()) {
    switch (reader.readTag()) {
      case TupleField.KEY:
        tuple.key = reader.readBytes();
        if (!isUtf8Key(tuple.key)) throw new MalformedPayloadError("key is not UTF-8");
        break;
      case TupleField.LATTICE_TYPE:
        tuple.latticeType = readEnum(reader);
        break;
      case TupleField.ERROR:
        tuple.error = readEnum(reader);
        break;
      case TupleField.PAYLOAD:
        tuple.payload = reader.readBytes();
        break;
      case TupleField.ADDRESS_CACHE_SIZE:
        tuple.addressCacheSize = reader.readU32();
        break;
      case TupleField.INVALIDATE:
        tuple.invalidate = reader.readU32() !== 0;
        break;
      default:
        reader.skipField();
    }
  }
  reader.leaveMessage(outerLimit);
  return tuple;
}

function skipLengthDelimited(reader: WireReader): void {
  reader.expect(WireType.LENGTH_DELIMITED);
  reader.skipField();
}

/** proto3 strings are UTF-8; keys are mostly short ASCII, checked without a native call. */
function isUtf8Key(key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (key[i] >= 0x80) return isUtf8(key);
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
  const bytes = reader.readBytes();
  if (!isLastAddress(bytes)) {
    lastAddress = utf8Text(bytes);
    if (bytes.length > lastAddressBytes.length) lastAddressBytes = new Uint8Array(bytes.length);
    lastAddressBytes.set(bytes);
    lastAddressLength = bytes.length;
  }
  return lastAddress;
}

function isLastAddress(bytes: Uint8Array): boolean {
  if (bytes.length !== lastAddressLength) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== lastAddressBytes[i]) return false;
  return true;
}

function tupleBytes(tuple: FrameTuple): number {
  const length = enumBytes(tuple.latticeType) + enumBytes(tuple.error) + uint32Bytes(tuple.addressCacheSize) + (tuple.invalidate ? 2 : 0);
  return length + bytesFieldBytes(tuple.key) + bytesFieldBytes(tuple.payload);
}

/** A bytes or string field, or nothing when empty (proto3's default). */
function bytesFieldBytes(value: Uint8Array): number {
  return value.length === 0 ? 0 : fieldBytes(value.length);
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
