/**
 * A node: one process, N actors on worker threads, the routing service and the metrics
 * endpoint. startNode resolves once every socket is bound; stop() drains and closes.
 */
import path from "node:path";
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { ActorConfig } from "../actor/config";
import type { ActorToMain, MainToActor } from "../actor/worker";
import { loadWasmModule } from "../core/wasm-store";
import { LocalPlacement } from "../routing/placement";
import { FactorIndex, FactorTable } from "../routing/key-factors";
import { ClusterPlacement } from "../routing/cluster-placement";
import { ClusterLayout, layoutEpoch } from "../routing/layout";
import { Lifecycle } from "../cluster/member";
import { MembershipService, memberId } from "../cluster/membership-service";
import { tcpAddress } from "../protocol/zmtp/endpoint";
import { HotKeyMonitor } from "./hot-keys";
import { NodeMetrics, NodeStatus } from "./metrics";
import { NodeOptions, OptionError, parseSeed, resolveNodeOptions } from "./options";
import { ClusterTls, loadClusterTls } from "../protocol/zmtp/tls";
import { BAD_FRAME_LOG_INTERVAL_MS, BadFrameLog } from "../protocol/bad-frame-log";
import { hostInAddress } from "../protocol/zmtp/endpoint";
import { actorRequestAddress, metricsPort, routingAddress, SEED_PORT } from "../protocol/ports";
import { RoutingService } from "./routing-service";
import { NodeStableTime } from "./stable-time";
import { StableBroadcast } from "./stable-broadcast";
import { STABILITY_PERIOD_MS } from "../actor/config";

/** Tuned limits that are not user options (yet): see docs/architecture.md. */
const FRAMES_PER_BATCH_MAX = 256;
const TUPLES_PER_REQUEST_MAX = 10_000;
const GOSSIP_PAGE_BYTES = 1024 * 1024;
const STATS_INTERVAL_MS = 1000;
/** How often a leaving node checks whether its actors have handed everything over. */
const LEAVE_POLL_MS = 50;
/** How long actors already started get to close their sockets when the node cannot start. */
const STARTUP_FAILURE_STOP_MS = 2000;
/** A request frame may hold a maximal key and value plus protocol overhead, many times over. */
const FRAME_BYTES_MAX = 256 * 1024 * 1024;

export interface RunningNode {
  readonly options: NodeOptions;
  readonly routingAddress: string;
  readonly actorAddresses: readonly string[];
  readonly metricsUrl?: string;
  /** The node's id in its cluster (`HOST:PORT` of its membership port). */
  readonly membershipId: string;
  status(): NodeStatus;
  /**
   * Stops taking requests, answers what was received, flushes gossip, closes everything.
   * A member of a cluster first hands its keys to their other owners (`handedOff`: false
   * when that overran --leave-timeout-ms).
   */
  stop(): Promise<{ requestsAnswered: number; handedOff: boolean }>;
  /**
   * Settles, never rejecting, when an actor's thread ends without being asked to (an
   * exception no handler contained, an exit of its own): its keys are gone from this
   * process, so routing has already closed and no client is sent here any more. What is
   * left to do is stop() and exit non-zero, so that a supervisor restarts the node (and,
   * in a cluster, the other nodes re-replicate its keys meanwhile). Pending while every
   * actor runs.
   */
  readonly actorDied: Promise<ActorDeath>;
}

/** An actor thread that ended without being asked to, and why. */
export interface ActorDeath {
  tid: number;
  cause: string;
}

/** Workers run compiled JS: under ts-jest this file is TypeScript, but dist/ is built. */
function workerEntry(): string {
  const beside = path.resolve(__dirname, "../actor/worker.js");
  if (existsSync(beside)) return beside;
  return path.resolve(__dirname, "../../dist/actor/worker.js");
}

interface ActorHandle {
  tid: number;
  worker: Worker;
  /**
   * Settles with the requests the actor answered once its thread has exited, not at its
   * "stopped" message: the process must not exit under a thread still closing its sockets.
   */
  stopped: Promise<number>;
}

