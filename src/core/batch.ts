/**
 * The batch and record formats of docs/wasm-abi.md, written and read in one place for
 * both engines, the actors and the tests. Little-endian throughout.
 */
import { LatticeType } from "../lattices/lattice-type";
import { copyBytes } from "../wire/protobuf";
import { Status } from "./status";

export enum Opcode {
  GET = 1,
  PUT = 2,
  DELETE = 3,
  /** A PUT that never marks the key dirty: for values that arrive by gossip. */
  MERGE = 4,
}

export const BATCH_HEADER_BYTES = 4;
/** opcode u8, latticeType u8, keyLength u32, payloadLength u32. */
export const OP_HEADER_BYTES = 10;
/** status u8, latticeType u8, payloadLength u32. */
export const RESULT_HEADER_BYTES = 6;
/** latticeType u8, keyLength u32, payloadLength u32. */
export const RECORD_HEADER_BYTES = 9;

const EMPTY = new Uint8Array(0);

/** Bytes one operation takes in a batch. */
export function opBytes(keyLength: number, payloadLength: number): number {
  return OP_HEADER_BYTES + keyLength + payloadLength;
}

/**
 * Writes operations into a caller-sized buffer, so that the Wasm engine can hand out a
 * region of its own memory and the batch never gets copied.
 */
export class BatchWriter {
  private view: DataView;
  private offset = BATCH_HEADER_BYTES;
  private opCount = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  add(opcode: Opcode, type: LatticeType, key: Uint8Array, payload: Uint8Array = EMPTY): this {
    return this.addSpans(opcode, type, key, 0, key.length, payload, 0, payload.length);
  }

  /** An operation whose key and payload are spans of other buffers (a request frame), copied from there. */
  addSpans(
    opcode: Opcode,
    type: LatticeType,
    keySource: Uint8Array,
    keyStart: number,
    keyLength: number,
    payloadSource: Uint8Array,
    payloadStart: number,
    payloadLength: number,
  ): this {
    const needed = opBytes(keyLength, payloadLength);
    const offset = this.offset;
    if (offset + needed > this.bytes.length) {
      throw new RangeError(`batch buffer of ${this.bytes.length} bytes is too small`);
    }
    const keyAt = writeOpHeader(this.view, offset, opcode, type, keyLength, payloadLength);
    copyBytes(keySource, keyStart, keyLength, this.bytes, keyAt);
    copyBytes(payloadSource, payloadStart, payloadLength, this.bytes, keyAt + keyLength);
    this.offset = offset + needed;
    this.opCount++;
    return this;
  }

  /** Writes the op count and returns the batch's length in bytes. */
  finish(): number {
    writeBatchHeader(this.view, this.opCount);
    return this.offset;
  }
}

/**
 * Writes one op's header at `offset` of a batch and nothing else; returns where its key
 * goes (its payload follows the key). For a writer whose key or payload bytes already lie
 * in place, as request bytes read straight into the batch would; the caller checks that
 * the op fits.
 */
export function writeOpHeader(
  view: DataView,
  offset: number,
  opcode: Opcode,
  type: LatticeType,
  keyLength: number,
  payloadLength: number,
): number {
  view.setUint8(offset, opcode);
  view.setUint8(offset + 1, type);
  view.setUint32(offset + 2, keyLength, true);
  view.setUint32(offset + 6, payloadLength, true);
  return offset + OP_HEADER_BYTES;
}

/** Writes the batch header (its op count) at the start of the batch. */
export function writeBatchHeader(view: DataView, opCount: number): void {
  view.setUint32(0, opCount, true);
}

export interface BatchOp {
  opcode: Opcode;
  type: LatticeType;
  key: Uint8Array;
  payload?: Uint8Array;
}

/** Encodes operations into a fresh buffer (tests and tools; the hot path sizes its own). */
export function encodeBatch(ops: readonly BatchOp[]): Uint8Array {
  let length = BATCH_HEADER_BYTES;
  for (const op of ops) length += opBytes(op.key.length, op.payload?.length ?? 0);
  const bytes = new Uint8Array(length);
  const writer = new BatchWriter(bytes);
  for (const op of ops) writer.add(op.opcode, op.type, op.key, op.payload);
  const written = writer.finish();
  if (written !== length) throw new Error(`batch length ${written} != ${length}`);
  return bytes;
}

export interface BatchResult {
  status: Status;
  type: LatticeType;
  /** A view into the output buffer, valid as long as it is. */
  payload: Uint8Array;
}

/** Reads a batch output (docs/wasm-abi.md, "Batch format"). */
export function decodeBatchResults(output: Uint8Array): BatchResult[] {
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  const count = view.getUint32(0, true);
  const results: BatchResult[] = new Array(count);
  let offset = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const status = view.getUint8(offset) as Status;
    const type = view.getUint8(offset + 1) as LatticeType;
    const length = view.getUint32(offset + 2, true);
    const start = offset + RESULT_HEADER_BYTES;
    results[i] = { status, type, payload: output.subarray(start, start + length) };
    offset = start + length;
  }
  if (offset !== output.length) {
    throw new Error(`batch output has ${output.length - offset} trailing bytes`);
  }
  return results;
}

export interface StoreRecord {
  type: LatticeType;
  key: Uint8Array;
  payload: Uint8Array;
}

/** Reads records (docs/wasm-abi.md, "Record format"), as views into `bytes`. */
export function decodeRecords(bytes: Uint8Array): StoreRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: StoreRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const type = view.getUint8(offset) as LatticeType;
    const keyLength = view.getUint32(offset + 1, true);
    const payloadLength = view.getUint32(offset + 5, true);
    const keyStart = offset + RECORD_HEADER_BYTES;
    const payloadStart = keyStart + keyLength;
    records.push({
      type,
      key: bytes.subarray(keyStart, payloadStart),
      payload: bytes.subarray(payloadStart, payloadStart + payloadLength),
    });
    offset = payloadStart + payloadLength;
  }
  if (offset !== bytes.length) throw new Error("record buffer ends inside a record");
  return records;
}

/** Appends one record to `out` at `offset`; returns the new offset. Used by the TS engine. */
export function writeRecord(
  out: Uint8Array,
  offset: number,
  type: LatticeType,
  key: Uint8Array,
  payload: Uint8Array,
): number {
  out[offset] = type;
  const view = new DataView(out.buffer, out.byteOffset + offset + 1, 8);
  view.setUint32(0, key.length, true);
  view.setUint32(4, payload.length, true);
  out.set(key, offset + RECORD_HEADER_BYTES);
  out.set(payload, offset + RECORD_HEADER_BYTES + key.length);
  return offset + RECORD_HEADER_BYTES + key.length + payload.length;
}
