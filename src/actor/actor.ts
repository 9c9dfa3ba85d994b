/**
 * One actor: a private store and its own sockets, run on one worker thread. Each burst
 * that arrives (a chunk read from a client connection, or what the gossip socket holds) is
 * applied with one store call and answered. Clients reach the actor over ZMTP on Node's own
 * sockets (src/protocol/zmtp); actors gossip over zeromq.js. Nothing is shared with other
 * actors: they meet only through gossip.
 */
import * as zmq from "zeromq";
import { createStore } from "../core/create-store";
import type { Store } from "../core/store";
import { actorGossipPeerAddress, actorGossipTcpAddress, actorRequestAddress } from "../node/ports";
import { LocalPlacement } from "../routing/placement";
import type { ActorConfig } from "./config";
import { AccessReport, AccessSampler } from "./access-sampler";
import { GossipContext, newGossipState, tracksReplicatedWrites } from "./gossip-context";
import { handleGossipFrames, sendDirtyKeys } from "./handlers/gossip";
import { handleRequestFrames, RequestContext } from "./handlers/request";
import { BAD_FRAME_LOG_INTERVAL_MS, BadFrameLog } from "../protocol/bad-frame-log";
import { PushPool } from "../protocol/push-pool";
import { CLIENT_LISTENER_LIMITS, REPLY_POOL_OPTIONS } from "../protocol/zmtp/client-limits";
import { ZmtpPullServer } from "../protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { ActorCounters, ActorStatsReport, emptyCounters } from "./stats";

export type ActorLog = (level: "info" | "warn" | "error", message: string) => void;

/** Gossip sockets to the other actors: how long an unused one stays open, and its queue bound. */
const PEER_SOCKET_IDLE_MS = 30_000;
const MAX_QUEUED_FRAMES_PER_PEER = 10_000;
const SOCKET_LINGER_MS = 1000;
/** After a failed receive (the socket unbinding at stop), wait this long before the next. */
const RECEIVE_RETRY_DELAY_MS = 1;
/**
 * Hot-key sampling: one access in 8 is counted (a decrement per tuple otherwise), at most
 * 4096 distinct keys a window, the 32 most accessed reported.
 */
const ACCESS_SAMPLE_EVERY = 8;
const ACCESS_SAMPLE_CAPACITY = 4096;
const HOT_KEY_CANDIDATES_PER_REPORT = 32;

export class Actor {
  readonly store: Store;
  readonly counters: ActorCounters = emptyCounters();
  private readonly placement: LocalPlacement;
  private readonly requests: ZmtpPullServer;
  private readonly gossip: zmq.Pull;
  private readonly replies: ZmtpPushPool;
  private readonly peers: PushPool;
  private readonly requestContext: RequestContext;
  private readonly gossipContext: GossipContext;
  private readonly accessSampler?: AccessSampler;
  private readonly startedMs = Date.now();
  private gossipTimer?: NodeJS.Timeout;
  private stopping = false;
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
    const handleRequests = (frames: Uint8Array[]) => handleRequestFrames(this.requestContext, frames);
    this.requests = new ZmtpPullServer({
      ...CLIENT_LISTENER_LIMITS,
      maxFrameBytes: config.maxFrameBytes,
      maxFramesPerBatch: config.maxFramesPerBatch,
      onFrames: (frames) => this.handle(frames, handleRequests),
      onBadPeer: (reason) => {
        this.counters.badFrames++;
        reportBadFrame(`client connection closed: ${reason}`);
      },
    });
    this.replies = new ZmtpPushPool(REPLY_POOL_OPTIONS);
    this.gossip = new zmq.Pull({ linger: SOCKET_LINGER_MS, maxMessageSize: config.maxFrameBytes, receiveHighWaterMark: 100_000 });
    this.peers = new PushPool({ idleCloseMs: PEER_SOCKET_IDLE_MS, maxQueuedFrames: MAX_QUEUED_FRAMES_PER_PEER, lingerMs: SOCKET_LINGER_MS, maxSockets: config.threadCount });
    if (config.hotKeyWindowMs !== undefined) {
      this.accessSampler = new AccessSampler(ACCESS_SAMPLE_EVERY, ACCESS_SAMPLE_CAPACITY, HOT_KEY_CANDIDATES_PER_REPORT);
    }
    const gossipState = newGossipState();
    this.requestContext = {
      tid: config.tid,
      store: this.store,
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
  }

  get requestAddress(): string {
    return actorRequestAddress(this.config.host, this.config.portOffset, this.config.tid);
  }

  async start(): Promise<void> {
    const { host, portOffset, tid } = this.config;
    await this.requests.bind(this.requestAddress);
    await this.gossip.bind(actorGossipTcpAddress(host, portOffset, tid));
    void this.serve(this.gossip, (frames) => handleGossipFrames(this.gossipContext, frames));
    this.gossipTimer = setInterval(() => sendDirtyKeys(this.gossipContext), this.config.gossipPeriodMs);
  }

  /**
   * Stops taking requests, answers those already received, sends the last gossip and
   * closes every socket. Returns how many requests this actor answered in all.
   */
  async stop(deadlineMs: number): Promise<number> {
    this.stopping = true;
    // Frames are handled as they are read: once the server is closed, every request
    // received has been answered (its reply queued below).
    await this.requests.close();
    clearInterval(this.gossipTimer);
    sendDirtyKeys(this.gossipContext);
    await this.replies.flush(deadlineMs);
    await this.peers.flush(deadlineMs);
    this.gossip.close();
    this.replies.close();
    this.peers.close();
    return this.counters.requests;
  }

  /** The sampled key accesses since the last call, or undefined when selective replication is off. */
  drainAccessReport(): AccessReport | undefined {
    return this.accessSampler?.drain();
  }

  statsReport(): ActorStatsReport {
    this.counters.repliesDropped = this.replies.droppedFrames;
    this.counters.sendErrors = this.replies.sendErrors + this.peers.sendErrors;
    this.counters.clientConnections = this.requests.connectionCount;
    this.counters.replyConnections = this.replies.socketCount;
    return { tid: this.config.tid, uptimeMs: Date.now() - this.startedMs, counters: this.counters, store: this.store.stats() };
  }

  /** Receives bursts until the socket closes: one await for the first frame, then all that is ready. */
  private async serve(socket: zmq.Pull, handle: (frames: Uint8Array[]) => void): Promise<void> {
    const frames: Uint8Array[] = [];
    for (;;) {
      try {
        const [first] = await socket.receive();
        frames.push(first);
        while (socket.readable && frames.length < this.config.maxFramesPerBatch) {
          const [next] = await socket.receive();
          frames.push(next);
        }
      } catch (error) {
        if (socket.closed) return;
        // Receives fail while stop() unbinds the socket; back off rather than spin, since a
        // hot retry loop would starve the very unbind it waits for.
        if (!this.stopping) this.log("error", `receive failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RECEIVE_RETRY_DELAY_MS));
        continue;
      }
      this.handle(frames, handle);
      frames.length = 0;
    }
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