export async function startNode(partial: Partial<NodeOptions>, logger: Logger): Promise<RunningNode> {
  const options = resolveNodeOptions(partial);
  const advertiseHost = options.advertiseHost!;
  const wasmModule = options.engine === "wasm" ? loadWasmModule() : undefined;
  const tls = clusterTls(options);
  const localPlacement = new LocalPlacement(options.threads, options.localReplication);
  // Every node, a lone one included, may gain members (any node is a seed): a key hot on one actor of one node may
  // then spread over nodes, so the monitor runs wherever hot-key replication is on.
  const hotKeys = options.hotKeyReplication
    ? new HotKeyMonitor(
        localPlacement,
        {
          threshold: options.hotKeyThreshold,
          minOpsPerSec: options.hotKeyMinOpsPerSec,
          cooldownWindows: options.hotKeyCooldownWindows,
        },
        options.globalReplication,
        () => placement.layout.nodes.filter((node) => node.serving).length,
      )
    : undefined;
  const actors: ActorHandle[] = [];
  const reached = new Map<number, number>();
  const nodeStable = new NodeStableTime(options.threads);
  let keyCount = 0;
  const membership = new MembershipService({
    selfId: memberId(advertiseHost, SEED_PORT + options.portOffset),
    bindAddress: tcpAddress(options.host, SEED_PORT + options.portOffset),
    ownData: {
      host: advertiseHost,
      portOffset: options.portOffset,
      threads: options.threads,
      localReplication: options.localReplication,
    },
    seeds: options.join.map((seed) => {
      const { host, port } = parseSeed(seed, options.portOffset)!;
      return memberId(host, port);
    }),
    clusterName: options.clusterName,
    globalReplication: options.globalReplication,
    failureTimeoutMs: options.failureTimeoutMs,
    joinTimeoutMs: options.joinTimeoutMs,
    tls,
    keyCount: () => keyCount,
    log: (level, message, fields) => logger[level]({ ...fields, cluster: true }, message),
    onLayout: (layout) => {
      placement = new ClusterPlacement(layout, placement.factors);
      epoch = layoutEpoch(layout);
      for (const actor of actors) actor.worker.postMessage({ kind: "layout", layout } satisfies MainToActor);
    },
  });
  let placement = new ClusterPlacement(membership.layout);
  let epoch = layoutEpoch(membership.layout);
  // As often as the actors report: a faster post would only carry what a later one does.
  const stableBroadcast = new StableBroadcast(STABILITY_PERIOD_MS, (stable) => {
    for (const actor of actors) actor.worker.postMessage({ kind: "stable", ...stable } satisfies MainToActor);
  });
  /** The node's bound goes out by heartbeat and `stability` message; S comes from every member's (docs/causal-stability.md §7, §10). */
  const noteHeld = (tid: number, held: { micros: number; epoch: number }) => {
    nodeStable.noteHeld(tid, held);
    const heldMicros = nodeStable.nodeHeldIn(epoch);
    membership.setStability({ heldMicros, epoch });
    const bounds = placement.layout.nodes.map((node) => {
      const micros =
        node.id === placement.layout.selfId ? heldMicros : membership.heldBoundOf(node.id, node.incarnation, epoch);
      return micros === undefined ? undefined : { micros, epoch };
    });
    const stable = nodeStable.update(epoch, bounds);
    if (stable !== undefined) stableBroadcast.offer(stable);
  };
  const routingBadFrames = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
    logger.warn({ count, latest }, `routing refused ${count} bad frame(s)`),
  );
  const routingRefusals = new BadFrameLog(BAD_FRAME_LOG_INTERVAL_MS, (count, latest) =>
    logger.warn({ count, latest }, `routing refused ${count} connection(s) at --max-connections`),
  );
  // Bound only once every actor listens (below), so that no client is sent to a dead port.
  const routing = new RoutingService({
    bindAddress: routingAddress(options.host, options.portOffset),
    placement: () => placement,
    maxFrameBytes: FRAME_BYTES_MAX,
    maxKeyBytes: options.maxKeyBytes,
    maxConnections: options.maxConnections,
    idleTimeoutMs: options.idleTimeoutMs,
    onBadFrame: (reason) => routingBadFrames.report(reason),
    onConnectionRefused: (reason) => routingRefusals.report(reason),
  });
  const metrics = new NodeMetrics({
    version: require("../../package.json").version as string,
    startedAt: new Date().toISOString(),
    threads: options.threads,
    engine: options.engine,
    localReplication: options.localReplication,
    routingAddress: routingAddress(advertiseHost, options.portOffset),
    hotKeys: () => hotKeys?.hotKeys() ?? [],
    routing: () => routing.counters(),
    cluster: () => {
      const status = membership.status();
      // Ready: joined, caught up and not leaving (Kubernetes then sends no new clients to a leaver).
      return {
        ...status,
        ready: membership.lifecycle === Lifecycle.ALIVE && placement.selfServing,
        globalReplication: options.globalReplication,
        membershipBadFrames: membership.badFrames,
        membershipBytesSent: membership.bytesSent,
        membershipStabilityMessagesSent: membership.stabilityMessagesSent,
      };
    },
  });
  // Started once every actor runs (below); actors confirm the factor tables it sends.
  let factorLoop: ReturnType<typeof startFactorLoop> | undefined;
  let died: ActorDeath | undefined;
  let reportDeath!: (death: ActorDeath) => void;
  const actorDied = new Promise<ActorDeath>((resolve) => (reportDeath = resolve));
  const onActorDeath = (death: ActorDeath) => {
    if (died !== undefined) return;
    died = death;
    logger.fatal(
      { tid: death.tid, cause: death.cause },
      `actor ${death.tid} died (${death.cause}); its keys are gone from this process: routing closes and the node stops`,
    );
    void routing
      .stop(Date.now())
      .catch((error) => logger.error({ err: error }, "routing did not close cleanly"))
      .then(() => reportDeath(death));
  };
  const onActorMessage = (message: ActorToMain) => {
    if (message.kind === "stats") {
      metrics.record(message.report);
      keyCount = metrics.keyCount();
    } else if (message.kind === "access") hotKeys?.record(message.tid, message.elapsedMs, message.report);
    else if (message.kind === "factors-applied") factorLoop?.confirm(message.tid, message.stamp);
    else if (message.kind === "rebalanced") {
      reached.set(message.tid, message.version);
      if (reached.size === options.threads) membership.noteLayoutReached(Math.min(...reached.values()));
    } else if (message.kind === "held") noteHeld(message.tid, message);
  };
  let metricsUrl: string | undefined;
  try {
    await membership.start();
    for (let tid = 0; tid < options.threads; tid++) {
      const actor = await startActor(
        { ...actorConfig(options, tid, membership.layout, wasmModule), tls },
        logger,
        onActorMessage,
        onActorDeath,
      );
      actors.push(actor);
      // A layout that changed while this actor started was posted only to the actors before
      // it: send the current one (an actor ignores a layout that is not newer than its own).
      actor.worker.postMessage({ kind: "layout", layout: membership.layout } satisfies MainToActor);
    }
    // Routing must not open to clients for a node already short of an actor.
    if (died !== undefined) throw new Error(`actor ${died.tid} died while the node started: ${died.cause}`);
    await routing.start();
    if (options.metrics) {
      await metrics.listen(options.host, metricsPort(options.portOffset));
      metricsUrl = `http://${hostInAddress(advertiseHost)}:${metricsPort(options.portOffset)}`;
    }
  } catch (error) {
    // A port taken after some actors started: stop them as at shutdown, so that they answer
    // what they took and the process can exit.
    await routing.stop(Date.now());
    await stopActors(actors, Date.now() + STARTUP_FAILURE_STOP_MS, false);
    await membership.stop(Date.now());
    await metrics.close();
    throw error;
  }
  let factorTable: FactorTable = {};
  factorLoop = startFactorLoop(
    hotKeys,
    membership,
    actors,
    options.hotKeyWindowMs,
    (table) => {
      if (JSON.stringify(table) === JSON.stringify(factorTable)) return;
      factorTable = table;
      placement = placement.withFactors(new FactorIndex(table));
    },
    logger,
  );
  return {
    options,
    routingAddress: routingAddress(advertiseHost, options.portOffset),
    actorAddresses: Array.from({ length: options.threads }, (_, tid) =>
      actorRequestAddress(advertiseHost, options.portOffset, tid),
    ),
    metricsUrl,
    membershipId: membership.layout.selfId,
    status: () => metrics.status(),
    actorDied,
    stop: async () => {
      // A node with a dead actor cannot hand that actor's keys over: it stops as a crash would, and the others re-replicate.
      const leaving =
        died === undefined && membership.otherLiveMembers().length > 0 && membership.lifecycle < Lifecycle.LEAVING;
      const left = leaving ? await leaveCluster(membership, reached, options, logger) : true;
      const deadlineMs = Date.now() + options.shutdownTimeoutMs;
      factorLoop?.stop();
      stableBroadcast.stop();
      await routing.stop(deadlineMs);
      const requestsAnswered = await stopActors(actors, deadlineMs, leaving);
      if (leaving) await membership.announceLeft(deadlineMs);
      await membership.stop(deadlineMs);
      await metrics.close();
      return { requestsAnswered, handedOff: left };
    },
  };
}

