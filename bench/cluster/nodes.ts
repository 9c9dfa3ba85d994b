/**
 * Cluster nodes for the cluster benchmark: real `annakv start` processes (the built
 * dist/cli/main.js), node i on 127.0.0.i (all of 127.0.0.0/8 is loopback on Linux), every
 * node of one cluster at the same port offset. Each node's flags are the defaults except
 * what a measurement names. Every process started here is remembered and SIGKILLed when
 * the benchmark exits, however it exits.
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { NodeStatus } from "../../src/node/metrics";
import { metricsPort, routingAddress } from "../../src/protocol/ports";
import { profileFlags } from "../child-processes";
import { waitUntil } from "./wait";

export type { NodeStatus };

const CLI_PATH = path.resolve(__dirname, "../../dist/cli/main.js");
/** A node prints this line once its sockets listen. */
const LISTENING_LINE = "annakv listening";
const START_TIMEOUT_MS = 30_000;
const STATUS_TIMEOUT_MS = 5_000;
/** The tail of a node's output kept for `--logs`; errors quote less. */
const OUTPUT_KEPT_CHARS = 200_000;
const OUTPUT_QUOTED_CHARS = 4000;

export interface NodeOptions {
  /** 1-based: the node's host is 127.0.0.<index>. */
  index: number;
  portOffset: number;
  threads: number;
  globalReplication: number;
  /** Index of the node to join through; none: start a cluster of one. */
  joinIndex?: number;
  /** Further `annakv start` flags. */
  args?: readonly string[];
}

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
/** Where each node's output tail is written when it exits (`--logs DIR`); none: kept only for errors. */
let logDirectory: string | undefined;

export function keepNodeLogs(directory: string): void {
  mkdirSync(directory, { recursive: true });
  logDirectory = directory;
}

/** SIGKILLs every node still running; called on every way out of the benchmark. */
export function killAllNodes(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

process.once("exit", killAllNodes);

export class BenchNode {
  readonly host: string;
  readonly routingAddress: string;
  private readonly metricsUrl: string;
  private outputTail = "";
  /** Resolves when the process exits, with its code or the signal that ended it. */
  readonly exited: Promise<NodeExit>;

  private constructor(
    readonly options: NodeOptions,
    readonly child: ChildProcess,
  ) {
    this.host = `127.0.0.${options.index}`;
    this.routingAddress = routingAddress(this.host, options.portOffset);
    this.metricsUrl = `http://${this.host}:${metricsPort(options.portOffset)}`;
    const keep = (chunk: Buffer) => (this.outputTail = (this.outputTail + chunk.toString()).slice(-OUTPUT_KEPT_CHARS));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        running.delete(child);
        if (logDirectory !== undefined)
          writeFileSync(
            path.join(logDirectory, `${options.portOffset}-${this.host}-${child.pid}.log`),
            this.outputTail,
          );
        resolve({ code, signal });
      }),
    );
  }

  /** Starts the process and resolves once it listens (not yet once it serves: see ready()). */
  static async start(options: NodeOptions): Promise<BenchNode> {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
    const host = `127.0.0.${options.index}`;
    const args = [
      ...profileFlags(),
      CLI_PATH,
      "start",
      `--host=${host}`,
      `--port-offset=${options.portOffset}`,
      `--threads=${options.threads}`,
      `--global-replication=${options.globalReplication}`,
      ...(options.joinIndex === undefined ? [] : [`--join=127.0.0.${options.joinIndex}`]),
      ...(options.args ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const node = new BenchNode(options, child);
    let exit: NodeExit | undefined;
    void node.exited.then((value) => (exit = value));
    await waitUntil(
      () => {
        if (exit !== undefined)
          throw new Error(
            `node ${host} exited (${JSON.stringify(exit)}) while starting:\n${node.output().slice(-OUTPUT_QUOTED_CHARS)}`,
          );
        return node.outputTail.includes(LISTENING_LINE);
      },
      {
        timeoutMs: START_TIMEOUT_MS,
        pollMs: 20,
        what: () => `node ${host} to listen:\n${node.output().slice(-OUTPUT_QUOTED_CHARS)}`,
      },
    );
    return node;
  }

  get pid(): number {
    return this.child.pid!;
  }

  output(): string {
    return this.outputTail;
  }

  isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async status(): Promise<NodeStatus> {
    const response = await fetch(`${this.metricsUrl}/status`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    return (await response.json()) as NodeStatus;
  }

  /** True once /ready answers 200: the node is on the serving ring. */
  async ready(): Promise<boolean> {
    try {
      return (
        (await fetch(`${this.metricsUrl}/ready`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) })).status === 200
      );
    } catch {
      return false;
    }
  }

  /** Sends the signal (if the process still runs) and resolves with how it exited. */
  stop(signal: NodeJS.Signals): Promise<NodeExit> {
    if (this.isRunning()) this.child.kill(signal);
    return this.exited;
  }
}

/** Keys held by the node's actors together. */
export function keyCountOf(status: NodeStatus): number {
  return status.actors.reduce((sum, actor) => sum + actor.store.keyCount, 0);
}

/** One actor counter summed over the node's actors. */
export function counterOf(status: NodeStatus, name: keyof NodeStatus["actors"][number]["counters"]): number {
  return status.actors.reduce((sum, actor) => sum + Number(actor.counters[name]), 0);
}

/** The actors' tuple errors by code, summed over the node's actors. */
export function tupleErrorsOf(status: NodeStatus): Record<string, number> {
  const tupleErrors: Record<string, number> = {};
  for (const actor of status.actors)
    for (const [code, count] of Object.entries(actor.counters.tupleErrors))
      tupleErrors[code] = (tupleErrors[code] ?? 0) + count;
  return tupleErrors;
}

/** The state `status`'s node gives the member on `host` ("alive", "dead", "alive (suspect)", ...). */
export function memberState(status: NodeStatus, host: string): string | undefined {
  return status.cluster.members.find((member) => member.host === host)?.state;
}

/** Starts node 1, then nodes 2..count joining it one after the other, and waits until every node serves and sees `count` alive members. */
export async function startCluster(
  count: number,
  options: Omit<NodeOptions, "index" | "joinIndex">,
  timeoutMs = 60_000,
): Promise<BenchNode[]> {
  const nodes: BenchNode[] = [];
  for (let index = 1; index <= count; index++) {
    nodes.push(await BenchNode.start({ ...options, index, joinIndex: index === 1 ? undefined : 1 }));
  }
  await waitForAlive(nodes, count, timeoutMs);
  return nodes;
}

/** Waits until every node answers /ready and sees `aliveCount` members alive. */
export async function waitForAlive(nodes: readonly BenchNode[], aliveCount: number, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      for (const node of nodes) {
        if (!(await node.ready())) return false;
        const status = await node.status();
        if (status.cluster.members.filter((member) => member.state === "alive").length !== aliveCount) return false;
      }
      return true;
    },
    {
      timeoutMs,
      pollMs: 100,
      what: () => `${aliveCount} alive members on ${nodes.map((node) => node.host).join(", ")}`,
    },
  );
}

/** SIGKILLs every node of a finished measurement and waits for them to be gone. */
export async function killNodes(nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
}

/** Keys held on each node (by host), read together. */
export async function keyCounts(nodes: readonly BenchNode[]): Promise<number[]> {
  return Promise.all(nodes.map(async (node) => keyCountOf(await node.status())));
}
