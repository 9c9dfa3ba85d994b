/**
 * What the soak records each second: the node's RSS (/proc), its counters from /status
 * (per-second increments of errors and drops, and the gauges as they stand), and the
 * regular clients' latencies and errors in that second. Then the run's summary: RSS growth
 * after warm-up, and errors split into those the node's limits produce by design and the rest.
 */
import { type BenchNode, type NodeStatus, tupleErrorsOf } from "../cluster/nodes";
import { processRssBytes } from "../fuzz/memory";
import type { ClientLoad } from "./load";

/** The node's counters the soak follows, summed over its actors (and routing where it has them). */
export interface NodeCounters {
  repliesDropped: number;
  sendErrors: number;
  badFrames: number;
  connectionsRefused: number;
  gossipFramesDropped: number;
  tupleErrors: Record<string, number>;
}

export interface Sample {
  second: number;
  rssBytes: number;
  operations: number;
  latencyMsP50: number;
  latencyMsP99: number;
  clientErrors: Record<string, number>;
  /** Increments of the node's counters over the second. */
  node: NodeCounters;
  /** Gauges: what waits for clients to read it, the connections open, the stores' bytes. */
  repliesQueuedBytes: number;
  replyConnections: number;
  clientConnections: number;
  storeBytesUsed: number;
}

function countersOf(status: NodeStatus): NodeCounters {
  const sum = (read: (counters: NodeStatus["actors"][number]["counters"]) => number) =>
    status.actors.reduce((total, actor) => total + read(actor.counters), 0);
  const tupleErrors = tupleErrorsOf(status);
  return {
    repliesDropped: sum((counters) => counters.repliesDropped),
    sendErrors: sum((counters) => counters.sendErrors),
    badFrames: sum((counters) => counters.badFrames) + status.routing.badFrames,
    connectionsRefused: sum((counters) => counters.connectionsRefused) + (status.routing.connectionsRefused ?? 0),
    gossipFramesDropped: sum((counters) => counters.gossipFramesDropped),
    tupleErrors,
  };
}

export function counterIncrements(now: NodeCounters, before: NodeCounters): NodeCounters {
  const tupleErrors: Record<string, number> = {};
  for (const [code, count] of Object.entries(now.tupleErrors))
    if (count !== (before.tupleErrors[code] ?? 0)) tupleErrors[code] = count - (before.tupleErrors[code] ?? 0);
  return {
    repliesDropped: now.repliesDropped - before.repliesDropped,
    sendErrors: now.sendErrors - before.sendErrors,
    badFrames: now.badFrames - before.badFrames,
    connectionsRefused: now.connectionsRefused - before.connectionsRefused,
    gossipFramesDropped: now.gossipFramesDropped - before.gossipFramesDropped,
    tupleErrors,
  };
}

export class SecondSampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private previous: NodeCounters | undefined;
  private operationsBefore = 0;
  private readonly startedMs = performance.now();
  /** The first status read, against which the run's totals are counted. */
  first: NodeCounters | undefined;
  last: NodeCounters | undefined;

  constructor(
    private readonly node: BenchNode,
    private readonly load: ClientLoad,
  ) {}

  async start(): Promise<void> {
    this.previous = this.first = countersOf(await this.node.status());
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const nextMs = (this.samples.length + 1) * 1000;
    this.timer = setTimeout(
      () => void this.sample().finally(() => this.schedule()),
      Math.max(0, nextMs - (performance.now() - this.startedMs)),
    );
  }

  private async sample(): Promise<void> {
    const rssBytes = processRssBytes(this.node.pid);
    const second = this.load.takeSecond();
    const status = await this.node.status().catch(() => undefined);
    const counters = status === undefined ? this.previous! : countersOf(status);
    const sum = (read: (actor: NodeStatus["actors"][number]) => number) =>
      status === undefined ? NaN : status.actors.reduce((total, actor) => total + read(actor), 0);
    this.samples.push({
      second: this.samples.length + 1,
      rssBytes,
      operations: this.load.operations - this.operationsBefore,
      latencyMsP50: second.latency.latencyMsP50,
      latencyMsP99: second.latency.latencyMsP99,
      clientErrors: second.errors,
      node: counterIncrements(counters, this.previous!),
      repliesQueuedBytes: sum((actor) => actor.counters.repliesQueuedBytes),
      replyConnections: sum((actor) => actor.counters.replyConnections),
      clientConnections: sum((actor) => actor.counters.clientConnections),
      storeBytesUsed: sum((actor) => actor.store.bytesUsed),
    });
    this.operationsBefore = this.load.operations;
    this.previous = this.last = counters;
  }
}

