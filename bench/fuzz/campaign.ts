/**
 * The fuzz campaign against one real node (`npm run bench:fuzz`; test/bench/fuzz.test.ts runs it
 * short): a node process on loopback, attacked on every socket it listens on (routing,
 * each actor's request and gossip port, membership) by several connections at once, in
 * batches. An input is a ZMTP-layer attack (a connection of its own) or a mutated message
 * inside valid framing. Between batches every socket must answer a valid request; at the
 * end the node's memory must be within its bound and SIGTERM must stop it with status 0.
 *
 * Reproducible: the inputs of connection c in batch b come from their own PRNG, seeded
 * from (seed, b, c), so a batch's inputs do not depend on how the connections interleave;
 * a crash also records, as hex, the inputs sent in the batch whose probes failed.
 */
import * as zmq from "zeromq";
import { AnnaClient } from "../../src/client/anna-client";
import { tcpAddress } from "../../src/protocol/zmtp/endpoint";
import {
  ACTOR_GOSSIP_BASE_PORT,
  ACTOR_REQUEST_BASE_PORT,
  ROUTING_BASE_PORT,
  routingAddress,
  SEED_PORT,
} from "../../src/protocol/ports";
import { BenchNode, counterOf, keyCountOf, NodeExit } from "../cluster/nodes";
import { waitUntil } from "../cluster/wait";
import { Prng } from "../workload";
import { runConnection } from "./connection";
import { buildCorpus, Corpus } from "./corpus";
import { AddressGuard } from "./guard";
import { MIB, processRssBytes } from "./memory";
import { MessageFormat, mutate, MUTATED_FRAME_BYTES_MAX } from "./mutate";
import { Prober, SocketKind, SocketTarget } from "./probe";
import { validStream, ZmtpAttack, zmtpAttack } from "./zmtp-attacks";

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Attacking connections open at once. */
  connections: number;
  portOffset: number;
  threads: number;
  /** Inputs each connection sends per batch (each frame of a message-layer connection counts one). */
  inputsPerConnectionPerBatch: number;
  /** A probe unanswered this long counts as a crash. */
  probeDeadlineMs: number;
}

export const DEFAULT_FUZZ_OPTIONS: Readonly<FuzzOptions> = Object.freeze({
  seconds: 180,
  seed: 1,
  connections: 8,
  // Clear of the other benchmarks' offsets (3100, 7000, 8000, 10000-13800) and the tests' (15300 up).
  portOffset: 14_400,
  threads: 2,
  inputsPerConnectionPerBatch: 25,
  probeDeadlineMs: 5000,
});

const HOST = "127.0.0.1";
/** Each actor's store may reserve this much (`--max-store-memory-bytes`): what the fuzzer stores is bounded by it. */
const STORE_MEMORY_BYTES = 64 * MIB;
/**
 * Heap a Node.js isolate may hold beyond its live data before a collection gives it back:
 * V8's young generation (two 16 MiB semispaces by default on 64-bit) plus old-generation
 * growth ahead of the next mark-compact. One isolate per actor and one for the main thread.
 */
const HEAP_SLACK_BYTES_PER_ISOLATE = 48 * MIB;
/** The sink and the dead reply address, past the node's ports (6200..6451 + offset) but inside its offset's 300. */
const SINK_PORT_BASE = 6480;
const DEAD_PORT_BASE = 6481;
/** Mutations of one message the guard may refuse before it is sent unmutated. */
const GUARD_TRIES_MAX = 4;
/** Frames per message-layer connection: 1 up to this. */
const FRAMES_PER_CONNECTION_MAX = 16;
/** Batches in a row whose probes fail before the campaign gives up. */
const FAILED_BATCHES_MAX = 3;
/** Inputs and bytes of the batch before a crash kept as hex in the result. */
const CRASH_INPUTS_KEPT = 64;
const CRASH_INPUT_BYTES_KEPT = 8192;
const SENTINEL_KEY = "sentinel-of-the-fuzz-campaign";
const SENTINEL_VALUE = "kept through every batch";
/** No corpus entry names the sentinel's key; its timestamp would outrank almost any mutated LWW one anyway. */
const SENTINEL_TIMESTAMP = 2n ** 63n;

export type Layer = "zmtp" | "message";

