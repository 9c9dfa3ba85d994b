/**
 * What the consistency levels need of a cluster: the narrow face that AnnaClientBase
 * implements over ZeroMQ and the tests' simulated cluster implements in process
 * (test/support/sim-cluster.ts). The value types live here, on the floor that both the
 * client and the levels stand on; the client re-exports them.
 */
import type { LatticeType } from "../lattices/lattice-type";

export interface ValueRead {
  type: LatticeType;
  payload: Uint8Array;
}

export interface PutTuple {
  key: string;
  type: LatticeType;
  payload: Uint8Array;
}

/** Per-call options of a PUT. */
export interface PutOptions {
  /** Replica nodes that must hold the merged value before the node answers, instead of the client's `putAcks`; 0: the node's default. */
  acks?: number;
}

/** What became of one key's write; `error` is what the transport would have thrown for it (AnnaClientError for AnnaClient). */
export type PutOutcome =
  /** A replica merged it: visible there, and on the others once gossip carries it. */
  | { readonly status: "applied" }
  /** A replica refused it (a wrong, conflicting or malformed value, or one over its limits): not stored. */
  | { readonly status: "refused"; readonly error: Error }
  /** No replica answered in time, or fewer replica nodes hold it than asked: it may be stored. */
  | { readonly status: "unknown"; readonly error: Error };

export interface KeyTransport {
  /** One replica's value of each key (another replica's where one is silent); absent keys map to undefined. Rejects when a key has no answer. */
  getMany(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>>;
  /**
   * Sends the writes, grouped into one request per replica, and settles with one outcome
   * per key instead of failing on the first. Rejects only when the call fails as a whole
   * (the client closed, no routing answer, no replica at all, a key given twice); writes
   * that an earlier attempt sent may then have been applied.
   */
  putManySettled(puts: readonly PutTuple[], options?: PutOptions): Promise<Map<string, PutOutcome>>;
  /** The replicas that hold `key`, by address. */
  replicasOf(key: string): Promise<string[]>;
  /** The values one replica holds, without failing over: what a convergence check compares. */
  getFromReplica(replica: string, keys: readonly string[]): Promise<Map<string, ValueRead | undefined>>;
}
