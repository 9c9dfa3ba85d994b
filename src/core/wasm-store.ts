/**
 * WasmStore: the Store contract over build/annakv.wasm (docs/wasm-abi.md), a thin face
 * that writes keys and payloads into the instance's input region and calls one export
 * per operation. The module is compiled once per process; worker threads get it from
 * loadWasmModule() and instantiate their own store (own memory).
 */
import { instantiateSync } from "@assemblyscript/loader";
import * as fs from "fs";
import * as path from "path";
import type { LatticeType } from "../lattices/lattice-type";
import type { StoreLimits } from "./limits";
import { keyBytes, writeUtf8 } from "../wire/key";
import { mergeHeadroomBytes, WASM_PAGE_BYTES } from "./limits";
import { REQUEST_COLUMNS, TUPLE_COLUMNS } from "../wire/request-table";
import { Status, StoreError, statusToError } from "./status";
import type { Key } from "../wire/key";
import type { ScanPage, Store, StoredValue, StoreStats } from "./store";

/** The exports of annakv.wasm (docs/wasm-abi.md, version ABI_VERSION below); pointers and lengths arrive as signed i32. */
interface CoreExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  configure(maxKeyBytes: number, maxValueBytes: number, maxMemoryPages: number, mergeHeadroomPages: number): number;
  inputBuffer(bytes: number): number;
  outputPtr(): number;
  outputLength(): number;
  resultType(): number;
  get(keyLength: number): number;
  put(latticeType: number, keyLength: number, payloadLength: number): number;
  merge(latticeType: number, keyLength: number, payloadLength: number): number;
  remove(keyLength: number): number;
  batch(inputLength: number): number;
  drainDirty(maxBytes: number): number;
  dirtyCount(): number;
  discardDirty(): number;
  scan(cursor: number, maxBytes: number): number;
  keyCount(): number;
  bytesUsed(): number;
  memoryBytes(): number;
  supersededWrites(): number;
  hashKey(keyLength: number): number;
  requestTable(requests: number, tuples: number): number;
  countRequests(inputLength: number, frameCount: number, maxTuplesPerRequest: number): number;
  parseRequests(inputLength: number, frameCount: number, maxTuplesPerRequest: number): number;
  serveRequests(requestCount: number): number;
}

const ABI_VERSION = 8;
const WASM_PATH = path.resolve(__dirname, "../../build/annakv.wasm");
/** The input region is asked for in steps of at least this, so most calls reuse it. */
const INPUT_BYTES_MIN = 64 * 1024;
/** scan and drainDirty's answer when not even one record fits in memory (-1 as i32). */
const NO_ROOM = -1;
const EMPTY = new Uint8Array(0);

let compiledModule: WebAssembly.Module | undefined;

/** build/annakv.wasm, compiled once per process (post it to worker threads). */
export function loadWasmModule(): WebAssembly.Module {
  if (compiledModule === undefined) compiledModule = new WebAssembly.Module(fs.readFileSync(WASM_PATH));
  return compiledModule;
}

export class WasmStore implements Store {
  readonly engine = "wasm" as const;
  private readonly core: CoreExports;
  /** A view of the whole memory; re-created when growth detaches it (length 0). */
  private bytes: Uint8Array;
  private inputPtr = 0;
  private inputCapacity = 0;
  private readonly maxKeyBytes: number;
  private readonly maxValueBytes: number;

  constructor(limits: StoreLimits, module: WebAssembly.Module = loadWasmModule()) {
    this.maxKeyBytes = limits.maxKeyBytes;
    this.maxValueBytes = limits.maxValueBytes;
    // The loader supplies env.abort, which throws an Error carrying the core's message.
    const { instance } = instantiateSync<Record<string, unknown>>(module, {});
    this.core = instance.exports as unknown as CoreExports;
    if (this.core.abiVersion() !== ABI_VERSION)
      throw new Error(`annakv.wasm ABI ${this.core.abiVersion()} != ${ABI_VERSION}`);
    const maxMemoryPages = Math.floor(limits.maxMemoryBytes / WASM_PAGE_BYTES);
    const headroomPages = mergeHeadroomBytes(limits.maxMemoryBytes) / WASM_PAGE_BYTES;
    if (this.core.configure(limits.maxKeyBytes, limits.maxValueBytes, maxMemoryPages, headroomPages) !== Status.OK) {
      throw new RangeError(
        `limits out of range for the Wasm engine (maxMemoryBytes must be at least ${WASM_PAGE_BYTES})`,
      );
    }
    this.bytes = new Uint8Array(this.core.memory.buffer);
  }

