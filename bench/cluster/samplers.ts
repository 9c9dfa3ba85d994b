/**
 * What the machine and the nodes did second by second while a load ran: the machine's
 * idle CPU share and the nodes' CPU (from Linux's /proc) at every whole second of the
 * wall clock, and every counter report the nodes' actors posted (their requests and the
 * time they spent on gossip, rebalance pages included). Used to tell a node that waits
 * from a machine that has no core left.
 */
import { readFileSync } from "node:fs";
import { processCpuSeconds } from "../cpu";
import type { BenchNode } from "./nodes";
import { sum } from "./stats";

/** Idle and total CPU ticks of the whole machine so far (/proc/stat's first line). */
function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  return { idle: fields[3] + fields[4], total: sum(fields) };
}

interface SecondMark {
  second: number;
  idleTicks: number;
  totalTicks: number;
  nodesCpuSeconds: number;
}

export interface WindowCpu {
  /** Share of the machine's CPU time left idle in the window (0 = every core busy). */
  machineIdleShare: number;
  /** Cores the node processes used together in the window. */
  nodesCpuCores: number;
}

/** Marks the machine's and the nodes' CPU at each whole second, so that each 1-s window gets its own figures. */
export class SecondCpuSampler {
  private readonly marks = new Map<number, SecondMark>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly nodes: () => readonly BenchNode[]) {
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(
      () => {
        const second = Math.round(Date.now() / 1000);
        const ticks = machineTicks();
        const nodesCpuSeconds = sum(this.nodes().map((node) => (node.isRunning() ? processCpuSeconds(node.pid) : 0)));
        this.marks.set(second, { second, idleTicks: ticks.idle, totalTicks: ticks.total, nodesCpuSeconds });
        this.schedule();
      },
      1000 - (Date.now() % 1000),
    );
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The window [second, second + 1), or undefined if either end was not marked (or a node came or went in it). */
  window(second: number): WindowCpu | undefined {
    const start = this.marks.get(second);
    const end = this.marks.get(second + 1);
    if (start === undefined || end === undefined) return undefined;
    return {
      machineIdleShare: (end.idleTicks - start.idleTicks) / Math.max(1, end.totalTicks - start.totalTicks),
      // A node started within the window counts its whole start-up CPU here: that is where it was spent.
      nodesCpuCores: Math.max(0, end.nodesCpuSeconds - start.nodesCpuSeconds),
    };
  }
}

export interface ActorReport {
  host: string;
  tid: number;
  /** Wall-clock ms when the report was first seen on /status (reports are posted once a second). */
  seenAtMs: number;
  /** Over the time since the actor's previous report. */
  requestsPerSecond: number;
  /** Share of that time spent on gossip (dirty keys, rebalance pages, handoffs, anti-entropy). */
  gossipBusyShare: number;
  /** Share spent decoding, running and encoding requests. */
  requestBusyShare: number;
}

interface ReportMark {
  uptimeMs: number;
  requests: number;
  gossipMs: number;
  requestMs: number;
}

const REPORT_POLL_MS = 200;

/** Polls the nodes' /status and keeps every new actor report, as rates over the time since that actor's previous one. */
export class ActorReportSampler {
  readonly reports: ActorReport[] = [];
  private readonly last = new Map<string, ReportMark>();
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly nodes: () => readonly BenchNode[]) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await Promise.all(
        this.nodes()
          .filter((node) => node.isRunning())
          .map((node) => this.poll(node)),
      );
      await new Promise((resolve) => setTimeout(resolve, REPORT_POLL_MS));
    }
  }

  private async poll(node: BenchNode): Promise<void> {
    let status;
    try {
      status = await node.status();
    } catch {
      return; // a node still starting, or gone: its next report will do
    }
    for (const actor of status.actors) {
      const key = `${node.host}/${node.pid}/${actor.tid}`;
      const { counters } = actor;
      const mark = {
        uptimeMs: actor.uptimeMs,
        requests: counters.requests,
        gossipMs: counters.gossipMs,
        requestMs: counters.decodeMs + counters.storeMs + counters.encodeMs,
      };
      const previous = this.last.get(key);
      this.last.set(key, mark);
      if (previous === undefined || previous.uptimeMs === mark.uptimeMs) continue;
      const elapsedMs = mark.uptimeMs - previous.uptimeMs;
      this.reports.push({
        host: node.host,
        tid: actor.tid,
        seenAtMs: Date.now(),
        requestsPerSecond: ((mark.requests - previous.requests) * 1000) / elapsedMs,
        gossipBusyShare: (mark.gossipMs - previous.gossipMs) / elapsedMs,
        requestBusyShare: (mark.requestMs - previous.requestMs) / elapsedMs,
      });
    }
  }

  async stop(): Promise<ActorReport[]> {
    this.stopped = true;
    await this.done;
    return this.reports;
  }
}

const TRACE_INTERVAL_MS = 100;
/** Linux counts /proc/stat in ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;

interface TracePoint {
  atMs: number;
  nodesCpuSeconds: number;
  machineBusySeconds: number;
}

/** The nodes' and the machine's CPU every TRACE_INTERVAL_MS, to take their use over a span known only afterwards. */
export class CpuTrace {
  private readonly points: TracePoint[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly nodes: readonly BenchNode[]) {
    this.sample();
    this.timer = setInterval(() => this.sample(), TRACE_INTERVAL_MS);
  }

  private sample(): void {
    const ticks = machineTicks();
    this.points.push({
      atMs: performance.now(),
      nodesCpuSeconds: sum(this.nodes.map((node) => processCpuSeconds(node.pid))),
      machineBusySeconds: (ticks.total - ticks.idle) / TICKS_PER_SECOND,
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Cores the nodes and the whole machine used between the samples nearest to `fromMs` and `toMs` (performance.now() times). */
  coresBetween(fromMs: number, toMs: number): { nodesCpuCores: number; machineBusyCores: number } {
    const nearest = (atMs: number) =>
      this.points.reduce((best, point) => (Math.abs(point.atMs - atMs) < Math.abs(best.atMs - atMs) ? point : best));
    const from = nearest(fromMs);
    const to = nearest(toMs);
    const seconds = (to.atMs - from.atMs) / 1000;
    return {
      nodesCpuCores: (to.nodesCpuSeconds - from.nodesCpuSeconds) / seconds,
      machineBusyCores: (to.machineBusySeconds - from.machineBusySeconds) / seconds,
    };
  }
}
