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
  /**
   * The stable time the answering node reported with it (docs/causal-stability.md), in µs:
   * that replica held every stamped MULTI_CAUSAL version of the key at or below it. Absent
   * where the node reported none.
   */
  stableMicros?: number;
  /** The epoch the answering actor was in, which `stableMicros` belongs to (docs/causal-stability.md §7); absent: none reported. */
  stableEpoch?: number;
}

/** What a response said of the stable time: its µs (0: none) and the answering actor's epoch (0: none). */
export interface StableReport {
  readonly micros: number;
  readonly epoch: number;
}

export interface PutTuple {
  key: string;
  type: LatticeType;
  payload: Uint8Array;
}

/** Per-call options of a GET. */
export interface GetOptions {
  /**
   * Absent keys come back as values of type NONE with an empty payload and the answering
   * replica's `stableMicros`, instead of undefined: a multi-key causal read must know that
   * the replica that found a key absent holds every version stamped up to then
   * (docs/causal-stability.md).
   */
  absentAsValues?: boolean;
}

/** Per-call options of a PUT. */
export interface PutOptions {
  /** Replica nodes that must hold the merged value before the node answers, instead of the client's `putAcks`; 0: the node's default. */
  acks?: number;
  /**
   * Never send a write to a second replica while the first may have applied it: one a
   * replica did not answer is unknown at once, not tried on the next one (one it refused,
   * WRONG_THREAD, still goes by routing again). For writes that must not be applied twice,
   * such as dot requests (docs/protocol.md).
   */
  sendOnce?: boolean;
}

/** What became of one key's write; `error` is what the transport would have thrown for it (AnnaClientError for AnnaClient). */
export type PutOutcome =
  /**
   * A replica merged it: visible there, and on the others once gossip carries it.
   * `stableMicros`, `stableEpoch`: as ValueRead's. `dot`: for a dot request, the dot the
   * replica gave its version (a Dot message, docs/protocol.md "Dot requests").
   */
  | {
      readonly status: "applied";
      readonly stableMicros?: number;
      readonly stableEpoch?: number;
      readonly dot?: Uint8Array;
    }
  /**
   * A replica refused it (a wrong, conflicting or malformed value, or one over its limits;
   * sent by putToReplica, a key that replica does not hold): not stored. `acceptFloorMicros`:
   * refused for a stamp at or below that accept floor, or of another epoch than `epoch`
   * (STALE_STAMP, docs/causal-stability.md); a later stamp in that epoch is taken.
   * `replica`: the one that refused it, by address as `replicasOf` names it (absent where
   * the transport does not say). `notHeld`: that replica does not hold the key (it moved
   * since, as putToReplica may find): routing finds the replicas that do.
   */
  | {
      readonly status: "refused";
      readonly error: Error;
      readonly acceptFloorMicros?: number;
      readonly epoch?: number;
      readonly replica?: string;
      readonly notHeld?: boolean;
    }
  /** No replica answered in time, or fewer replica nodes hold it than asked: it may be stored. */
  | { readonly status: "unknown"; readonly error: Error };

export interface KeyTransport {
  /** One replica's value of each key (another replica's where one is silent); absent keys map to undefined. Rejects when a key has no answer. */
  getMany(keys: readonly string[], options?: GetOptions): Promise<Map<string, ValueRead | undefined>>;
  /**
   * Sends the writes, grouped into one request per replica, and settles with one outcome
   * per key instead of failing on the first. Rejects only when the call fails as a whole
   * (the client closed, no routing answer, no replica at all, a key given twice); writes
   * that an earlier attempt sent may then have been applied.
   */
  putManySettled(puts: readonly PutTuple[], options?: PutOptions): Promise<Map<string, PutOutcome>>;
  /**
   * Sends the writes to one replica alone, without failing over, and settles as
   * putManySettled does: unknown where it does not answer, refused where it does not hold
   * the key. How a write refused STALE_STAMP goes again to the replica that refused it,
   * whose epoch it is now stamped in, where routing might pick a replica of another epoch.
   */
  putToReplica(replica: string, puts: readonly PutTuple[], options?: PutOptions): Promise<Map<string, PutOutcome>>;
  /** The replicas that hold `key`, by address. */
  replicasOf(key: string): Promise<string[]>;
  /** The values one replica holds, without failing over: what a convergence check compares. */
  getFromReplica(
    replica: string,
    keys: readonly string[],
    options?: GetOptions,
  ): Promise<Map<string, ValueRead | undefined>>;
}
