/**
 * `annakv dev-cluster`: a cluster of N nodes on this machine for development, each a child
 * process of this CLI's `start`; SIGINT or SIGTERM stops them, the last started first.
 */
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Command, Option } from "commander";
import { DEFAULT_NODE_OPTIONS, LOG_LEVELS, NodeOptions, OptionError, resolveNodeOptions } from "../node/options";
import { metricsPort, routingAddress, SEED_PORT } from "../protocol/ports";
import { EXIT, integerOption } from "./common";

/** One loopback address per node, 127.0.0.1 to 127.0.0.9. */
const DEV_NODES_MAX = 9;
/** Where only 127.0.0.1 can be bound (macOS), nodes share it this far apart in port offset (a node spans 252 ports). */
const SHARED_HOST_OFFSET_STEP = 1000;
/** How long the whole cluster may take until every node answers /ready. */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const READY_REQUEST_TIMEOUT_MS = 1000;
/** How long each node may take to leave after SIGTERM before it is killed. */
const NODE_STOP_TIMEOUT_MS = 20_000;
/** Lines of a node's log printed when it exits unasked. */
const LOG_TAIL_LINES = 20;
/** SIGHUP too: the nodes have a process group of their own, so a closed terminal reaches only this process. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** The CLI this command runs from: every node is its `start`. */
const CLI_PATH = path.join(__dirname, "main.js");

interface DevClusterFlags {
  nodes: number;
  threads: number;
  portOffset: number;
  globalReplication: number;
  engine: NodeOptions["engine"];
  logLevel: NodeOptions["logLevel"];
  putAcks: number;
}

interface DevNode {
  name: string;
  options: NodeOptions;
  logFile: string;
  child: ChildProcess;
  /** Set once SIGTERM was sent: an exit from then on is asked for. */
  stopping: boolean;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  exited: Promise<void>;
}

/** Every node answers /ready; one exited; the deadline passed first; a stop was asked for first. */
type StartOutcome = "ready" | "exited" | "late" | "stopped";

/** Whether 127.0.0.2 can be bound: all of 127.0.0.0/8 is loopback on Linux, only 127.0.0.1 on macOS. */
function canBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}

/** Each node's options, validated as `start` would: node 1 starts the cluster, the others join through it. */
function planNodes(flags: DevClusterFlags, hostPerNode: boolean): NodeOptions[] {
  if (!Number.isSafeInteger(flags.nodes) || flags.nodes < 1 || flags.nodes > DEV_NODES_MAX) {
    throw new OptionError(`nodes must be an integer from 1 to ${DEV_NODES_MAX}, got ${flags.nodes}`);
  }
  const { threads, portOffset, globalReplication, engine, logLevel, putAcks } = flags;
  return Array.from({ length: flags.nodes }, (_, index) =>
    resolveNodeOptions({
      threads,
      engine,
      logLevel,
      globalReplication,
      putAcks,
      host: hostPerNode ? `127.0.0.${index + 1}` : "127.0.0.1",
      portOffset: portOffset + (hostPerNode ? 0 : index * SHARED_HOST_OFFSET_STEP),
      join: index === 0 ? [] : [`127.0.0.1:${SEED_PORT + portOffset}`],
    }),
  );
}

function startArgs(options: NodeOptions): string[] {
  return [
    CLI_PATH,
    "start",
    `--host=${options.host}`,
    `--port-offset=${options.portOffset}`,
    `--threads=${options.threads}`,
    `--engine=${options.engine}`,
    `--log-level=${options.logLevel}`,
    `--global-replication=${options.globalReplication}`,
    `--put-acks=${options.putAcks}`,
    ...(options.join.length === 0 ? [] : [`--join=${options.join.join(",")}`]),
  ];
}

function describeExit(node: DevNode): string {
  return node.exit!.code !== null ? `with code ${node.exit!.code}` : `on ${node.exit!.signal}`;
}

function logTail(node: DevNode): string {
  const lines = fs.readFileSync(node.logFile, "utf8").trimEnd().split("\n");
  return lines.slice(-LOG_TAIL_LINES).join("\n");
}

