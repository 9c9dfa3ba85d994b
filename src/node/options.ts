/**
 * The node's options: defaults in one place, validated at the edge. The CLI, environment
 * variables and library callers all go through resolveNodeOptions.
 */
import os from "node:os";
import { DEFAULT_LIMITS } from "../core/limits";
import type { EngineName } from "../core/store";
import { parseHost } from "../protocol/zmtp/endpoint";
import { MAX_ACTOR_THREADS } from "./ports";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface NodeOptions {
  /** Actors, one per worker thread. */
  threads: number;
  /** Interface every socket binds to. Loopback unless asked otherwise. */
  host: string;
  /** Added to every port (routing 6450, actors 6200+tid, gossip 6250+tid, metrics 6400). */
  portOffset: number;
  engine: EngineName;
  /** Actors holding each key: 1 = partitioned, threads = every actor holds every key. */
  localReplication: number;
  gossipPeriodMs: number;
  /** Selective replication: hot keys get more replicas (up to every actor), cold keys the default. */
  hotKeyReplication: boolean;
  /** How often actors report sampled key accesses and the node decides replication factors. */
  hotKeyWindowMs: number;
  /** A key is hot above this share of the mean actor load; each replica then serves at most that much of it. */
  hotKeyThreshold: number;
  /** Keys with fewer requests per second are never hot. */
  hotKeyMinOpsPerSec: number;
  /** Windows in a row a hot key must stay cooler before its extra replicas go. */
  hotKeyCooldownWindows: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Memory limit of each actor's store. */
  maxStoreMemoryBytes: number;
  /** Serve Prometheus /metrics and JSON /status over HTTP on 6400 + port offset. */
  metrics: boolean;
  logLevel: LogLevel;
  /** Time SIGINT/SIGTERM gives in-flight requests and gossip before the node exits. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_NODE_OPTIONS: Readonly<NodeOptions> = Object.freeze({
  threads: Math.min(os.availableParallelism(), MAX_ACTOR_THREADS),
  host: "127.0.0.1",
  portOffset: 0,
  engine: "wasm",
  localReplication: 1,
  gossipPeriodMs: 100,
  hotKeyReplication: true,
  hotKeyWindowMs: 1000,
  hotKeyThreshold: 0.05,
  hotKeyMinOpsPerSec: 1000,
  hotKeyCooldownWindows: 5,
  maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes,
  maxValueBytes: DEFAULT_LIMITS.maxValueBytes,
  maxStoreMemoryBytes: DEFAULT_LIMITS.maxMemoryBytes,
  metrics: true,
  logLevel: "info",
  shutdownTimeoutMs: 5000,
});

/** A bad option: the CLI prints the message and exits with status 2. */
export class OptionError extends Error {
  readonly code = "BAD_OPTION";
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

export function resolveNodeOptions(partial: Partial<NodeOptions> = {}): NodeOptions {
  const options: NodeOptions = { ...DEFAULT_NODE_OPTIONS, ...partial };
  requireInteger("threads", options.threads, 1, MAX_ACTOR_THREADS);
  requireInteger("portOffset", options.portOffset, 0, 65535 - 6500);
  requireInteger("localReplication", options.localReplication, 1, options.threads);
  requireInteger("gossipPeriodMs", options.gossipPeriodMs, 1, 3_600_000);
  requireInteger("hotKeyWindowMs", options.hotKeyWindowMs, 10, 3_600_000);
  requireInteger("hotKeyMinOpsPerSec", options.hotKeyMinOpsPerSec, 0, 1_000_000_000);
  requireInteger("hotKeyCooldownWindows", options.hotKeyCooldownWindows, 1, 1_000_000);
  if (!(Number.isFinite(options.hotKeyThreshold) && options.hotKeyThreshold > 0 && options.hotKeyThreshold <= 100)) {
    throw new OptionError(`hotKeyThreshold must be a number above 0 and at most 100, got ${options.hotKeyThreshold}`);
  }
  if (typeof options.hotKeyReplication !== "boolean") {
    throw new OptionError(`hotKeyReplication must be on or off, got ${JSON.stringify(options.hotKeyReplication)}`);
  }
  requireInteger("maxKeyBytes", options.maxKeyBytes, 1, 64 * 1024 * 1024);
  requireInteger("maxValueBytes", options.maxValueBytes, 1, 1024 * 1024 * 1024);
  requireInteger("maxStoreMemoryBytes", options.maxStoreMemoryBytes, 1024 * 1024, 4 * 1024 * 1024 * 1024);
  requireInteger("shutdownTimeoutMs", options.shutdownTimeoutMs, 1, 600_000);
  if (options.engine !== "wasm" && options.engine !== "ts") {
    throw new OptionError(`engine must be "wasm" or "ts", got ${JSON.stringify(options.engine)}`);
  }
  if (!LOG_LEVELS.includes(options.logLevel)) {
    throw new OptionError(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(options.logLevel)}`);
  }
  const host = parseHost(options.host);
  if (host === undefined) {
    throw new OptionError(`host must be an IP address (IPv6 with or without brackets) or host name, got ${JSON.stringify(options.host)}`);
  }
  return { ...options, host };
}