export interface SocketFigures {
  socket: string;
  port: number;
  inputs: Record<Layer, number>;
  connections: number;
  /** Connections the node closed before the fuzzer ended them (it found a protocol error). */
  closedByNode: number;
  /** Mutated messages not sent: they named an address not ours (guard.ts); others were sent in their place. */
  skippedByGuard: number;
}

export interface Crash {
  batch: number;
  what: string;
  /** The inputs sent in that batch, the last CRASH_INPUTS_KEPT of them, each cut at CRASH_INPUT_BYTES_KEPT bytes. */
  inputs: Array<{ socket: string; layer: Layer; kind: string; hex: string }>;
}

export interface BatchFigures {
  batch: number;
  secondsFromStart: number;
  inputs: number;
  probeMsMax: number;
  rssBytes: number;
}

export interface FuzzResult {
  options: FuzzOptions;
  nodeArgs: string[];
  inputsTotal: number;
  inputsPerSecond: number;
  sockets: SocketFigures[];
  inputsByKind: Record<Layer, Record<string, number>>;
  crashes: Crash[];
  probesAnswered: number;
  probesFailed: number;
  longestStallMs: number;
  longestStallSocket: string;
  rss: {
    startBytes: number;
    endBytes: number;
    maxBytes: number;
    boundBytes: number;
    bound: string;
    withinBound: boolean;
  };
  sentinelIntact: boolean;
  repliesToFuzzInputs: number;
  /** What the node itself counted, from /status at the end. */
  /** Absent when the node died. */
  nodeCounted?: {
    actorBadFrames: number;
    routingBadFrames: number;
    membershipBadFrames: number;
    connectionsRefused: number;
    tupleErrors: Record<string, number>;
    /** What the fuzzer's PUTs and handoffs left in the stores, all actors together. */
    storeKeys: number;
    storeBytesUsed: number;
    storeMemoryReservedBytes: number;
  };
  stop: { exit: NodeExit; ms: number };
  batches: BatchFigures[];
  seconds: number;
}

interface SentInput {
  socket: string;
  layer: Layer;
  kind: string;
  bytes: Uint8Array;
}

/** What every attacking connection shares: the targets, the corpus, the guard, and the tallies. */
interface Campaign {
  options: FuzzOptions;
  targets: SocketTarget[];
  corpus: Corpus;
  guard: AddressGuard;
  sockets: Map<string, SocketFigures>;
  inputsByKind: Record<Layer, Record<string, number>>;
  /** The current batch's inputs, kept until its probes pass. */
  batchInputs: SentInput[];
}

export function socketTargets(portOffset: number, threads: number): SocketTarget[] {
  const tids = Array.from({ length: threads }, (_, tid) => tid);
  return [
    { name: "routing", kind: "routing" as SocketKind, port: ROUTING_BASE_PORT + portOffset },
    ...tids.map((tid) => ({
      name: `request-${tid}`,
      kind: "request" as SocketKind,
      port: ACTOR_REQUEST_BASE_PORT + portOffset + tid,
    })),
    ...tids.map((tid) => ({
      name: `gossip-${tid}`,
      kind: "gossip" as SocketKind,
      port: ACTOR_GOSSIP_BASE_PORT + portOffset + tid,
    })),
    { name: "membership", kind: "membership" as SocketKind, port: SEED_PORT + portOffset },
  ];
}

/** The seed of connection `connection`'s PRNG in batch `batch` (a 32-bit mix, so neighbours differ in every bit). */
function inputSeed(seed: number, batch: number, connection: number): number {
  let mixed = (seed ^ Math.imul(batch + 1, 0x9e3779b1) ^ Math.imul(connection + 1, 0x85ebca6b)) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x7feb352d) >>> 0;
  return (mixed ^ (mixed >>> 15)) >>> 0;
}

function corpusFor(corpus: Corpus, kind: SocketKind, random: Prng): { format: MessageFormat; entries: Uint8Array[] } {
  // Now and then a message meant for another socket: each must refuse the others' too.
  const chosen = random.chance(0.1) ? random.pick<SocketKind>(["routing", "request", "gossip"]) : kind;
  if (chosen === "gossip") return { format: "gossip", entries: corpus.gossipFrames };
  return { format: "protobuf", entries: chosen === "routing" ? corpus.addressRequests : corpus.keyRequests };
}