/**
 * A graceful leave (docs/cluster.md, "Leave"): off the next ring, so that every key this
 * node holds has owners elsewhere; resolves once every actor has handed them over (all
 * pages acknowledged), or false past --leave-timeout-ms.
 */
async function leaveCluster(
  membership: MembershipService,
  reached: ReadonlyMap<number, number>,
  options: NodeOptions,
  logger: Logger,
): Promise<boolean> {
  membership.leave();
  const target = membership.layout.version;
  logger.info({ layoutVersion: target }, "leaving the cluster: handing every key to its other owners");
  const deadlineMs = Date.now() + options.leaveTimeoutMs;
  while (Date.now() < deadlineMs) {
    if (reached.size === options.threads && Math.min(...reached.values()) >= target) return true;
    await new Promise((resolve) => setTimeout(resolve, LEAVE_POLL_MS));
  }
  logger.error(
    { leaveTimeoutMs: options.leaveTimeoutMs },
    "leave timed out: some keys may not have reached their other owners",
  );
  return false;
}

/** Asks every actor to stop by the deadline and waits for them; returns how many requests they answered in all. */
async function stopActors(actors: readonly ActorHandle[], deadlineMs: number, handOff: boolean): Promise<number> {
  for (const actor of actors) actor.worker.postMessage({ kind: "stop", deadlineMs, handOff } satisfies MainToActor);
  const answered = await Promise.all(actors.map((actor) => actor.stopped));
  return answered.reduce((sum, count) => sum + count, 0);
}

