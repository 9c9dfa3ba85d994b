/** The public API of annakv. */
export { createStore } from "./core/create-store";
export type { CreateStoreOptions } from "./core/create-store";
export type { Store, StoredValue, StoreStats, ScanPage, Key, EngineName } from "./core/store";
export { StoreError, Status } from "./core/status";
export type { StoreErrorCode } from "./core/status";
export { DEFAULT_LIMITS } from "./core/limits";
export type { StoreLimits } from "./core/limits";
export { LatticeType } from "./lattices/lattice-type";
export { Opcode, BatchWriter, encodeBatch, decodeBatchResults, decodeRecords } from "./core/batch";