/** A message for the socket: a corpus entry, mutated nine times in ten. Membership gets random bytes (its JSON is not fuzzed). */
function message(campaign: Campaign, target: SocketTarget, random: Prng): { bytes: Uint8Array; kind: string } {
  if (target.kind === "membership") return { bytes: random.bytes(random.int(256)), kind: "random" };
  const { format, entries } = corpusFor(campaign.corpus, target.kind, random);
  const entry = random.pick(entries);
  if (random.chance(0.1)) return { bytes: entry, kind: "valid" };
  const { bytes, names } = mutate(format, entry, random.pick(entries), random);
  return { bytes, kind: names[0] };
}

/**
 * A message the guard allows: a mutation that made an address not ours (guard.ts) is
 * counted and replaced by another; after GUARD_TRIES_MAX such, the message is sent as it
 * was before mutation (every corpus entry passes the guard).
 */
function guardedMessage(campaign: Campaign, target: SocketTarget, random: Prng): { bytes: Uint8Array; kind: string } {
  const figures = campaign.sockets.get(target.name)!;
  for (let tries = 0; tries < GUARD_TRIES_MAX; tries++) {
    const candidate = message(campaign, target, random);
    if (campaign.guard.allows(candidate.bytes)) return candidate;
    figures.skippedByGuard++;
  }
  return { bytes: random.pick(corpusFor(campaign.corpus, target.kind, random).entries), kind: "valid" };
}

function tally(campaign: Campaign, target: SocketTarget, layer: Layer, kind: string, count: number): void {
  campaign.sockets.get(target.name)!.inputs[layer] += count;
  campaign.inputsByKind[layer][kind] = (campaign.inputsByKind[layer][kind] ?? 0) + count;
}

/** One input: a ZMTP attack, or 1..16 mutated messages in valid framing; returns how many inputs it sent. */
async function sendInput(campaign: Campaign, random: Prng): Promise<number> {
  const target = random.pick(campaign.targets);
  const figures = campaign.sockets.get(target.name)!;
  const layer: Layer = target.kind === "membership" || random.chance(0.5) ? "zmtp" : "message";
  let attack: ZmtpAttack;
  let kinds: string[];
  if (layer === "zmtp") {
    attack = zmtpAttack(random, () => guardedMessage(campaign, target, random).bytes);
    kinds = [attack.kind];
  } else {
    const messages = Array.from({ length: 1 + random.int(FRAMES_PER_CONNECTION_MAX) }, () =>
      guardedMessage(campaign, target, random),
    );
    attack = { kind: "messages", chunks: validStream(messages.map((one) => one.bytes)), holdMs: 0, reads: true };
    kinds = messages.map((one) => one.kind);
  }
  const bytes = Buffer.concat(attack.chunks);
  // Random bytes of a ZMTP attack could spell an address too, in theory.
  if (!campaign.guard.allows(bytes)) {
    figures.skippedByGuard++;
    return 0;
  }
  campaign.batchInputs.push({ socket: target.name, layer, kind: attack.kind, bytes });
  figures.connections++;
  for (const kind of kinds) tally(campaign, target, layer, kind, 1);
  if ((await runConnection(HOST, target.port, attack.chunks, attack.holdMs, attack.reads)) === "closed-by-node")
    figures.closedByNode++;
  return kinds.length;
}

/** One attacking connection's share of a batch. */
async function attacker(campaign: Campaign, batch: number, connection: number): Promise<number> {
  const random = new Prng(inputSeed(campaign.options.seed, batch, connection));
  let sent = 0;
  for (let input = 0; input < campaign.options.inputsPerConnectionPerBatch; input++)
    sent += await sendInput(campaign, random);
  return sent;
}

/** Reads every reply the fuzzer's requests get (the corpus names this socket), counting them. */
class ReplySink {
  private readonly socket = new zmq.Pull({ linger: 0 });
  received = 0;

  async bind(address: string): Promise<void> {
    await this.socket.bind(address);
    void (async () => {
      for await (const _ of this.socket) this.received++;
    })().catch(() => undefined);
  }

  close(): void {
    this.socket.close();
  }
}