function actorConfig(
  options: NodeOptions,
  tid: number,
  layout: ClusterLayout,
  wasmModule?: WebAssembly.Module,
): ActorConfig {
  return {
    tid,
    threadCount: options.threads,
    host: options.host,
    layout,
    putAcks: options.putAcks,
    antiEntropyPeriodMs: options.antiEntropyPeriodMs,
    rebalanceShare: options.rebalanceShare,
    causalAcceptLagMs: options.causalAcceptLagMs,
    putAckTimeoutMs: options.putAckTimeoutMs,
    portOffset: options.portOffset,
    engine: options.engine,
    limits: {
      maxKeyBytes: options.maxKeyBytes,
      maxValueBytes: options.maxValueBytes,
      maxMemoryBytes: options.maxStoreMemoryBytes,
    },
    localReplication: options.localReplication,
    hotKeyWindowMs: options.hotKeyReplication ? options.hotKeyWindowMs : undefined,
    gossipPeriodMs: options.gossipPeriodMs,
    maxFramesPerBatch: FRAMES_PER_BATCH_MAX,
    maxTuplesPerRequest: TUPLES_PER_REQUEST_MAX,
    maxFrameBytes: FRAME_BYTES_MAX,
    maxConnections: options.maxConnections,
    idleTimeoutMs: options.idleTimeoutMs,
    gossipPageBytes: GOSSIP_PAGE_BYTES,
    statsIntervalMs: STATS_INTERVAL_MS,
    wasmModule,
  };
}

/** Tables sent to the actors and not yet applied by all of them, at most (an actor that stops confirming holds no more). */
const UNCONFIRMED_FACTOR_TABLES_MAX = 16;

/**
 * Every window: the monitor decides, its state goes into the node's membership entry (for
 * the other nodes), and the cluster's whole factor table to every actor — state resent
 * each window, so nothing is lost for good when a message is. The node's own placement
 * (the routing service's) takes a table only once every actor has said it applied it
 * (`confirm`), so that no client is sent to an actor that does not yet know it holds a key.
 */
