/**
 * Anna's client wire protocol (proto/anna.proto, field numbers exact) encoded and decoded
 * with protobufjs. Lattice payloads stay opaque bytes here: they go into the store as
 * they came off the wire.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as protobuf from "protobufjs";
import { parseEndpoint } from "./zmtp/endpoint";

export enum RequestType {
  RT_UNSPECIFIED = 0,
  GET = 1,
  PUT = 2,
}

export enum AnnaError {
  NO_ERROR = 0,
  KEY_DNE = 1,
  WRONG_THREAD = 2,
  TIMEOUT = 3,
  LATTICE = 4,
  NO_SERVERS = 5,
  /** annakv's: a stamped causal PUT at or below the actor's accept floor or of another epoch (docs/causal-stability.md). */
  STALE_STAMP = 6,
}

export interface KeyTuple {
  key: string;
  lattice_type?: number;
  error?: AnnaError;
  payload?: Uint8Array;
  address_cache_size?: number;
  invalidate?: boolean;
}

export interface KeyRequest {
  type: RequestType;
  tuples: KeyTuple[];
  response_address: string;
  request_id: string;
  /** annakv's extension: replica nodes a PUT asks to hold its value before the answer; absent or 0 = the node's default. */
  put_acks?: number;
}

export interface KeyResponse {
  type: RequestType;
  tuples: KeyTuple[];
  response_id: string;
  error?: AnnaError;
  /** annakv's: the node's stable time in µs (docs/causal-stability.md); 0 or absent: none known. Decoded as a protobufjs Long or a number. */
  stable_micros?: number | { toNumber(): number };
  /** annakv's: the accept floor (µs) a STALE_STAMP refusal was measured against. */
  accept_floor_micros?: number | { toNumber(): number };
  /** annakv's: the epoch of the answering actor, which `stable_micros` belongs to (docs/causal-stability.md §7). */
  stable_epoch?: number | { toNumber(): number };
  /** annakv's: per dot request applied, the dot it was given: key, DOTTED_CAUSAL, a Dot message (docs/causal-dots.md §5). */
  applied_dots?: KeyTuple[];
}

export interface KeyAddressRequest {
  response_address: string;
  keys: string[];
  request_id: string;
}

export interface KeyAddress {
  key: string;
  ips: string[];
}

export interface KeyAddressResponse {
  addresses: KeyAddress[];
  error?: AnnaError;
  response_id: string;
}

/** A KeyResponse's µs (or epoch) extension field as a number (0 when absent); both stay below 2^53. */
export function responseMicros(field: KeyResponse["stable_micros"]): number {
  if (field === undefined || field === null) return 0;
  return typeof field === "number" ? field : field.toNumber();
}

/** Usable reply addresses already checked, per thread; emptied when full. */
const usableAddresses = new Set<string>();
const USABLE_ADDRESSES_MAX = 4096;

/**
 * Reply addresses must be endpoints our PUSH connections reach: `tcp://HOST:PORT` or
 * `ipc://PATH`, of sane length (inproc:// names a socket inside the client's own process).
 * Every request carries its client's address, so each is parsed once, not per request.
 */
export function isUsableResponseAddress(address: string): boolean {
  if (usableAddresses.has(address)) return true;
  if (parseEndpoint(address) === undefined) return false;
  if (usableAddresses.size >= USABLE_ADDRESSES_MAX) usableAddresses.clear();
  usableAddresses.add(address);
  return true;
}

/** A frame that is not a valid message of the expected type. */
export class ProtocolError extends Error {
  readonly code = "MALFORMED";
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

const protoPath = path.resolve(__dirname, "../../proto/anna.proto");
const root = protobuf.parse(readFileSync(protoPath, "utf8"), { keepCase: true }).root;

function messageType(name: string): protobuf.Type {
  return root.lookupType(name);
}

const types = {
  KeyRequest: messageType("KeyRequest"),
  KeyResponse: messageType("KeyResponse"),
  KeyAddressRequest: messageType("KeyAddressRequest"),
  KeyAddressResponse: messageType("KeyAddressResponse"),
};

/**
 * protobufjs's Buffer reader clamps a string that runs past the end of the frame instead of
 * failing, so a truncated frame could decode as a shorter request. This reader refuses it
 * and keeps the fast native UTF-8 decoding (the plain Reader is about 2x slower).
 */
class StrictBufferReader extends protobuf.BufferReader {
  override string(): string {
    const length = this.uint32();
    const start = this.pos;
    const end = start + length;
    if (end > this.len) throw new RangeError(`string of ${length} bytes runs past the end of the frame`);
    this.pos = end;
    return (this.buf as Buffer).toString("utf8", start, end);
  }
}

function asBuffer(frame: Uint8Array): Buffer {
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

function encodeWith<T extends object>(type: protobuf.Type, message: T): Uint8Array {
  return type.encode(message as unknown as protobuf.Message).finish();
}

function decodeMessage(type: protobuf.Type, frame: Uint8Array): protobuf.Message {
  try {
    return type.decode(new StrictBufferReader(asBuffer(frame)));
  } catch (error) {
    throw new ProtocolError(`not a valid ${type.name}: ${(error as Error).message}`);
  }
}

/** A plain object with every proto3 default filled in (absent = zero value). */
function decodeWith<T>(type: protobuf.Type, frame: Uint8Array): T {
  return type.toObject(decodeMessage(type, frame), { defaults: true, arrays: true, longs: Number }) as T;
}

/**
 * Hot paths (requests at the server, responses at clients): the protobufjs message itself, about 2.5x faster than a plain
 * object for a 16-tuple request. Absent fields read as their proto3 defaults through the
 * message's prototype (an absent payload reads as an empty array-like).
 */
function decodeAsMessage<T>(type: protobuf.Type, frame: Uint8Array): T {
  return decodeMessage(type, frame) as unknown as T;
}

export const encodeKeyRequest = (m: KeyRequest) => encodeWith(types.KeyRequest, m);
export const decodeKeyRequest = (f: Uint8Array) => decodeAsMessage<KeyRequest>(types.KeyRequest, f);
export const encodeKeyResponse = (m: KeyResponse) => encodeWith(types.KeyResponse, m);
export const decodeKeyResponse = (f: Uint8Array) => decodeAsMessage<KeyResponse>(types.KeyResponse, f);
export const encodeKeyAddressRequest = (m: KeyAddressRequest) => encodeWith(types.KeyAddressRequest, m);
export const encodeKeyAddressResponse = (m: KeyAddressResponse) => encodeWith(types.KeyAddressResponse, m);
export const decodeKeyAddressResponse = (f: Uint8Array) => decodeWith<KeyAddressResponse>(types.KeyAddressResponse, f);