/** The targets the issue sets, against what was measured. */
export function fuzzTargets(result: FuzzResult) {
  return {
    crashes: {
      target: "0 (a node exit, or a valid request unanswered past the deadline)",
      measured: result.crashes.length,
      met: result.crashes.length === 0,
    },
    rssWithinBound: {
      target: `<= ${(result.rss.boundBytes / MIB).toFixed(0)} MiB`,
      measured: `${(result.rss.maxBytes / MIB).toFixed(0)} MiB at most`,
      met: result.rss.withinBound,
    },
    stopExitCode: { target: "0 on SIGTERM", measured: result.stop.exit.code, met: result.stop.exit.code === 0 },
    sentinelIntact: { target: "true", measured: result.sentinelIntact, met: result.sentinelIntact },
  };
}

interface ProbeRound {
  msMax: number;
  slowestSocket: string;
  answered: number;
  failures: string[];
}

/** Every socket once, then the sentinel through a real AnnaClient (routing, then its actor). */
async function probeAll(
  prober: Prober,
  client: AnnaClient,
  targets: readonly SocketTarget[],
  deadlineMs: number,
): Promise<ProbeRound> {
  const round: ProbeRound = { msMax: 0, slowestSocket: "", answered: 0, failures: [] };
  const note = (socket: string, ms: number | undefined) => {
    if (ms === undefined) {
      round.failures.push(`${socket}: a valid request unanswered after ${deadlineMs} ms`);
      return;
    }
    round.answered++;
    if (ms > round.msMax) Object.assign(round, { msMax: ms, slowestSocket: socket });
  };
  for (const target of targets) note(target.name, await prober.probe(target, deadlineMs));
  const startedMs = performance.now();
  try {
    const read = await client.getLww(SENTINEL_KEY);
    if (read === undefined || Buffer.from(read.value).toString() !== SENTINEL_VALUE)
      round.failures.push(
        `client: the sentinel read back as ${JSON.stringify(read && Buffer.from(read.value).toString())}`,
      );
    else note("client", performance.now() - startedMs);
  } catch (error) {
    round.failures.push(`client: ${(error as Error).message}`);
  }
  return round;
}

function crashInputs(inputs: readonly SentInput[]): Crash["inputs"] {
  return inputs.slice(-CRASH_INPUTS_KEPT).map(({ socket, layer, kind, bytes }) => ({
    socket,
    layer,
    kind,
    hex: Buffer.from(bytes.subarray(0, CRASH_INPUT_BYTES_KEPT)).toString("hex"),
  }));
}

function rssBound(startBytes: number, options: FuzzOptions): { boundBytes: number; bound: string } {
  const inFlightBytes = options.connections * FRAMES_PER_CONNECTION_MAX * MUTATED_FRAME_BYTES_MAX;
  const boundBytes =
    startBytes +
    options.threads * STORE_MEMORY_BYTES +
    (options.threads + 1) * HEAP_SLACK_BYTES_PER_ISOLATE +
    inFlightBytes;
  const bound =
    `RSS after warm-up + ${options.threads} stores x ${STORE_MEMORY_BYTES / MIB} MiB (--max-store-memory-bytes: what the fuzzer's PUTs and handoffs may store) ` +
    `+ ${options.threads + 1} V8 isolates x ${HEAP_SLACK_BYTES_PER_ISOLATE / MIB} MiB (heap not yet collected) ` +
    `+ ${options.connections} connections x ${(FRAMES_PER_CONNECTION_MAX * MUTATED_FRAME_BYTES_MAX) / MIB} MiB (the most one input holds in flight)`;
  return { boundBytes, bound };
}

async function nodeCounted(node: BenchNode): Promise<FuzzResult["nodeCounted"]> {
  const status = await node.status();
  const tupleErrors: Record<string, number> = {};
  for (const actor of status.actors)
    for (const [code, count] of Object.entries(actor.counters.tupleErrors))
      tupleErrors[code] = (tupleErrors[code] ?? 0) + count;
  return {
    actorBadFrames: counterOf(status, "badFrames"),
    routingBadFrames: status.routing.badFrames,
    membershipBadFrames: status.cluster.membershipBadFrames,
    connectionsRefused: counterOf(status, "connectionsRefused") + (status.routing.connectionsRefused ?? 0),
    tupleErrors,
    storeKeys: keyCountOf(status),
    storeBytesUsed: status.actors.reduce((sum, actor) => sum + actor.store.bytesUsed, 0),
    storeMemoryReservedBytes: status.actors.reduce((sum, actor) => sum + actor.store.memoryReservedBytes, 0),
  };
}

