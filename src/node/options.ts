/**
 * The node's options: defaults in one place, validated at the edge. The CLI, environment
 * variables and library callers all go through resolveNodeOptions.
 */
import os from "node:os";
import { DEFAULT_LIMITS } from "../core/limits";
import type { EngineName } from "../core/store";
import { parseHost } from "../protocol/zmtp/endpoint";
import { LISTENER_LIMITS } from "../protocol/zmtp/socket-limits";
import { MEMBERS_MAX } from "../cluster/membership-table";
import { ACTOR_GOSSIP_BASE_PORT, ACTOR_THREADS_MAX, SEED_PORT } from "../protocol/ports";

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
  /** Client connections to each client-facing listening socket (each actor's request port, routing); more are refused. */
  maxConnections: number;
  /** A client connection that sends nothing for this long is closed (0: never), freeing its slot. */
  idleTimeoutMs: number;
  /** Serve Prometheus /metrics and JSON /status over HTTP on 6400 + port offset. */
  metrics: boolean;
  logLevel: LogLevel;
  /** Time SIGINT/SIGTERM gives in-flight requests and gossip before the node exits. */
  shutdownTimeoutMs: number;
  /** The host other nodes and clients are told; the bound host unless that is every interface. */
  advertiseHost?: string;
  /** Seeds to join through, `HOST[:PORT]` (port: 6350 + this node's offset); none: start a new cluster. */
  join: string[];
  /** Nodes holding each key (a property of the cluster: every node must give the same). */
  globalReplication: number;
  /** Replica nodes that must hold a PUT before it is answered (1: Anna's behaviour); clients may ask per request. */
  putAcks: number;
  /** How long a PUT waits for those acknowledgements before its tuple gets TIMEOUT. */
  putAckTimeoutMs: number;
  /** A member silent this long is declared dead (suspected at half of it). */
  failureTimeoutMs: number;
  /** How long a node waits for a seed to let it in. */
  joinTimeoutMs: number;
  /** How long a leaving node (SIGTERM) may take to hand its keys to their other owners. */
  leaveTimeoutMs: number;
  /** How often each actor compares digests of its keys with their other replicas (0: never). */
  antiEntropyPeriodMs: number;
  /**
   * The share of each gossip period an actor may spend moving keys when the cluster's
   * layout changes (join, leave, failure): lower serves more meanwhile, higher moves keys
   * (and restores lost copies) sooner.
   */
  rebalanceShare: number;
  /**
   * How far the accept floor of stamped causal PUTs (MULTI_CAUSAL or causal LWW) trails
   * each actor's wall clock (docs/causal-stability.md): a PUT stamped further back is
   * refused STALE_STAMP and re-stamped by its session. It bounds the client clock skew served without a retry,
   * and the stable time trails the clock by at least this much.
   */
  causalAcceptLagMs: number;
  /** Nodes join only a cluster of the same name. */
  clusterName: string;
  /** PEM files of the cluster's mutual TLS: its CA, this node's certificate and key. */
  clusterTlsCa?: string;
  clusterTlsCert?: string;
  clusterTlsKey?: string;
  /** The network is trusted: cluster ports may be reached beyond loopback without credentials. */
  clusterInsecure: boolean;
}