  get size(): number {
    return this.core.keyCount();
  }

  put(key: Key, type: LatticeType, payload: Uint8Array): void {
    const keyLength = this.writeKeyAndPayload(key, payload);
    const status = this.core.put(type, keyLength, payload.length);
    if (status !== Status.OK) throw statusToError(status);
  }

  merge(key: Key, type: LatticeType, payload: Uint8Array): void {
    const keyLength = this.writeKeyAndPayload(key, payload);
    const status = this.core.merge(type, keyLength, payload.length);
    if (status !== Status.OK) throw statusToError(status);
  }

  get(key: Key): StoredValue | undefined {
    const status = this.core.get(this.writeKey(key, 0));
    if (status === Status.NOT_FOUND) return undefined;
    if (status !== Status.OK) throw statusToError(status);
    return { type: this.core.resultType() as LatticeType, payload: this.output().slice() };
  }

  delete(key: Key): boolean {
    const status = this.core.remove(this.writeKey(key, 0));
    if (status === Status.NOT_FOUND) return false;
    if (status !== Status.OK) throw statusToError(status);
    return true;
  }

  stats(): StoreStats {
    return {
      keyCount: this.core.keyCount(),
      bytesUsed: this.core.bytesUsed(),
      memoryReservedBytes: this.core.memoryBytes(),
      dirtyKeyCount: this.core.dirtyCount(),
      supersededWriteCount: this.core.supersededWrites(),
    };
  }

  executeBatch(batch: Uint8Array): Uint8Array {
    this.batchBuffer(batch.length).set(batch);
    return this.executeBatchInPlace(batch.length);
  }

  batchBuffer(bytes: number): Uint8Array {
    this.reserveInput(bytes);
    return this.memory().subarray(this.inputPtr, this.inputPtr + bytes);
  }

  executeBatchInPlace(length: number): Uint8Array {
    if (length > this.inputCapacity) throw new RangeError(`batch of ${length} bytes is longer than batchBuffer`);
    const status = this.core.batch(length);
    if (status !== Status.OK) throw statusToError(status);
    return this.output();
  }

  discardDirty(): number {
    return this.core.discardDirty();
  }

  drainDirty(maxBytes: number): Uint8Array {
    const count = this.core.drainDirty(maxBytes);
    if (count === NO_ROOM) throw statusToError(Status.OUT_OF_MEMORY);
    return count === 0 ? EMPTY : this.output();
  }

  scan(cursor: number, maxBytes: number): ScanPage {
    if (!Number.isSafeInteger(cursor) || cursor < 0 || cursor > 0x7fffffff)
      throw new RangeError(`bad scan cursor ${cursor}`);
    const nextCursor = this.core.scan(cursor, maxBytes);
    if (nextCursor === NO_ROOM) throw statusToError(Status.OUT_OF_MEMORY);
    return { records: this.output(), nextCursor };
  }

  /** xxHash64 (seed 0) of the key as the core computes it: 8 bytes, little-endian. */
  hashKey(key: Key): Uint8Array {
    const bytes = keyBytes(key);
    this.reserveInput(bytes.length);
    this.memory().set(bytes, this.inputPtr);
    const status = this.core.hashKey(bytes.length);
    if (status !== Status.OK) throw statusToError(status);
    return this.output().slice();
  }

  /**
   * The request table holding exactly `requests` request rows and `tuples` tuple rows, as
   * one view per column (indexed by RequestColumn, and in KeyTuples' order). Views of the
   * memory go stale when it grows, which any call into the core may do.
   */
  requestTable(requests: number, tuples: number): { requestColumns: Int32Array[]; tupleColumns: Int32Array[] } {
    const ptr = this.core.requestTable(requests, tuples) >>> 0;
    if (ptr === 0)
      throw new StoreError("OUT_OF_MEMORY", `no request table of ${requests} requests and ${tuples} tuples`);
    const buffer = this.core.memory.buffer;
    const cellBytes = Int32Array.BYTES_PER_ELEMENT;
    const columnsOf = (count: number, rows: number, start: number) =>
      Array.from({ length: count }, (_, column) => new Int32Array(buffer, start + column * rows * cellBytes, rows));
    return {
      requestColumns: columnsOf(REQUEST_COLUMNS, requests, ptr),
      tupleColumns: columnsOf(TUPLE_COLUMNS, tuples, ptr + REQUEST_COLUMNS * requests * cellBytes),
    };
  }