/** Starts a node, runs the campaign against it, stops it; `log` hears a line per batch. */
export async function fuzzNode(
  options: FuzzOptions,
  log: (line: string) => void = () => undefined,
): Promise<FuzzResult> {
  const nodeArgs = [`--max-store-memory-bytes=${STORE_MEMORY_BYTES}`];
  const node = await BenchNode.start({
    index: 1,
    portOffset: options.portOffset,
    threads: options.threads,
    globalReplication: 1,
    args: nodeArgs,
  });
  const sink = new ReplySink();
  const prober = await Prober.open(HOST);
  const client = new AnnaClient({
    routingAddress: routingAddress(HOST, options.portOffset),
    timeoutMs: options.probeDeadlineMs,
    maxAttempts: 1,
  });
  try {
    await waitUntil(() => node.ready(), { timeoutMs: 30_000, pollMs: 50, what: () => "the fuzzed node to serve" });
    await sink.bind(tcpAddress(HOST, SINK_PORT_BASE + options.portOffset));
    await client.putLww(SENTINEL_KEY, SENTINEL_VALUE, SENTINEL_TIMESTAMP);
    const state = newCampaign(options);
    const warmUp = await probeAll(prober, client, state.targets, options.probeDeadlineMs);
    if (warmUp.failures.length > 0)
      throw new Error(`the node failed its probes before any fuzzing: ${warmUp.failures.join("; ")}`);
    const rssStartBytes = processRssBytes(node.pid);
    const batches = await runBatches(state, node, { prober, client }, rssStartBytes, log);
    return await finish(state, node, { client, sink }, nodeArgs, rssStartBytes, batches);
  } finally {
    await client.close();
    prober.close();
    sink.close();
    if (node.isRunning()) await node.stop("SIGKILL");
  }
}

function newCampaign(options: FuzzOptions): Campaign {
  const targets = socketTargets(options.portOffset, options.threads);
  const gossipPorts = targets.filter((target) => target.kind === "gossip").map((target) => target.port);
  const addresses = {
    sink: tcpAddress(HOST, SINK_PORT_BASE + options.portOffset),
    dead: tcpAddress(HOST, DEAD_PORT_BASE + options.portOffset),
    gossipPeers: gossipPorts.map((port) => tcpAddress(HOST, port)),
  };
  return {
    options,
    targets,
    corpus: buildCorpus(new Prng(options.seed), addresses),
    guard: new AddressGuard(
      new Set([SINK_PORT_BASE + options.portOffset, DEAD_PORT_BASE + options.portOffset, ...gossipPorts]),
    ),
    sockets: new Map(
      targets.map((target) => [
        target.name,
        {
          socket: target.name,
          port: target.port,
          inputs: { zmtp: 0, message: 0 },
          connections: 0,
          closedByNode: 0,
          skippedByGuard: 0,
        },
      ]),
    ),
    inputsByKind: { zmtp: {}, message: {} },
    batchInputs: [],
  };
}

interface BatchesRun {
  crashes: Crash[];
  batches: BatchFigures[];
  probesAnswered: number;
  probesFailed: number;
  longestStallMs: number;
  longestStallSocket: string;
  rssMaxBytes: number;
  seconds: number;
  /** How the node exited during the batches; undefined while it runs. */
  exit: NodeExit | undefined;
}