function spawnNode(index: number, options: NodeOptions, logDir: string): DevNode {
  const logFile = path.join(logDir, `node-${index + 1}.log`);
  const log = fs.openSync(logFile, "a");
  // Each node's place in the cluster is set here: these in the environment would make node 1 join elsewhere, or every node claim one host.
  const env = { ...process.env };
  delete env.ANNAKV_JOIN;
  delete env.ANNAKV_ADVERTISE_HOST;
  // Detached: a terminal's Ctrl-C reaches only this process, which then stops the nodes in order.
  const child = spawn(process.execPath, startArgs(options), { stdio: ["ignore", log, log], detached: true, env });
  fs.closeSync(log);
  const node: DevNode = {
    name: `node ${index + 1}`,
    options,
    logFile,
    child,
    stopping: false,
    exited: new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        node.exit = { code, signal };
        if (!node.stopping)
          process.stderr.write(
            `${node.name} (pid ${child.pid}) exited ${describeExit(node)} unasked; the end of ${logFile}:\n${logTail(node)}\n`,
          );
        resolve();
      }),
    ),
  };
  return node;
}

async function answersReady(options: NodeOptions): Promise<boolean> {
  try {
    const response = await fetch(`http://${options.host}:${metricsPort(options.portOffset)}/ready`, {
      signal: AbortSignal.timeout(READY_REQUEST_TIMEOUT_MS),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Polls each node's /ready until every one answers 200, one exits, the deadline passes, or a stop is asked for. */
async function waitUntilReady(nodes: DevNode[], deadlineMs: number, stop: AbortSignal): Promise<StartOutcome> {
  const pending = new Set(nodes);
  for (;;) {
    for (const node of pending) {
      if (node.exit !== undefined) return "exited";
      if (await answersReady(node.options)) pending.delete(node);
    }
    if (pending.size === 0) return "ready";
    if (stop.aborted) return "stopped";
    if (Date.now() > deadlineMs) {
      process.stderr.write(
        `not ready after ${READY_TIMEOUT_MS} ms: ${[...pending].map((node) => `${node.name} (${node.logFile})`).join(", ")}\n`,
      );
      return "late";
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** Node 1 first (the others join through it), then the rest together. */
async function startNodes(
  plans: NodeOptions[],
  nodes: DevNode[],
  logDir: string,
  stop: AbortSignal,
): Promise<StartOutcome> {
  const deadlineMs = Date.now() + READY_TIMEOUT_MS;
  nodes.push(spawnNode(0, plans[0], logDir));
  const first = await waitUntilReady(nodes, deadlineMs, stop);
  if (first !== "ready") return first;
  for (let index = 1; index < plans.length; index++) nodes.push(spawnNode(index, plans[index], logDir));
  return waitUntilReady(nodes, deadlineMs, stop);
}

function printCluster(nodes: DevNode[]): void {
  const address = ({ host, portOffset }: NodeOptions) =>
    `--host ${host}${portOffset === 0 ? "" : ` --port-offset ${portOffset}`}`;
  const lines = nodes.map(
    ({ name, child, options }) =>
      `  ${name}  pid ${child.pid}  routing ${routingAddress(options.host, options.portOffset)}  metrics http://${options.host}:${metricsPort(options.portOffset)}/status`,
  );
  const first = nodes[0].options;
  const last = nodes[nodes.length - 1].options;
  process.stdout.write(
    [
      `annakv dev-cluster: ${nodes.length} nodes ready`,
      ...lines,
      `try:  annakv put greeting hello ${address(last)}`,
      `      annakv get greeting ${address(first)}`,
      `      annakv status ${address(first)}`,
      "Ctrl-C stops the cluster: each node leaves in turn, the last started first.",
      "",
    ].join("\n"),
  );
}

/** SIGTERM to each node in turn, the last started first, so that each leaves a cluster still there to take its keys. True if every node exited 0. */
async function stopNodes(nodes: DevNode[]): Promise<boolean> {
  let clean = true;
  for (const node of [...nodes].reverse()) {
    if (node.exit === undefined) {
      node.stopping = true;
      node.child.kill("SIGTERM");
      const overran = setTimeout(() => node.child.kill("SIGKILL"), NODE_STOP_TIMEOUT_MS);
      await node.exited;
      clearTimeout(overran);
    }
    process.stdout.write(`${node.name} (pid ${node.child.pid}) exited ${describeExit(node)}\n`);
    if (node.exit!.code !== 0) clean = false;
  }
  return clean;
}

async function runDevCluster(flags: DevClusterFlags): Promise<void> {
  const plans = planNodes(flags, await canBind("127.0.0.2"));
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "annakv-dev-"));
  process.stdout.write(`annakv dev-cluster: starting ${plans.length} nodes; their logs: ${logDir}/node-N.log\n`);
  const nodes: DevNode[] = [];
  const stop = new AbortController();
  const killNodes = () => {
    for (const node of nodes) if (node.exit === undefined) node.child.kill("SIGKILL");
  };
  const onSignal = () => {
    // A second signal: the user will not wait for the nodes to leave.
    if (stop.signal.aborted) killNodes();
    stop.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // Should this process die on an error, the detached nodes must not outlive it.
  process.once("exit", killNodes);
  const started = await startNodes(plans, nodes, logDir, stop.signal);
  if (started === "ready") {
    printCluster(nodes);
    const stopped = new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
    await Promise.race([stopped, Promise.all(nodes.map((node) => node.exited))]);
  }
  const clean = await stopNodes(nodes);
  for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener("exit", killNodes);
  if (started === "exited" || started === "late") process.exitCode = EXIT.UNAVAILABLE;
  else process.exitCode = clean ? EXIT.OK : EXIT.SHUTDOWN_OVERRAN;
}

export function devClusterCommand(): Command {
  const d = DEFAULT_NODE_OPTIONS;
  return new Command("dev-cluster")
    .description("run a cluster of N nodes on this machine for development, until Ctrl-C")
    .addOption(
      new Option("--nodes <n>", `nodes, 1 to ${DEV_NODES_MAX}: node i binds 127.0.0.i`)
        .default(3)
        .argParser(integerOption),
    )
    .addOption(new Option("--threads <n>", "actors per node").default(1).argParser(integerOption))
    .addOption(
      new Option(
        "--port-offset <n>",
        "every node's port offset (where only 127.0.0.1 binds: node i's is this + 1000 * (i - 1))",
      )
        .default(d.portOffset)
        .argParser(integerOption),
    )
    .addOption(
      new Option("--global-replication <n>", "nodes holding each key")
        .default(d.globalReplication)
        .argParser(integerOption),
    )
    .addOption(new Option("--engine <engine>", "store engine").choices(["wasm", "ts"]).default(d.engine))
    .addOption(new Option("--log-level <level>", "the nodes' log level").choices(LOG_LEVELS).default("warn"))
    .addOption(
      new Option("--put-acks <n>", "replica nodes holding a PUT before it is answered")
        .default(d.putAcks)
        .argParser(integerOption),
    )
    .addHelpText(
      "after",
      `
Node 1 starts the cluster; the others join through it. Each node writes its output to
node-N.log in a new temporary folder (printed at start; kept afterwards). Once every node
answers /ready, one line per node gives its pid, routing address and metrics URL.
SIGINT or SIGTERM (Ctrl-C) sends SIGTERM to each node in turn, the last started first, so
each leaves the cluster gracefully (killed after ${NODE_STOP_TIMEOUT_MS / 1000} s); a second Ctrl-C kills them at once.

Exit codes: 0 every node stopped with code 0; 2 bad option; 4 a node exited or was not
ready within ${READY_TIMEOUT_MS / 1000} s (the end of its log is printed; the others are stopped);
5 a node exited otherwise than with code 0.`,
    )
    .action((flags: DevClusterFlags) => runDevCluster(flags));
}