function startFactorLoop(
  monitor: HotKeyMonitor | undefined,
  membership: MembershipService,
  actors: readonly ActorHandle[],
  window: number,
  apply: (table: FactorTable) => void,
  logger: Logger,
): { stop(): void; confirm(tid: number, stamp: number): void } {
  let stamp = 0;
  const sent = new Map<number, FactorTable>();
  const confirmed = new Map<number, number>();
  let applied = 0;
  const timer = setInterval(() => {
    for (const { key, local, global } of monitor?.closeWindow() ?? []) {
      logger.info(
        { key, actors: local, nodes: global },
        `key ${JSON.stringify(key.slice(0, 80))} now on ${local} actor(s) here and ${global} node(s)`,
      );
    }
    if (monitor !== undefined) membership.setFactors(monitor.state());
    const table = membership.factorTable();
    sent.set(++stamp, table);
    if (sent.size > UNCONFIRMED_FACTOR_TABLES_MAX) sent.delete(Math.min(...sent.keys()));
    for (const actor of actors) actor.worker.postMessage({ kind: "factors", table, stamp } satisfies MainToActor);
  }, window);
  return {
    stop: () => clearInterval(timer),
    confirm(tid, confirmedStamp) {
      confirmed.set(tid, Math.max(confirmedStamp, confirmed.get(tid) ?? 0));
      if (confirmed.size < actors.length) return;
      const byAll = Math.min(...confirmed.values());
      if (byAll <= applied) return;
      applied = byAll;
      const table = sent.get(byAll);
      for (const old of [...sent.keys()]) if (old <= byAll) sent.delete(old);
      if (table !== undefined) apply(table);
    },
  };
}

/** The cluster's TLS credentials from the files the options name, checked; undefined without them. */
function clusterTls(options: NodeOptions): ClusterTls | undefined {
  const { clusterTlsCa, clusterTlsCert, clusterTlsKey } = options;
  if (clusterTlsCa === undefined || clusterTlsCert === undefined || clusterTlsKey === undefined) return undefined;
  try {
    return loadClusterTls({ caFile: clusterTlsCa, certFile: clusterTlsCert, keyFile: clusterTlsKey });
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
}

/**
 * Starts an actor's thread; resolves once it listens. `onDeath` is told if the thread then
 * ends without having been asked to ("exit" after "stopped"), or with an error.
 */
function startActor(
  config: ActorConfig,
  logger: Logger,
  onMessage: (message: ActorToMain) => void,
  onDeath: (death: ActorDeath) => void,
): Promise<ActorHandle> {
  const worker = new Worker(workerEntry(), { workerData: config });
  let resolveStopped!: (answered: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  let requestsAnswered = 0;
  let ready = false;
  let exitAsked = false;
  let uncaught: Error | undefined;
  return new Promise<ActorHandle>((resolve, reject) => {
    worker.on("message", (message: ActorToMain) => {
      switch (message.kind) {
        case "ready":
          ready = true;
          resolve({ tid: config.tid, worker, stopped });
          break;
        case "failed":
          reject(new Error(message.message));
          break;
        case "log":
          logger[message.level]({ tid: config.tid }, message.message);
          break;
        case "stopped":
          requestsAnswered = message.requestsAnswered;
          exitAsked = true;
          worker.postMessage({ kind: "exit" } satisfies MainToActor);
          break;
        default:
          onMessage(message);
      }
    });
    worker.once("error", (error) => {
      // The thread's exit follows, and reports the death.
      uncaught = error;
      logger.error(
        { tid: config.tid, err: error },
        `actor ${config.tid}'s thread ended on an exception no handler contained`,
      );
      reject(error);
    });
    worker.once("exit", (code) => {
      resolveStopped(requestsAnswered);
      if (!ready)
        reject(uncaught ?? new Error(`actor ${config.tid}'s thread exited with code ${code} before it listened`));
      else if (uncaught !== undefined || !exitAsked || code !== 0) {
        onDeath({
          tid: config.tid,
          cause:
            uncaught === undefined
              ? `its thread exited with code ${code} unasked`
              : `uncaught ${uncaught.name}: ${uncaught.message}`,
        });
      }
    });
  });
}