/** Fraction of the RSS past which the soak's target (flat after warm-up) is missed. */
export const RSS_FLAT_TOLERANCE = 0.1;
/** Samples averaged for the RSS at warm-up's end and at the run's end: one second's reading swings with garbage collection. */
const RSS_WINDOW_SECONDS = 5;

export interface RssSummary {
  warmupSeconds: number;
  /** Mean of the last RSS_WINDOW_SECONDS samples of warm-up: the reference. */
  atWarmupEndBytes: number;
  /** Mean of the run's last RSS_WINDOW_SECONDS samples. */
  atEndBytes: number;
  maxAfterWarmupBytes: number;
  minAfterWarmupBytes: number;
  /** (at end - at warm-up's end) / at warm-up's end. */
  rssGrowthAfterWarmup: number;
  /** (max after warm-up - at warm-up's end) / at warm-up's end: what the target is checked on. */
  rssPeakGrowthAfterWarmup: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function rssSummary(samples: readonly Sample[], warmupSeconds: number): RssSummary {
  const warmup = samples.filter((sample) => sample.second <= warmupSeconds);
  const after = samples.filter((sample) => sample.second > warmupSeconds).map((sample) => sample.rssBytes);
  if (warmup.length === 0 || after.length === 0)
    throw new RangeError(`a run of ${samples.length} s leaves nothing on one side of a ${warmupSeconds}-s warm-up`);
  const atWarmupEndBytes = mean(warmup.slice(-RSS_WINDOW_SECONDS).map((sample) => sample.rssBytes));
  const atEndBytes = mean(after.slice(-RSS_WINDOW_SECONDS));
  const maxAfterWarmupBytes = Math.max(...after);
  return {
    warmupSeconds,
    atWarmupEndBytes,
    atEndBytes,
    maxAfterWarmupBytes,
    minAfterWarmupBytes: Math.min(...after),
    rssGrowthAfterWarmup: atEndBytes / atWarmupEndBytes - 1,
    rssPeakGrowthAfterWarmup: maxAfterWarmupBytes / atWarmupEndBytes - 1,
  };
}

/**
 * Errors the node's limits produce by design under this load: replies dropped for the
 * slow readers (the per-client and slow-clients-together bounds), reply connections that
 * failed because a client closed (the clients come and go), and WRONG_THREAD, which sends
 * a client whose addresses went stale (the hot key got replicas) back to routing. Anything
 * else (a regular client's error, any other tuple error, a bad frame, a refused
 * connection, a gossip frame dropped) is not.
 */
export function classifyErrors(
  total: NodeCounters,
  clientErrors: Record<string, number>,
): { byDesign: Record<string, number>; unexpected: Record<string, number> } {
  const { WRONG_THREAD: wrongThread = 0, ...otherTupleErrors } = total.tupleErrors;
  const byDesign = { repliesDropped: total.repliesDropped, sendErrors: total.sendErrors, WRONG_THREAD: wrongThread };
  const unexpected: Record<string, number> = {
    badFrames: total.badFrames,
    connectionsRefused: total.connectionsRefused,
    gossipFramesDropped: total.gossipFramesDropped,
  };
  for (const [code, count] of Object.entries(otherTupleErrors)) unexpected[`tuple ${code}`] = count;
  for (const [code, count] of Object.entries(clientErrors)) unexpected[`client ${code}`] = count;
  return { byDesign, unexpected };
}
