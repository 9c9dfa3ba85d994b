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
import { actorGossipTcpAddress, actorRequestAddress } from "../protocol/ports";
import { ClusterPlacement } from "../routing/cluster-placement";
import { ClusterLayout, layoutEpoch, sameRings } from "../routing/layout";
import { FactorIndex, FactorTable, mergeFactorTable } from "../routing/key-factors";
import { applyFactorChanges } from "./handlers/replication";
import { ActorConfig, STABILITY_PERIOD_MS } from "./config";
import { AccessReport, AccessSampler, actorAccessSampler } from "./access-sampler";
import { GossipContext, newGossipState, tracksReplicatedWrites } from "./gossip-context";
import { handleGossipFrames, sendDirtyKeys } from "./handlers/gossip";
import {
  abandonAntiEntropy,
  antiEntropyTickBudgetMs,
  AntiEntropyState,
  continueAntiEntropy,
  newAntiEntropyState,
  requestAntiEntropy,
} from "./anti-entropy";
import { ActorFaults, countingSink, FAULT_FILE_ENV } from "./faults";
import { handleRequestFrames, RequestContext } from "./handlers/request";
import { DotIssuer } from "./dot-issuer";
import { DurablePuts } from "./durable-puts";
import {
  continueRebalance,
  handOffDirtyKeys,
  newRebalanceState,
  reachLayoutUnchanged,
  rebalanceTickBudgetMs,
  rebalanceIdle,
  RebalanceState,
  startRebalance,
} from "./rebalance";
import { SliceStep, TimeSlicer } from "./time-slices";
import { BAD_FRAME_LOG_INTERVAL_MS, BadFrameLog } from "../protocol/bad-frame-log";
import { requestServerFor } from "./request-servers";
import { gossipPoolOptions, LISTENER_LIMITS, REPLY_POOL_OPTIONS } from "../protocol/zmtp/socket-limits";
import { ZmtpPullServer, ZmtpPullServerOptions } from "../protocol/zmtp/pull-server";
import type { ClusterTls } from "../protocol/zmtp/tls";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { ActorCounters, ActorStatsReport, countContainedError, emptyCounters, ErrorPlace } from "./stats";
import {
  enterEpoch,
  extendRound,
  HeldBound,
  newStabilityState,
  StabilityState,
  stabilityTick,
} from "./causal-stability";

export type ActorLog = (level: "info" | "warn" | "error", message: string) => void;

/** Gossip connections one actor keeps open at once: its peers in a cluster of a few dozen nodes (least recently used closed past it). */
const GOSSIP_PEERS_MAX = 1024;

export class Actor {
  readonly store: Store;
  readonly counters: ActorCounters = emptyCounters();
  private readonly rebalance: RebalanceState = newRebalanceState();
  private readonly antiEntropy: AntiEntropyState;
  /** Rebalance and anti-entropy run in its slices, between requests. */
  private readonly background = new TimeSlicer();
  private factorTable: FactorTable = {};
  private readonly faults: ActorFaults;
  private readonly requests: ZmtpPullServer;
  private readonly gossip: ZmtpPullServer;
  private readonly replies: ZmtpPushPool;
  private readonly peers: ZmtpPushPool;
  private readonly requestContext: RequestContext;
  private readonly gossipContext: GossipContext;
  private readonly accessSampler?: AccessSampler;
  private readonly startedMs = Date.now();
  private gossipTimer?: NodeJS.Timeout;
  private stabilityTimer?: NodeJS.Timeout;
  private readonly stability: StabilityState;
  /** Names the versions of dot requests this actor takes (docs/causal-dots.md). */
  private readonly dots = new DotIssuer();
  private readonly badFrameLog: BadFrameLog;
  /** Contained exceptions, logged at most once per interval per place (a fault that repeats every tick must not flood the log). */
  private readonly errorLogs = new Map<ErrorPlace, BadFrameLog>();

