/**
 * The Store: one actor's private key-value state. Two engines implement it with identical
 * results: WasmStore (build/annakv.wasm) and TsStore (plain TypeScript, the reference
 * model). Every method that fails throws StoreError and leaves the store unchanged.
 */
import { LatticeType } from "../lattices/lattice-type";
import type { Key } from "../wire/key";

export type EngineName = "wasm" | "ts";

export interface StoredValue {
  type: LatticeType;
  /** The canonical encoding (docs/wasm-abi.md); a copy the caller owns. */
  payload: Uint8Array;
}

export interface StoreStats {
  keyCount: number;
  /** Bytes held for keys, values and the table's own structures. */
  bytesUsed: number;
  /** Memory the engine has reserved (Wasm: linear memory size; TS: an estimate). */
  memoryReservedBytes: number;
  dirtyKeyCount: number;
  /**
   * A batch's PUTs skipped because the next operation, a newer PUT of the same key,
   * superseded them (assembly/superseded.ts); always 0 for the TS twin, which runs each.
   */
  supersededWriteCount: number;
}

export interface ScanPage {
  /** Records (docs/wasm-abi.md, "Record format"); decode with decodeRecords. */
  records: Uint8Array;
  /** Pass to the next scan call; 0 when the scan is over. */
  nextCursor: number;
}

export interface Store {
  readonly engine: EngineName;
  /**
   * A client's write: merges `payload` into the key's value; marks the key dirty if the value
   * changed. OUT_OF_MEMORY once it would take the memory in use into the merge headroom
   * (limits.ts, mergeHeadroomBytes), which is kept for merges.
   */
  put(key: Key, type: LatticeType, payload: Uint8Array): void;
  /** As put, but never marks the key dirty and may use the merge headroom: for values received by gossip. */
  merge(key: Key, type: LatticeType, payload: Uint8Array): void;
  get(key: Key): StoredValue | undefined;
  /** Removes the key; false if it was absent. */
  delete(key: Key): boolean;
  readonly size: number;
  stats(): StoreStats;
  /**
   * Runs a batch (docs/wasm-abi.md, "Batch format") and returns its output. The output
   * may be a view into engine memory, valid until the next call on this store.
   */
  executeBatch(batch: Uint8Array): Uint8Array;
  /**
   * Gives a writable buffer of at least `bytes` bytes for the next executeBatch, so the
   * batch can be written in place (no copy into Wasm memory). Valid until the next call.
   */
  batchBuffer(bytes: number): Uint8Array;
  /** Runs the batch already written into the last batchBuffer. */
  executeBatchInPlace(length: number): Uint8Array;
  /** Records of dirty keys, clearing their marks; empty when none is dirty. */
  drainDirty(maxBytes: number): Uint8Array;
  /** Clears every dirty mark without reading a value (nobody to gossip to); returns how many. */
  discardDirty(): number;
  /** One page of a scan over all keys; start with cursor 0. */
  scan(cursor: number, maxBytes: number): ScanPage;
}