  /** The tuple rows parseRequests will need (at most) for the frames written into the last batchBuffer. */
  countRequests(inputLength: number, frameCount: number, maxTuplesPerRequest: number): number {
    if (inputLength > this.inputCapacity)
      throw new RangeError(`${inputLength} bytes of frames is longer than batchBuffer`);
    const tuples = this.core.countRequests(inputLength, frameCount, maxTuplesPerRequest);
    if (tuples === NO_ROOM) throw new RangeError("request frames overrun the input");
    return tuples >>> 0;
  }

  /**
   * Reads the `frameCount` KeyRequest frames written into the last batchBuffer (each a u32
   * length, then its bytes) into the request table; returns the tuple rows used, or
   * undefined when the table is too small for them (countRequests says how many they need).
   */
  parseRequests(inputLength: number, frameCount: number, maxTuplesPerRequest: number): number | undefined {
    if (inputLength > this.inputCapacity)
      throw new RangeError(`${inputLength} bytes of frames is longer than batchBuffer`);
    const tuples = this.core.parseRequests(inputLength, frameCount, maxTuplesPerRequest);
    return tuples === NO_ROOM ? undefined : tuples >>> 0;
  }

  /** Answers the table's first `requestCount` requests marked to serve; returns the output holding their KeyResponses. */
  serveRequests(requestCount: number): Uint8Array {
    const status = this.core.serveRequests(requestCount);
    if (status !== Status.OK) throw statusToError(status);
    return this.output();
  }

  /** The whole memory, where the request table's spans point; stale once the memory grows. */
  memoryView(): Uint8Array {
    return this.memory();
  }

  /** The memory view, fresh: any call into the core may have grown (and detached) it. */
  private memory(): Uint8Array {
    if (this.bytes.byteLength === 0) this.bytes = new Uint8Array(this.core.memory.buffer);
    return this.bytes;
  }

  private output(): Uint8Array {
    const start = this.core.outputPtr() >>> 0;
    return this.memory().subarray(start, start + (this.core.outputLength() >>> 0));
  }

  private reserveInput(bytes: number): void {
    if (bytes <= this.inputCapacity) return;
    const capacity = Math.max(bytes, INPUT_BYTES_MIN, Math.min(this.inputCapacity * 2, 0x7fffffff));
    const ptr = this.core.inputBuffer(capacity) >>> 0;
    if (ptr === 0) {
      this.inputPtr = 0;
      this.inputCapacity = 0;
      throw new StoreError("OUT_OF_MEMORY", `no input region of ${capacity} bytes`);
    }
    this.inputPtr = ptr;
    this.inputCapacity = capacity;
  }

  /**
   * Writes key then payload at the input region; returns the key's length in bytes. A
   * payload over the limit is not copied: the core rejects it by its length alone, and
   * copying it could fail for memory first (the check order puts VALUE_TOO_LARGE first).
   */
  private writeKeyAndPayload(key: Key, payload: Uint8Array): number {
    if (payload.length > this.maxValueBytes) return this.writeKey(key, 0);
    const keyLength = this.writeKey(key, payload.length);
    if (keyLength <= this.maxKeyBytes) this.memory().set(payload, this.inputPtr + keyLength);
    return keyLength;
  }

  /**
   * Writes the key at the input region with room for `payloadLength` more bytes; returns
   * the key's length in bytes. A key over the limit is not copied (the core rejects it by
   * its length: a string's UTF-8 length is at least its UTF-16 length).
   */
  private writeKey(key: Key, payloadLength: number): number {
    if (key.length > this.maxKeyBytes) return key.length;
    if (typeof key !== "string") {
      this.reserveInput(key.length + payloadLength);
      this.memory().set(key, this.inputPtr);
      return key.length;
    }
    this.reserveInput(key.length * 3 + payloadLength);
    return writeUtf8(key, this.memory(), this.inputPtr);
  }
}
