/**
 * One actor: a private store and its own sockets, run on one worker thread. Each burst
 * that arrives (a chunk read from a client connection, or what the gossip socket holds) is
 * applied with one store call and answered. Clients and the other actors reach the actor over
 * ZMTP on Node's own sockets (src/protocol/zmtp). Nothing is shared with other actors: they
 * meet only through gossip.
 *
 * No zeromq.js here: it sends frames over 128 bytes without copying and releases them
 * through the sending thread's Node environment, whenever libzmq is done with them. A frame
 * still queued when a worker thread exits (a peer already gone at shutdown) is then
 * released into freed memory, and glibc aborts the process ("corrupted double-linked
 * list", zeromq.js issue #411). Worker threads must not load it.
 */
import { createStore } from "../core/create-store";
import type { Store } from "../core/store";
import { actorGossipPeerAddress, actorGossipTcpAddress, actorRequestAddress } from "../node/ports";
import { LocalPlacement } from "../routing/placement";
import type { ActorConfig } from "./config";
import { AccessReport, AccessSampler, actorAccessSampler } from "./access-sampler";
import { GossipContext, newGossipState, tracksReplicatedWrites } from "./gossip-context";
import { handleGossipFrames, requestResync, sendDirtyKeys } from "./handlers/gossip";
import { handleRequestFrames, RequestContext } from "./handlers/request";
import { BAD_FRAME_LOG_INTERVAL_MS, BadFrameLog } from "../protocol/bad-frame-log";
import { requestServerFor } from "./request-servers";
import { gossipPoolOptions, LISTENER_LIMITS, REPLY_POOL_OPTIONS } from "../protocol/zmtp/socket-limits";
import { ZmtpPullServer } from "../protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { ActorCounters, ActorStatsReport, emptyCounters } from "./stats";

export type ActorLog = (level: "info" | "warn" | "error", message: string) => void;

export class Actor {
  readonly store: Store;
  readonly counters: ActorCounters = emptyCounters();
  private readonly placement: LocalPlacement;
  private readonly requests: ZmtpPullServer;
  private readonly gossip: ZmtpPullServer;
  private readonly replies: ZmtpPushPool;
  private readonly peers: ZmtpPushPool;
  private readonly requestContext: RequestContext;
  private readonly gossipContext: GossipContext;
  private readonly accessSampler?: AccessSampler;
  private readonly startedMs = Date.now();
  private gossipTimer?: NodeJS.Timeout;
  private readonly badFrameLog: BadFrameLog;

  constructor(
    private readonly config: ActorConfig,
    private readonly log: ActorLog,
  ) {
    this.store = createStore({ engine: config.engine, limits: config.limits, wasmModule: config.wasmModule });
    this.placement = new LocalPlacement(config.threadCount, config.localReplication);
    this.badFrameLog = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
      this.log("warn", `actor ${config.tid} refused ${count} bad frame(s); latest: ${latest}`),
    );
    const reportBadFrame = (reason: string) => this.badFrameLog.report(reason);
    const listener = (handler: (frames: Uint8Array[]) => void): ZmtpPullServer =>
      new ZmtpPullServer({
        ...LISTENER_LIMITS,
        maxFrameBytes: config.maxFrameBytes,
        maxFramesPerBatch: config.maxFramesPerBatch,
        onFrames: (frames) => this.handle(frames, handler),
        onBadPeer: (reason) => {
          this.counters.badFrames++;
          reportBadFrame(`connection closed: ${reason}`);
        },
      });
    this.requests = listener((frames) => handleRequestFrames(this.requestContext, frames));
    this.gossip = listener((frames) => handleGossipFrames(this.gossipContext, frames));
    this.replies = new ZmtpPushPool(REPLY_POOL_OPTIONS);
    this.peers = new ZmtpPushPool(gossipPoolOptions(config.threadCount));
    if (config.hotKeyWindowMs !== undefined) {
      this.accessSampler = actorAccessSampler();
    }
    const gossipState = newGossipState();
    this.requestContext = {
      tid: config.tid,
      server: requestServerFor(this.store),
      placement: this.placement,
      replies: this.replies,
      counters: this.counters,
      maxTuplesPerRequest: config.maxTuplesPerRequest,
      limits: config.limits,
      accessSampler: this.accessSampler,
      replicatedWrites: tracksReplicatedWrites(this.placement) ? gossipState.replicatedWrites : undefined,
      reportBadFrame,
    };
    this.gossipContext = {
      tid: config.tid,
      store: this.store,
      placement: this.placement,
      peers: this.peers,
      counters: this.counters,
      state: gossipState,
      gossipPageBytes: config.gossipPageBytes,
      gossipAddress: (tid) => actorGossipPeerAddress(config.host, config.portOffset, tid),
      reportBadFrame,
    };
    const peerByAddress = new Map(Array.from({ length: config.threadCount }, (_, tid) => [this.gossipContext.gossipAddress(tid), tid]));
    this.peers.onLoss = (address) => {
      const peer = peerByAddress.get(address);
      if (peer !== undefined) requestResync(this.gossipContext, peer);
    };
  }

  get requestAddress(): string {
    return actorRequestAddress(this.config.host, this.config.portOffset, this.config.tid);
  }

  async start(): Promise<void> {
    const { host, portOffset, tid } = this.config;
    await this.requests.bind(this.requestAddress);
    await this.gossip.bind(actorGossipTcpAddress(host, portOffset, tid));
    this.gossipTimer = setInterval(() => sendDirtyKeys(this.gossipContext), this.config.gossipPeriodMs);
  }

  /**
   * Stops taking requests, answers those already received, sends the last gossip and
   * closes every socket. Returns how many requests this actor answered in all.
   */
  async stop(deadlineMs: number): Promise<number> {
    // Frames are handled as they are read: once the server is closed, every request
    // received has been answered (its reply queued below).
    await this.requests.close();
    clearInterval(this.gossipTimer);
    sendDirtyKeys(this.gossipContext);
    await this.replies.flush(deadlineMs);
    await this.peers.flush(deadlineMs);
    await this.gossip.close();
    this.replies.close();
    this.peers.close();
    return this.counters.requests;
  }

  /** The sampled key accesses since the last call, or undefined when selective replication is off. */
  drainAccessReport(): AccessReport | undefined {
    return this.accessSampler?.drain();
  }

  /** The replication factor version up to which this actor has seen every update (hot-keys.ts). */
  get factorsSeenVersion(): number {
    return this.gossipContext.state.factorsSeenVersion;
  }

  statsReport(): ActorStatsReport {
    this.counters.repliesDropped = this.replies.droppedFrames;
    this.counters.gossipFramesDropped = this.peers.droppedFrames;
    this.counters.sendErrors = this.replies.sendErrors + this.peers.sendErrors;
    this.counters.clientConnections = this.requests.connectionCount;
    this.counters.replyConnections = this.replies.socketCount;
    this.counters.repliesQueuedBytes = this.replies.queuedTotal;
    this.counters.replicationFactorEntries = this.gossipContext.placement.keyFactorCount;
    return { tid: this.config.tid, uptimeMs: Date.now() - this.startedMs, counters: this.counters, store: this.store.stats() };
  }

  private handle(frames: Uint8Array[], handler: (frames: Uint8Array[]) => void): void {
    try {
      handler(frames);
    } catch (error) {
      // A handler bug must not take the actor down with the requests of other clients.
      this.log("error", `handler failed: ${(error as Error).stack ?? error}`);
    }
  }
}
