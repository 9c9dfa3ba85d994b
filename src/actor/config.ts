import type { StoreLimits } from "../core/limits";
import type { EngineName } from "../core/store";
import type { ClusterLayout } from "../routing/layout";
import type { ClusterTls } from "../protocol/zmtp/tls";

/**
 * How often an actor raises F and tries to complete a round: the stable time trails the
 * clock by about the accept lag plus two of these. 10 rather than 20 (2026-12-07): the trail
 * on one node fell from ~60 to ~44 ms, and causal+ writes at Zipf 1 list fewer dependencies
 * (docs/causal-stability.md §10). Here, a leaf module, so that the main thread, which posts
 * the stable time at the same pace, loads no actor code for it.
 */
export const STABILITY_PERIOD_MS = 10;

/** Everything an actor needs, sent to its worker thread as workerData. */
export interface ActorConfig {
  tid: number;
  threadCount: number;
  host: string;
  portOffset: number;
  engine: EngineName;
  limits: StoreLimits;
  localReplication: number;
  /** How often the actor compares digests with the other replicas of its keys (0: never). */
  antiEntropyPeriodMs: number;
  /** The share of each gossip period spent moving keys while a layout change is under way (NodeOptions). */
  rebalanceShare: number;
  /** Replica nodes a PUT must reach before it is answered, unless its request says (--put-acks). */
  putAcks: number;
  putAckTimeoutMs: number;
  /** How far behind the wall clock the accept floor of stamped causal PUTs trails (--causal-accept-lag-ms). */
  causalAcceptLagMs: number;
  /** Mutual TLS for the gossip port and connections to other actors, when the cluster has credentials. */
  tls?: ClusterTls;
  /** The cluster as the node knows it at the actor's start (later ones come as "layout" messages). */
  layout: ClusterLayout;
  /** Set only while selective replication is active (on, and not full replication): each actor reports sampled key accesses this often. */
  hotKeyWindowMs?: number;
  gossipPeriodMs: number;
  /** Frames taken from a socket before they are applied as one store batch. */
  maxFramesPerBatch: number;
  /** Tuples one KeyRequest may carry; more gets the whole request refused. */
  maxTuplesPerRequest: number;
  /** Largest frame a socket accepts; ZeroMQ drops the sender's connection past it. */
  maxFrameBytes: number;
  /** The request port's client connections at most (--max-connections), and how long one may stay silent (--idle-timeout-ms; 0: forever). */
  maxConnections: number;
  idleTimeoutMs: number;
  /** Record bytes drained from the store per gossip page. */
  gossipPageBytes: number;
  statsIntervalMs: number;
  wasmModule?: WebAssembly.Module;
}