export const DEFAULT_NODE_OPTIONS: Readonly<NodeOptions> = Object.freeze({
  threads: Math.min(os.availableParallelism(), ACTOR_THREADS_MAX),
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
  maxConnections: LISTENER_LIMITS.maxConnections,
  // Ten times the 30 s after which annakv's clients close an unused connection; a libzmq client reconnects at once.
  idleTimeoutMs: 300_000,
  metrics: true,
  logLevel: "info",
  shutdownTimeoutMs: 5000,
  join: [],
  globalReplication: 2,
  putAcks: 1,
  putAckTimeoutMs: 2000,
  failureTimeoutMs: 5000,
  joinTimeoutMs: 15_000,
  leaveTimeoutMs: 60_000,
  antiEntropyPeriodMs: 30_000,
  rebalanceShare: 0.1,
  causalAcceptLagMs: 25,
  clusterName: "annakv",
  clusterInsecure: false,
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
  requireInteger("threads", options.threads, 1, ACTOR_THREADS_MAX);
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
  requireInteger("maxConnections", options.maxConnections, 1, 1_000_000);
  requireInteger("idleTimeoutMs", options.idleTimeoutMs, 0, 86_400_000);
  if (options.engine !== "wasm" && options.engine !== "ts") {
    throw new OptionError(`engine must be "wasm" or "ts", got ${JSON.stringify(options.engine)}`);
  }
  if (!LOG_LEVELS.includes(options.logLevel)) {
    throw new OptionError(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(options.logLevel)}`);
  }
  const host = parseHost(options.host);
  if (host === undefined) {
    throw new OptionError(
      `host must be an IP address (IPv6 with or without brackets) or host name, got ${JSON.stringify(options.host)}`,
    );
  }
  resolveClusterOptions({ ...options, host });
  return { ...options, host, advertiseHost: resolveAdvertiseHost(host, options.advertiseHost) };
}

function resolveClusterOptions(options: NodeOptions): void {
  requireInteger("globalReplication", options.globalReplication, 1, MEMBERS_MAX);
  requireInteger("putAcks", options.putAcks, 1, MEMBERS_MAX);
  requireInteger("putAckTimeoutMs", options.putAckTimeoutMs, 1, 600_000);
  requireInteger("failureTimeoutMs", options.failureTimeoutMs, 1000, 3_600_000);
  requireInteger("joinTimeoutMs", options.joinTimeoutMs, 1, 3_600_000);
  requireInteger("leaveTimeoutMs", options.leaveTimeoutMs, 1, 3_600_000);
  requireInteger("antiEntropyPeriodMs", options.antiEntropyPeriodMs, 0, 86_400_000);
  requireInteger("causalAcceptLagMs", options.causalAcceptLagMs, 0, 3_600_000);
  if (!(Number.isFinite(options.rebalanceShare) && options.rebalanceShare > 0 && options.rebalanceShare <= 1)) {
    throw new OptionError(`rebalanceShare must be a number above 0 and at most 1, got ${options.rebalanceShare}`);
  }
  if (options.putAcks > options.globalReplication) {
    throw new OptionError(
      `putAcks (${options.putAcks}) cannot be above globalReplication (${options.globalReplication}): a key has no more replica nodes to acknowledge`,
    );
  }
  if (typeof options.clusterName !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(options.clusterName)) {
    throw new OptionError(
      `clusterName must be 1 to 64 letters, digits, dots, dashes or underscores, got ${JSON.stringify(options.clusterName)}`,
    );
  }
  if (!Array.isArray(options.join)) throw new OptionError("join must be a list of HOST[:PORT]");
  for (const seed of options.join) {
    if (parseSeed(seed, 0) === undefined)
      throw new OptionError(`join: ${JSON.stringify(seed)} is not HOST or HOST:PORT (IPv6 as [::1] or [::1]:6350)`);
  }
  const tlsFiles = [options.clusterTlsCa, options.clusterTlsCert, options.clusterTlsKey].filter(
    (file) => file !== undefined,
  );
  if (tlsFiles.length !== 0 && tlsFiles.length !== 3) {
    throw new OptionError(
      "cluster TLS needs all three of clusterTlsCa, clusterTlsCert and clusterTlsKey (annakv certs DIR makes them)",
    );
  }
  if (tlsFiles.length === 0 && !options.clusterInsecure && !isLoopbackHost(options.host)) {
    throw new OptionError(
      `host ${options.host} would expose the cluster ports (membership ${SEED_PORT}+offset, gossip ${ACTOR_GOSSIP_BASE_PORT}+offset+tid) beyond loopback without credentials: ` +
        "give --cluster-tls-ca, --cluster-tls-cert and --cluster-tls-key (annakv certs DIR makes them), or --cluster-insecure if the network is trusted",
    );
  }
}

/** A seed as `{ host, port }`; the port defaults to the membership port of `portOffset`. Undefined when malformed. */
export function parseSeed(seed: string, portOffset: number): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(seed);
  if (match === null) return undefined;
  const host = parseHost(match[1]);
  const port = match[2] === undefined ? SEED_PORT + portOffset : Number(match[2]);
  if (host === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Hosts that bind every interface: no client can connect to them. */
function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "*" || host === "::";
}

/**
 * The host other nodes and clients are told. A node bound to every interface advertises
 * the first external IPv4 (or IPv6) address of the machine unless told one; with none, it
 * cannot say where it is reached and refuses to start.
 */
function resolveAdvertiseHost(host: string, advertiseHost: string | undefined): string {
  if (advertiseHost !== undefined) {
    const parsed = parseHost(advertiseHost);
    if (parsed === undefined || isWildcardHost(parsed))
      throw new OptionError(
        `advertiseHost must be an address or host name others can reach, got ${JSON.stringify(advertiseHost)}`,
      );
    return parsed;
  }
  if (!isWildcardHost(host)) return host;
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && !address.internal);
  const preferred = addresses.find((address) => address!.family === "IPv4") ?? addresses[0];
  if (preferred === undefined)
    throw new OptionError(
      `host ${host} binds every interface, and this machine has no external address to advertise: give --advertise-host`,
    );
  return preferred.address;
}
