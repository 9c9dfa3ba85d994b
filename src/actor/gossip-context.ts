/**
 * What the gossip and replication handlers share: the actor's context, the state kept
 * between calls (replicated writes to report, handoffs awaiting acknowledgement), and
 * the helpers that turn a key's current value into RECORDS frames for its peers.
 */
import type { DotIssuer } from "./dot-issuer";
import { RECORD_HEADER_BYTES, writeRecord } from "../core/batch";
import type { Store } from "../core/store";
import type { FrameSink } from "../protocol/outlet-pool";
import type { ClusterPlacement } from "../routing/cluster-placement";
import { GossipFrameKind, recordsFrame } from "./gossip-frame";
import type { AntiEntropyState } from "./anti-entropy";
import { MergeBacklog } from "./merge-backlog";
import type { BadFrameLog } from "../protocol/bad-frame-log";
import type { ActorCounters } from "./stats";

/** A HANDOFF frame awaiting acknowledgements (handlers/replication.ts, rebalance.ts). */
export interface PendingHandoff {
  /** The frame as sent; resent as it is until every destination has acknowledged it. */
  frame: Uint8Array;
  /** Gossip addresses of the destinations that have not acknowledged yet. */
  waiting: Set<string>;
  sentAtMs: number;
  /** The key of a hot-key handoff, so that it can be called off when the actor stays a replica. */
  name?: string;
  /** Called once, when the last destination has acknowledged. */
  onAcknowledged(): void;
}

/** What gossip remembers between calls; one per actor. */
export interface GossipState {
  /** Keys written with a factor above one while keys have one replica by default. */
  replicatedWrites: Set<string>;
  handoffs: Map<number, PendingHandoff>;
  nextHandoffId: number;
  /** Values from other replicas the store refused for memory, owed until merged (merge-backlog.ts). */
  mergeBacklog: MergeBacklog;
  /** Lines about merges owed or dropped, at most one per interval (made on first use, from `log`). */
  mergeShortfallLog?: BadFrameLog;
}

export function newGossipState(): GossipState {
  return { replicatedWrites: new Set(), handoffs: new Map(), nextHandoffId: 1, mergeBacklog: new MergeBacklog() };
}

export interface GossipContext {
  tid: number;
  store: Store;
  /** Replaced whole when the cluster's layout changes (actor.ts). */
  placement: ClusterPlacement;
  /** The actor's ZMTP connections to its peers (MessagePorts in bench/scaling). */
  peers: FrameSink;
  counters: ActorCounters;
  state: GossipState;
  gossipPageBytes: number;
  /** The gossip address of actor number `actor` of the placement (cluster-placement.ts). */
  gossipAddress(actor: number): string;
  /** This actor's own gossip address: how handoffs name it. */
  selfAddress: string;
  /**
   * Told of each key before the actor drops it (docs/causal-dots.md §5, the dot id);
   * absent where no dot request is taken (benchmarks, tests of gossip alone).
   */
  dots?: DotIssuer;
  /** Digests compared with other replicas (absent where nothing runs anti-entropy, e.g. benchmarks). */
  antiEntropy?: AntiEntropyState;
  reportBadFrame(reason: string): void;
  /** The actor's log (absent in tests and benchmarks that need none). */
  log?(level: "info" | "warn" | "error", message: string): void;
}

/** This actor's number in the current placement. */
export function selfActor(context: GossipContext): number {
  return context.placement.actorIndex(context.tid);
}

/**
 * True where keys have one replica unless they are hot (a lone actor included): the store's
 * dirty marks are then discarded and the request handler reports writes of replicated keys
 * (see handlers/gossip.ts).
 */
export function tracksReplicatedWrites(placement: ClusterPlacement): boolean {
  return placement.singleCopyByDefault;
}

/** Frames being built, one list of record byte runs per peer (actor number). */
export type PartsByPeer = Map<number, Uint8Array[]>;

export function addPart(partsByPeer: PartsByPeer, peer: number, self: number, bytes: Uint8Array): void {
  if (peer !== self) addPartFor(partsByPeer, peer, bytes);
}

/** Adds a record's bytes to the frame being built for a destination (an actor number or a gossip address). */
export function addPartFor<Destination>(
  partsByDestination: Map<Destination, Uint8Array[]>,
  destination: Destination,
  bytes: Uint8Array,
): void {
  let parts = partsByDestination.get(destination);
  if (parts === undefined) partsByDestination.set(destination, (parts = []));
  parts.push(bytes);
}

export function sendRecordFrames(context: GossipContext, partsByPeer: PartsByPeer): void {
  for (const [peer, parts] of partsByPeer) {
    const kind = context.placement.isRemote(peer) ? GossipFrameKind.REMOTE_RECORDS : GossipFrameKind.RECORDS;
    context.peers.send(context.gossipAddress(peer), recordsFrame(parts, kind));
    context.counters.gossipFramesSent++;
    context.counters.gossipKeysSent += parts.length;
  }
}

/** The store's value of a key as one record (a copy), or undefined when it holds none. */
export function currentRecord(store: Store, key: Uint8Array): Uint8Array | undefined {
  const value = store.get(key);
  if (value === undefined) return undefined;
  const record = new Uint8Array(RECORD_HEADER_BYTES + key.length + value.payload.length);
  writeRecord(record, 0, value.type, key, value.payload);
  return record;
}
