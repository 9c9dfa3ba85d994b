/**
 * An actor's counters: what `annakv status` and /metrics show. Plain numbers, posted to
 * the main thread every statsIntervalMs; the main thread never reads actor memory.
 */
import type { StoreStats } from "../core/store";

export interface ActorCounters {
  /** KeyRequests served: answered with their tuples' results (a request whose serving threw counts in requestsFailed instead). */
  requests: number;
  /** KeyRequests whose planning or serving threw: answered LATTICE where that reply could still be written, else unanswered (both logged). */
  requestsFailed: number;
  /**
   * Exceptions the actor caught and carried on after, by where they were thrown (ErrorPlace):
   * each logged with what it dropped, at most once per 5 s per place with the count since.
   */
  errorsContained: Record<string, number>;
  getTuples: number;
  putTuples: number;
  /**
   * Tuples answered with an error, by cause: WRONG_THREAD, or the store's status name
   * (NOT_FOUND is answered as Anna's KEY_DNE; MALFORMED, KEY_TOO_LARGE, VALUE_TOO_LARGE and
   * OUT_OF_MEMORY as LATTICE), which says more than the code on the wire.
   */
  tupleErrors: Record<string, number>;
  /** Frames that did not decode or were refused whole (no reply possible or sent). */
  badFrames: number;
  /** Connections refused at a listener's cap (--max-connections), and closed after --idle-timeout-ms of silence. */
  connectionsRefused: number;
  connectionsIdleClosed: number;
  gossipFramesSent: number;
  gossipKeysSent: number;
  /** Bytes of every frame sent to other actors: gossip, handoffs, acknowledgements, digests. */
  gossipBytesSent: number;
  gossipFramesReceived: number;
  gossipKeysReceived: number;
  /** Gossiped values this actor refused (e.g. a type that conflicts with its own). */
  gossipMergeErrors: number;
  /** A degraded replica (actor/merge-backlog.ts): keys whose values from replicas the store refused for memory, still owed (a gauge); values of owed keys dropped past the backlog's cap. */
  mergeKeysOwed: number;
  mergeValuesDropped: number;
  /** Selective replication: handoff frames sent, and keys dropped once handed off. */
  handoffFramesSent: number;
  /** Anti-entropy (actor/anti-entropy.ts): rounds of digests completed, buckets and keys sent to peers whose digests differed. */
  antiEntropyRounds: number;
  antiEntropyBucketsRepaired: number;
  antiEntropyKeysRepaired: number;
  keysDropped: number;
  /**
   * Time spent per stage, in ms: where a request's time goes. decode: reading a burst and
   * deciding each tuple's fate; store: running the tuples and writing the responses (one
   * call into the Wasm core; the batch and the encoding on the TS engine); encode:
   * queueing the replies; gossip: handling gossip frames.
   */
  decodeMs: number;
  storeMs: number;
  encodeMs: number;
  gossipMs: number;
  /** Replies dropped because a client's queue was full, gossip frames dropped (a peer's queue full or its connection failed), and failed sends. */
  repliesDropped: number;
  gossipFramesDropped: number;
  sendErrors: number;
  /** Open connections now (gauges, not counts): clients connected to the request port, and reply connections to clients. */
  clientConnections: number;
  replyConnections: number;
  /** Reply bytes waiting for clients to read them (a gauge). */
  repliesQueuedBytes: number;
  /** Keys with a replication factor entry of their own: hot, or cooled and not yet settled (a gauge). */
  replicationFactorEntries: number;
  /** Rebalances (actor/rebalance.ts): keys sent to replicas new to them, keys handed off and dropped, pages unacknowledged (a gauge), the layout version reached (a gauge). */
  rebalanceKeysSent: number;
  rebalanceKeysMovedOut: number;
  rebalancePagesInFlight: number;
  rebalanceLayoutVersion: number;
}

export interface ActorStatsReport {
  tid: number;
  uptimeMs: number;
  counters: ActorCounters;
  store: StoreStats;
}

export function emptyCounters(): ActorCounters {
  return {
    requests: 0,
    requestsFailed: 0,
    errorsContained: {},
    getTuples: 0,
    putTuples: 0,
    tupleErrors: {},
    badFrames: 0,
    connectionsRefused: 0,
    connectionsIdleClosed: 0,
    gossipFramesSent: 0,
    gossipKeysSent: 0,
    gossipBytesSent: 0,
    gossipFramesReceived: 0,
    gossipKeysReceived: 0,
    gossipMergeErrors: 0,
    mergeKeysOwed: 0,
    mergeValuesDropped: 0,
    handoffFramesSent: 0,
    antiEntropyRounds: 0,
    antiEntropyBucketsRepaired: 0,
    antiEntropyKeysRepaired: 0,
    keysDropped: 0,
    decodeMs: 0,
    storeMs: 0,
    encodeMs: 0,
    gossipMs: 0,
    repliesDropped: 0,
    gossipFramesDropped: 0,
    sendErrors: 0,
    clientConnections: 0,
    replyConnections: 0,
    repliesQueuedBytes: 0,
    replicationFactorEntries: 0,
    rebalanceKeysSent: 0,
    rebalanceKeysMovedOut: 0,
    rebalancePagesInFlight: 0,
    rebalanceLayoutVersion: 0,
  };
}

/**
 * Where an actor contains an exception: handling a burst of client requests (a whole burst
 * that failed is answered again request by request), one request, a burst of gossip frames,
 * the gossip tick, a background step (rebalance or anti-entropy), a message from the main
 * thread, the stats and access reports.
 */
export type ErrorPlace =
  "request-burst" | "request" | "gossip-frames" | "gossip-tick" | "background" | "main-thread-message" | "report";

export function countContainedError(counters: ActorCounters, place: ErrorPlace): void {
  counters.errorsContained[place] = (counters.errorsContained[place] ?? 0) + 1;
}

export function countTupleError(counters: ActorCounters, errorName: string): void {
  counters.tupleErrors[errorName] = (counters.tupleErrors[errorName] ?? 0) + 1;
}