/** Batches of inputs from every connection at once, each followed by the probes, until the time is up or the node is lost. */
async function runBatches(
  state: Campaign,
  node: BenchNode,
  peers: { prober: Prober; client: AnnaClient },
  rssStartBytes: number,
  log: (line: string) => void,
): Promise<BatchesRun> {
  const { options } = state;
  const run: BatchesRun = {
    crashes: [],
    batches: [],
    probesAnswered: 0,
    probesFailed: 0,
    longestStallMs: 0,
    longestStallSocket: "",
    rssMaxBytes: rssStartBytes,
    seconds: 0,
    exit: undefined,
  };
  void node.exited.then((exit) => (run.exit = exit));
  const startedMs = performance.now();
  let failedInARow = 0;
  for (let batch = 0; performance.now() - startedMs < options.seconds * 1000; batch++) {
    state.batchInputs = [];
    const sent = await Promise.all(
      Array.from({ length: options.connections }, (_, connection) => attacker(state, batch, connection)),
    );
    const round =
      run.exit === undefined
        ? await probeAll(peers.prober, peers.client, state.targets, options.probeDeadlineMs)
        : { msMax: 0, slowestSocket: "", answered: 0, failures: [] };
    if (run.exit !== undefined)
      round.failures.push(`node exited (${JSON.stringify(run.exit)}); its output ends:\n${node.output().slice(-2000)}`);
    const rssBytes = processRssBytes(node.pid);
    const inputs = sent.reduce((sum, count) => sum + count, 0);
    run.probesAnswered += round.answered;
    run.probesFailed += round.failures.length;
    if (round.msMax > run.longestStallMs)
      Object.assign(run, { longestStallMs: round.msMax, longestStallSocket: round.slowestSocket });
    if (rssBytes > run.rssMaxBytes) run.rssMaxBytes = rssBytes;
    run.batches.push({
      batch,
      secondsFromStart: (performance.now() - startedMs) / 1000,
      inputs,
      probeMsMax: round.msMax,
      rssBytes,
    });
    log(
      `batch ${batch}: ${inputs} inputs, slowest probe ${round.msMax.toFixed(1)} ms (${round.slowestSocket}), RSS ${(rssBytes / MIB).toFixed(0)} MiB${round.failures.length > 0 ? `; FAILED: ${round.failures.join("; ")}` : ""}`,
    );
    if (round.failures.length === 0) {
      failedInARow = 0;
      continue;
    }
    run.crashes.push({ batch, what: round.failures.join("; "), inputs: crashInputs(state.batchInputs) });
    if (run.exit !== undefined || ++failedInARow >= FAILED_BATCHES_MAX) break;
  }
  run.seconds = (performance.now() - startedMs) / 1000;
  return run;
}

/** The end of the campaign: RSS, the node's own counts and the sentinel while it runs, then SIGTERM. */
async function finish(
  state: Campaign,
  node: BenchNode,
  peers: { client: AnnaClient; sink: ReplySink },
  nodeArgs: string[],
  rssStartBytes: number,
  run: BatchesRun,
): Promise<FuzzResult> {
  const alive = run.exit === undefined;
  const rssEndBytes = alive ? processRssBytes(node.pid) : NaN;
  const counted = alive ? await nodeCounted(node) : undefined;
  const sentinel = alive ? await peers.client.getLww(SENTINEL_KEY).catch(() => undefined) : undefined;
  const stopStartedMs = performance.now();
  const exit = await node.stop("SIGTERM");
  const stop = { exit, ms: performance.now() - stopStartedMs };
  const { boundBytes, bound } = rssBound(rssStartBytes, state.options);
  const sockets = [...state.sockets.values()];
  const inputsTotal = sockets.reduce((sum, socket) => sum + socket.inputs.zmtp + socket.inputs.message, 0);
  return {
    options: state.options,
    nodeArgs,
    inputsTotal,
    inputsPerSecond: inputsTotal / run.seconds,
    sockets,
    inputsByKind: state.inputsByKind,
    crashes: run.crashes,
    probesAnswered: run.probesAnswered,
    probesFailed: run.probesFailed,
    longestStallMs: run.longestStallMs,
    longestStallSocket: run.longestStallSocket,
    rss: {
      startBytes: rssStartBytes,
      endBytes: rssEndBytes,
      maxBytes: run.rssMaxBytes,
      boundBytes,
      bound,
      withinBound: run.rssMaxBytes <= boundBytes && !(rssEndBytes > boundBytes),
    },
    sentinelIntact:
      sentinel !== undefined &&
      Buffer.from(sentinel.value).toString() === SENTINEL_VALUE &&
      sentinel.timestamp === SENTINEL_TIMESTAMP,
    repliesToFuzzInputs: peers.sink.received,
    nodeCounted: counted,
    stop,
    batches: run.batches,
    seconds: run.seconds,
  };
}
