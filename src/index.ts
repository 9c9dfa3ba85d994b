/** The public API of annakv. */
export { createStore } from "./core/create-store";
export type { CreateStoreOptions } from "./core/create-store";
export type { Store, StoredValue, StoreStats, ScanPage, EngineName } from "./core/store";
export type { Key } from "./wire/key";
export { StoreError, Status } from "./core/status";
export type { StoreErrorCode } from "./core/status";
export { DEFAULT_LIMITS } from "./core/limits";
export type { StoreLimits } from "./core/limits";
export { LatticeType } from "./lattices/lattice-type";
export { Opcode, BatchWriter, encodeBatch, decodeBatchResults, decodeRecords } from "./core/batch";
export * from "./lattices";
export { AnnaClient, MonotonicMicrosClock } from "./client/anna-client";
export { AnnaClientBase, AnnaClientError } from "./client/base-client";
export type {
  AnnaClientOptions,
  AnnaClientCounters,
  AnnaClientErrorCode,
  ValueRead,
  PutTuple,
  PutOptions,
  PutOutcome,
} from "./client/base-client";
export { ConsistencyError, CommitError } from "./consistency/errors";
export type { ConsistencyErrorCode, Guarantee } from "./consistency/errors";
export type { Isolation, SessionGuarantee, SessionOptions, TransactionOptions } from "./consistency/options";
export type { Session } from "./consistency/session";
export type { CausalSession } from "./consistency/causal-session";
export type { CausalScope, CausalSessionOptions } from "./consistency/causal-options";
export type { CommitResult, Transaction, TransactionState } from "./consistency/transaction";
export type { KeyTransport } from "./consistency/transport";
export { startNode } from "./node/node";
export type { RunningNode } from "./node/node";
export { DEFAULT_NODE_OPTIONS, resolveNodeOptions, OptionError } from "./node/options";
export type { NodeOptions } from "./node/options";
export type { NodeStatus, ActorStatus } from "./node/metrics";