  constructor(
    private readonly config: ActorConfig,
    private readonly log: ActorLog,
    /** Called when every key is placed by a layout (all its pages acknowledged). */
    private readonly onLayoutReached: (version: number) => void,
    /** Told the actor's held bound every stability tick (docs/causal-stability.md). */
    private readonly onHeld: (held: HeldBound) => void = () => {},
  ) {
    this.stability = newStabilityState(config.causalAcceptLagMs, layoutEpoch(config.layout));
    this.store = createStore({ engine: config.engine, limits: config.limits, wasmModule: config.wasmModule });
    const placement = new ClusterPlacement(config.layout);
    if (placement.threadCount !== config.threadCount)
      throw new Error(`the layout gives this node ${placement.threadCount} actors, not ${config.threadCount}`);
    reachLayoutUnchanged(this.rebalance, config.layout.version);
    this.antiEntropy = newAntiEntropyState(config.antiEntropyPeriodMs);
    this.badFrameLog = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
      this.log("warn", `actor ${config.tid} refused ${count} bad frame(s); latest: ${latest}`),
    );
    const reportBadFrame = (reason: string) => this.badFrameLog.report(reason);
    const refusalLog = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
      this.log("warn", `actor ${config.tid} refused ${count} connection(s) at its cap; latest: ${latest}`),
    );
    // Client requests speak Anna's open protocol; gossip is cluster traffic, under TLS when the cluster has credentials.
    const listener = (
      handler: (frames: Uint8Array[]) => void,
      onFailure: BurstFailure,
      limits: Pick<ZmtpPullServerOptions, "maxConnections" | "idleTimeoutMs">,
      tls?: ClusterTls,
    ): ZmtpPullServer =>
      new ZmtpPullServer({
        ...LISTENER_LIMITS,
        ...limits,
        tls,
        maxFrameBytes: config.maxFrameBytes,
        maxFramesPerBatch: config.maxFramesPerBatch,
        onFrames: (frames) => this.handle(frames, handler, onFailure),
        onBadPeer: (reason) => {
          this.counters.badFrames++;
          reportBadFrame(`connection closed: ${reason}`);
        },
        onConnectionRefused: (reason) => {
          this.counters.connectionsRefused++;
          refusalLog.report(reason);
        },
        onIdleClose: () => this.counters.connectionsIdleClosed++,
      });
    this.requests = listener(
      (frames) => handleRequestFrames(this.requestContext, frames),
      { place: "request-burst", dropped: (count) => `left a burst of ${count} request frame(s) unanswered` },
      { maxConnections: config.maxConnections, idleTimeoutMs: config.idleTimeoutMs },
    );
    this.gossip = listener(
      (frames) => handleGossipFrames(this.gossipContext, frames),
      {
        place: "gossip-frames",
        dropped: (count) =>
          `dropped the rest of a burst of ${count} gossip frame(s) (anti-entropy repairs what it carried)`,
      },
      LISTENER_LIMITS,
      config.tls,
    );
    this.faults = new ActorFaults(process.env[FAULT_FILE_ENV], (address) => {
      const { placement } = this.gossipContext;
      for (let tid = 0; tid < config.threadCount; tid++)
        if (placement.gossipAddress(placement.actorIndex(tid)) === address) return true;
      return false;
    });
    this.replies = new ZmtpPushPool(REPLY_POOL_OPTIONS);
    this.peers = new ZmtpPushPool({ ...gossipPoolOptions(GOSSIP_PEERS_MAX), tls: config.tls });
    if (config.hotKeyWindowMs !== undefined) {
      this.accessSampler = actorAccessSampler();
    }
    const gossipState = newGossipState();
    this.requestContext = {
      tid: config.tid,
      server: this.faults.wrapServer(requestServerFor(this.store)),
      placement,
      replies: this.replies,
      counters: this.counters,
      maxTuplesPerRequest: config.maxTuplesPerRequest,
      limits: config.limits,
      accessSampler: this.accessSampler,
      replicatedWrites: tracksReplicatedWrites(placement) ? gossipState.replicatedWrites : undefined,
      reportBadFrame,
      durablePuts: new DurablePuts(
        { defaultPutAcks: config.putAcks, timeoutMs: config.putAckTimeoutMs },
        () => this.gossipContext,
        this.replies,
      ),
      reportError: (place, what, error) => this.reportContainedError(place, what, error),
      stability: this.stability,
      dots: { issuer: this.dots, store: this.store },
    };
    this.gossipContext = {
      tid: config.tid,
      store: this.store,
      dots: this.dots,
      placement,
      peers: countingSink(this.faults.wrap(this.peers), (bytes) => (this.counters.gossipBytesSent += bytes)),
      counters: this.counters,
      state: gossipState,
      gossipPageBytes: config.gossipPageBytes,
      gossipAddress: (actor) => this.gossipContext.placement.gossipAddress(actor),
      selfAddress: placement.gossipAddress(placement.actorIndex(config.tid)),
      antiEntropy: this.antiEntropy,
      reportBadFrame,
      log: this.log,
    };
    // A frame that may have been lost is made up for by an early anti-entropy round.
    this.peers.onLoss = () => requestAntiEntropy(this.antiEntropy, performance.now());
  }

  /**
   * Places keys by a new cluster layout: requests, gossip and handoffs follow it at once;
   * if it moves keys, a rebalance scan sends them where they now belong.
   */
  applyLayout(layout: ClusterLayout): void {
    const before = this.gossipContext.placement;
    if (layout.version <= before.layout.version) return;
    const placement = new ClusterPlacement(layout, before.factors);
    this.gossipContext.placement = placement;
    this.requestContext.placement = placement;
    this.requestContext.replicatedWrites = tracksReplicatedWrites(placement)
      ? this.gossipContext.state.replicatedWrites
      : undefined;
    if (sameRings(before.layout, layout)) reachLayoutUnchanged(this.rebalance, layout.version);
    else {
      if (this.store.size > 0)
        this.log(
          "info",
          `actor ${this.config.tid}: layout ${layout.version} moves keys; scanning ${this.store.size} keys`,
        );
      startRebalance(this.rebalance, before, layout.version);
      abandonAntiEntropy(this.antiEntropy);
    }
    enterEpoch(this.stability, layoutEpoch(layout));
    extendRound(this.stability, this.gossipContext);
    this.continueBackground();
  }

  /**
   * The gossip tick's background work: the rebalance under way, else anti-entropy (which
   * waits while keys move: the rebalance is already sending them where they belong).
   */
  private continueBackground(): void {
    if (this.moving()) {
      this.background.run(
        this.containedStep("rebalance", (deadlineMs) => this.continueRebalance(deadlineMs)),
        rebalanceTickBudgetMs(this.config, !this.gossipContext.placement.selfOnNextRing),
      );
    } else {
      this.background.run(
        this.containedStep("anti-entropy", (deadlineMs) =>
          continueAntiEntropy(this.gossipContext, this.antiEntropy, performance.now(), deadlineMs),
        ),
        antiEntropyTickBudgetMs(this.antiEntropy),
      );
    }
  }

  /** Whether a rebalance is under way: keys may be on their way to new replicas. */
  private moving(): boolean {
    return !rebalanceIdle(this.rebalance) || this.rebalance.completedVersion < this.rebalance.targetVersion;
  }

  /** Raises the accept floor, moves the held bound on when a round completes, and reports it. */
  private stabilityStep(): void {
    this.contain(
      "gossip-tick",
      "skipped a stability tick (the held bound waits for the next)",
      () => this.onHeld(stabilityTick(this.stability, this.gossipContext, Date.now() * 1000, this.moving())),
      undefined,
    );
  }

  /** The cluster's stable time in `epoch`, appended to every response from now on where that is the actor's epoch. */
  setNodeStable(micros: number, epoch: number): void {
    if (epoch === this.stability.epoch) this.stability.nodeStableMicros = micros;
  }

  /** `step`, ending its run for this tick when it throws (slices run from setImmediate, beyond the tick's containment). */
  private containedStep(name: string, step: SliceStep): SliceStep {
    const dropped = `stopped a ${name} step (it resumes at the next gossip tick)`;
    return (deadlineMs) => this.contain("background", dropped, () => step(deadlineMs), false);
  }

  private continueRebalance(deadlineMs: number): boolean {
    const { keysSent, keysMovedOut } = this.rebalance;
    return continueRebalance(
      this.gossipContext,
      this.rebalance,
      (version) => {
        const sent = this.rebalance.keysSent - keysSent;
        const movedOut = this.rebalance.keysMovedOut - keysMovedOut;
        if (sent + movedOut > 0)
          this.log(
            "info",
            `actor ${this.config.tid}: keys placed by layout ${version} (sent ${sent} to new replicas, handed off and dropped ${movedOut} since the last step)`,
          );
        this.onLayoutReached(version);
      },
      deadlineMs,
    );
  }

  private gossipTick(): void {
    this.contain(
      "gossip-tick",
      "dropped this tick's gossip (keys still marked dirty go at the next tick; any already drained and not sent are left to anti-entropy)",
      () => {
        this.faults.refresh();
        if (this.faults.crashes(this.config.tid)) {
          // Thrown from a callback of its own, past every containment: the thread dies.
          setImmediate(() => {
            throw new Error(`injected fault: crash-actor ${this.config.tid}`);
          });
        }
        if (this.faults.hangs(this.config.tid)) for (;;); // injected fault: hang-actor
        if (this.faults.throwsInGossipTick) throw new Error("injected fault: throw-in-gossip-tick");
        sendDirtyKeys(this.gossipContext);
      },
      undefined,
    );
    this.contain(
      "background",
      "skipped this tick's rebalance or anti-entropy step (it resumes at the next tick)",
      () => this.continueBackground(),
      undefined,
    );
  }

  /**
   * Runs `work`; an exception from it goes no further: counted at `place`, logged with
   * what it cost (`dropped`, a phrase: "dropped ..."), and `fallback` returned instead.
   * The actor carries on.
   */
  contain<T>(place: ErrorPlace, dropped: string, work: () => T, fallback: T): T {
    try {
      return work();
    } catch (error) {
      countContainedError(this.counters, place);
      this.reportContainedError(place, dropped, error);
      return fallback;
    }
  }

  /** Logs an exception contained at `place` (counted there), with what it cost. */
  private reportContainedError(place: ErrorPlace, dropped: string, error: unknown): void {
    let log = this.errorLogs.get(place);
    if (log === undefined) {
      log = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
        this.log(
          "error",
          `actor ${this.config.tid}: ${count} error(s) contained in ${place} since the last such line (the actor carries on); the latest ${latest}`,
        ),
      );
      this.errorLogs.set(place, log);
    }
    log.report(`${dropped}: ${(error as Error)?.stack ?? String(error)}`);
  }

  get requestAddress(): string {
    return actorRequestAddress(this.config.host, this.config.portOffset, this.config.tid);
  }

  async start(): Promise<void> {
    const { host, portOffset, tid } = this.config;
    await this.requests.bind(this.requestAddress);
    await this.gossip.bind(actorGossipTcpAddress(host, portOffset, tid));
    this.gossipTimer = setInterval(() => this.gossipTick(), this.config.gossipPeriodMs);
    this.stabilityTimer = setInterval(() => this.stabilityStep(), STABILITY_PERIOD_MS);
    // A layout given at start may already be reached (nothing stored yet): say so.
    this.continueBackground();
  }

  /**
   * Stops taking requests, answers those already received, sends the last gossip and
   * closes every socket. Returns how many requests this actor answered in all.
   */
  async stop(deadlineMs: number, handOff = false): Promise<number> {
    // Frames are handled as they are read: once the server is closed, every request
    // received has been answered (its reply queued below).
    await this.requests.close();
    clearInterval(this.gossipTimer);
    clearInterval(this.stabilityTimer);
    this.background.stop();
    // Waiting PUTs are answered as they stand (TIMEOUT where still short): the replies are flushed below.
    this.requestContext.durablePuts?.finishAll();
    if (handOff) {
      const unconfirmed = await handOffDirtyKeys(this.gossipContext, deadlineMs);
      if (unconfirmed > 0)
        this.log("error", `actor ${this.config.tid} left with ${unconfirmed} handoff(s) unacknowledged`);
    } else sendDirtyKeys(this.gossipContext);
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

  /**
   * Takes, per node, the newer of its known and the given hot-key decisions; keys whose
   * factors changed are seeded to their new replicas or handed off (handlers/replication.ts).
   */
  applyFactors(table: FactorTable): void {
    const merged = { ...this.factorTable };
    let changed = mergeFactorTable(merged, table);
    // Nodes no longer on a ring keep no say.
    for (const node of Object.keys(merged)) {
      if (node in table) continue;
      delete merged[node];
      changed = true;
    }
    if (!changed) return;
    this.factorTable = merged;
    const before = this.gossipContext.placement;
    const after = before.withFactors(new FactorIndex(merged));
    applyFactorChanges(this.gossipContext, after, FactorIndex.changedKeys(before.factors, after.factors));
    extendRound(this.stability, this.gossipContext);
    this.requestContext.placement = after;
    this.requestContext.replicatedWrites = tracksReplicatedWrites(after)
      ? this.gossipContext.state.replicatedWrites
      : undefined;
  }

  statsReport(): ActorStatsReport {
    this.counters.repliesDropped = this.replies.droppedFrames;
    this.counters.gossipFramesDropped = this.peers.droppedFrames;
    this.counters.sendErrors = this.replies.sendErrors + this.peers.sendErrors;
    this.counters.clientConnections = this.requests.connectionCount;
    this.counters.replyConnections = this.replies.socketCount;
    this.counters.repliesQueuedBytes = this.replies.queuedTotal;
    this.counters.replicationFactorEntries = this.gossipContext.placement.factors.size;
    this.counters.rebalanceKeysSent = this.rebalance.keysSent;
    this.counters.antiEntropyRounds = this.antiEntropy.roundsCompleted;
    this.counters.antiEntropyBucketsRepaired = this.antiEntropy.bucketsRepaired;
    this.counters.antiEntropyKeysRepaired = this.antiEntropy.keysRepaired;
    this.counters.rebalanceKeysMovedOut = this.rebalance.keysMovedOut;
    this.counters.rebalancePagesInFlight = this.rebalance.pagesInFlight;
    this.counters.rebalanceLayoutVersion = this.rebalance.completedVersion;
    return {
      tid: this.config.tid,
      uptimeMs: Date.now() - this.startedMs,
      counters: this.counters,
      store: this.store.stats(),
    };
  }

  /** A handler bug must not take the actor down with the requests of other clients. */
  private handle(frames: Uint8Array[], handler: (frames: Uint8Array[]) => void, onFailure: BurstFailure): void {
    try {
      handler(frames);
    } catch (error) {
      countContainedError(this.counters, onFailure.place);
      this.reportContainedError(onFailure.place, onFailure.dropped(frames.length), error);
    }
  }
}

/** What a listener's handler throwing costs: where it is counted, and what the log says was dropped. */
interface BurstFailure {
  place: ErrorPlace;
  dropped(frameCount: number): string;
}
