/**
 * What one run of the server benchmark (bench/server.ts) measures: its node setups, client
 * shape, Redis setups, durations and outputs, with the defaults and the command line that
 * sets them.
 */
import { parseArgs } from "node:util";
import type { EngineName } from "../src/core/store";
import { ClientTransport, parseClientTransport } from "./client-link";
import { positiveInteger } from "./options";

/** One `annakv start` measured: its engine and actor count. */
export interface NodeSetup {
  engine: EngineName;
  threads: number;
}

export interface ServerBenchConfig {
  /**
   * Nodes measured in one run, one after the other, each against the same Redis run. The
   * first is `annakv start`'s default here (one actor per core); one actor fewer leaves the
   * load generator a core on a small machine.
   */
  setups: NodeSetup[];
  /** Far from the test suite's offsets, so a bench and the tests can share the machine. */
  portOffset: number;
  redisPort: number;
  /** The echo floor's first port; thread t listens on echoPort + t. */
  echoPort: number;
  concurrency: number;
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  /**
   * Generator processes the annakv load is dealt among (the concurrency and connections
   * split evenly), and redis-benchmark's `--threads`: one is enough on 2 cores; on many,
   * one process could not load the node.
   */
  generators: number;
  /** Redis setups measured, by io-threads (1 = Redis as it comes); comparisons use the first; none: annakv alone. */
  redisIoThreads: number[];
  /** Whether the echo floors are measured (one client process: no floor on many cores). */
  floors: boolean;
  /** Whether the Zipf mixes (recorded, not compared with Redis) are run. */
  mixes: boolean;
  /** Names the result files: server-<machine>.json (none: server.json, or server-<client shape>.json). */
  machine: string | undefined;
  outDir: string | undefined;
  /** Keys per request of the pipelined comparison, and Redis's -P. */
  batchKeys: number;
  zipfSkew: number;
  warmupMs: number;
  durationMs: number;
  /** redis-benchmark -n, per test (SET, GET): unpipelined and pipelined runs. */
  redisRequests: number;
  redisRequestsPipelined: number;
  seed: number;
  /** The sockets of annakv's load generator and of the echo floor's client. */
  clientTransport: ClientTransport;
  /**
   * Clients (connections) the generator deals its `concurrency` requests among. Equal to
   * the concurrency, it is redis-benchmark's shape (-c 50: 50 clients, one request each in
   * flight); 1 puts every request on one connection, which Redis's equivalent is
   * `-c 1 -P 50` (docs/performance.md compares both).
   */
  connections: number;
  /**
   * Times the whole set (every setup, the floors, Redis) is measured, one round after the
   * other: each comparison reports its median round by annakv/Redis ratio, as this
   * machine's speed drifts by tens of percent from minute to minute.
   */
  rounds: number;
}

export const FULL_CONFIG: ServerBenchConfig = {
  setups: [
    { engine: "wasm", threads: 2 },
    { engine: "wasm", threads: 1 },
    { engine: "ts", threads: 2 },
  ],
  portOffset: 3100,
  redisPort: 7399,
  echoPort: 7300,
  concurrency: 50,
  keyCount: 100_000,
  keyBytes: 16,
  valueBytes: 64,
  generators: 1,
  redisIoThreads: [1],
  floors: true,
  mixes: true,
  machine: undefined,
  outDir: undefined,
  batchKeys: 16,
  zipfSkew: 1.0,
  warmupMs: 1000,
  durationMs: 5000,
  redisRequests: 300_000,
  redisRequestsPipelined: 2_000_000,
  seed: 20240601,
  clientTransport: "zmtp",
  connections: 50,
  rounds: 3,
};

export const QUICK_CONFIG: ServerBenchConfig = {
  ...FULL_CONFIG,
  warmupMs: 300,
  durationMs: 1500,
  redisRequests: 50_000,
  redisRequestsPipelined: 300_000,
  rounds: 1,
};

/** A setup's name in logs, JSON keys and chart legends, e.g. "annakv wasm x2". */
export function setupName({ engine, threads }: NodeSetup): string {
  return `annakv ${engine} x${threads}`;
}

function parseSetups(text: string): NodeSetup[] {
  return text.split(",").map((item) => {
    const [engine, threadsText] = item.split(":");
    const threads = Number(threadsText);
    if ((engine !== "wasm" && engine !== "ts") || !Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`--setups takes ENGINE:THREADS items (wasm or ts, a positive count), got ${item}`);
    }
    return { engine, threads };
  });
}

/** The command line's config, every flag checked. */
export function parseConfig(): { config: ServerBenchConfig; quick: boolean } {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      setups: { type: "string" },
      concurrency: { type: "string" },
      "client-transport": { type: "string" },
      connections: { type: "string" },
      rounds: { type: "string" },
      generators: { type: "string" },
      "redis-io-threads": { type: "string" },
      "warmup-ms": { type: "string" },
      "duration-ms": { type: "string" },
      "no-floors": { type: "boolean", default: false },
      "no-mixes": { type: "boolean", default: false },
      "no-redis": { type: "boolean", default: false },
      "port-offset": { type: "string" },
      "key-count": { type: "string" },
      machine: { type: "string" },
      "out-dir": { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const config = quick ? { ...QUICK_CONFIG } : { ...FULL_CONFIG };
  if (values.setups !== undefined) config.setups = parseSetups(values.setups);
  if (values.concurrency !== undefined) config.concurrency = config.connections = Number(values.concurrency);
  if (values["client-transport"] !== undefined)
    config.clientTransport = parseClientTransport(values["client-transport"]);
  if (values.connections !== undefined) config.connections = Number(values.connections);
  config.rounds = positiveInteger(values.rounds, config.rounds, "--rounds");
  config.generators = positiveInteger(values.generators, config.generators, "--generators");
  if (values["redis-io-threads"] !== undefined)
    config.redisIoThreads = values["redis-io-threads"]
      .split(",")
      .map((item) => positiveInteger(item, 1, "--redis-io-threads"));
  config.warmupMs = positiveInteger(values["warmup-ms"], config.warmupMs, "--warmup-ms");
  config.durationMs = positiveInteger(values["duration-ms"], config.durationMs, "--duration-ms");
  if (values["no-floors"]) config.floors = false;
  if (values["no-mixes"]) config.mixes = false;
  if (values["no-redis"]) config.redisIoThreads = [];
  config.keyCount = positiveInteger(values["key-count"], config.keyCount, "--key-count");
  if (values["port-offset"] !== undefined) {
    config.portOffset = Number(values["port-offset"]);
    if (!(Number.isInteger(config.portOffset) && config.portOffset >= 0))
      throw new RangeError(`--port-offset takes a non-negative integer, got ${values["port-offset"]}`);
  }
  if (values.machine !== undefined) {
    if (!/^[\w.-]+$/.test(values.machine))
      throw new RangeError(`--machine names files: letters, digits, '.', '-' or '_', got ${values.machine}`);
    config.machine = values.machine;
  }
  config.outDir = values["out-dir"];
  if (!(Number.isInteger(config.concurrency) && config.concurrency >= 1))
    throw new RangeError(`--concurrency must be a positive integer, got ${values.concurrency}`);
  if (!(Number.isInteger(config.connections) && config.connections >= 1 && config.connections <= config.concurrency))
    throw new RangeError(`--connections must be an integer from 1 to the concurrency, got ${config.connections}`);
  if (config.connections < config.generators)
    throw new RangeError(
      `--generators ${config.generators} needs at least as many connections (${config.connections}): each generator has its own`,
    );
  return { config, quick };
}
