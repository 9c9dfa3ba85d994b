/**
 * A closed-loop load generator speaking Anna's client protocol straight over ZeroMQ's wire
 * protocol (`--client-transport zmtp`, the default, or `zeromq` for libzmq itself; see
 * bench/client-link.ts): `concurrency` requests always in flight, each of `keysPerRequest` keys owned by one
 * actor (found by asking the node's routing service, as an Anna client does), pushed to
 * that actor's request socket; replies come back to one bound PULL socket.
 *
 * Like redis-benchmark, it builds its requests before timing and only patches them per
 * send (request id, LWW timestamps), so the generator spends its CPU on the sockets and
 * the reply decoding, not on building requests. Run it in its own process:
 *
 *   node -r ./bench/register.js bench/load-generator.ts --port-offset 100 --keys-per-request 16
 */
import { parseArgs } from "node:util";
import { LatticeType } from "../src/lattices/lattice-type";
import { routingAddress } from "../src/protocol/ports";
import { KEYS_PER_ADDRESS_REQUEST_MAX } from "../src/node/routing-service";
import {
  AnnaError,
  decodeKeyAddressResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  KeyTuple,
  RequestType,
} from "../src/protocol/anna";
import { FrameHead, KeyTuples, readResponse } from "../src/protocol/key-frames";
import { ClientLink, ClientTransport, openClientLink, parseClientTransport } from "./client-link";
import { processCpuSeconds } from "./cpu";
import { HistogramSnapshot, LatencyHistogram, LatencySummary } from "./latency";
import {
  KeyChooser,
  KeySpace,
  LWW_TIMESTAMP_OFFSET,
  Prng,
  randomLwwPayload,
  TIMESTAMP_BASE,
  writeTimestamp,
} from "./workload";
import { exitWhenDone, readyThenGo } from "./child-main";
import { runJsonProcess, spawnJsonProcess } from "./child-processes";

export interface LoadOptions {
  host: string;
  portOffset: number;
  /** Requests in flight at every moment. */
  concurrency: number;
  keysPerRequest: number;
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  /** Zipf exponent of key popularity; 0 = uniform. */
  skew: number;
  /** Share of requests that are PUTs (each request is all GETs or all PUTs, as Anna's are). */
  putFraction: number;
  /** Write every key once before timing, so every GET finds its key. */
  preload: boolean;
  warmupMs: number;
  /** Measured time after the warm-up; 0 with `preload` runs only the preload. */
  durationMs: number;
  seed: number;
  /** The node's process id, to report its CPU use over the measured window; 0 = none. */
  serverPid: number;
  /** The generator's own sockets (bench/client-link.ts). */
  clientTransport: ClientTransport;
  /**
   * Clients the load is spread over, each with its own connections and reply address; the
   * `concurrency` requests in flight are dealt out among them (redis-benchmark's -c 50 is
   * 50 connections with one request in flight each).
   */
  connections: number;
  /**
   * Once its requests are built, print "ready" on stdout and start the timed phase only
   * when a line arrives on stdin (a process's option): generators run side by side then
   * measure the same seconds, however long each took to set up.
   */
  startOnStdin: boolean;
}

export const DEFAULT_LOAD_OPTIONS: Readonly<LoadOptions> = Object.freeze({
  host: "127.0.0.1",
  portOffset: 0,
  concurrency: 50,
  keysPerRequest: 1,
  keyCount: 100_000,
  keyBytes: 16,
  valueBytes: 64,
  skew: 0,
  putFraction: 0.5,
  preload: false,
  warmupMs: 1000,
  durationMs: 5000,
  seed: 20240601,
  serverPid: 0,
  clientTransport: "zmtp",
  connections: 1,
  startOnStdin: false,
});

export interface LoadResult extends LatencySummary {
  options: LoadOptions;
  /** Requests answered inside the measured window. */
  requests: number;
  requestsPerSecond: number;
  /** Keys (tuples) answered per second: requestsPerSecond x keysPerRequest. */
  opsPerSecond: number;
  measuredSeconds: number;
  /** Per-tuple errors seen in the measured window, by AnnaError name. */
  tupleErrors: Record<string, number>;
  /** Requests still unanswered when the drain deadline passed. */
  lostRequests: number;
  /** CPU cores busy over the measured window: the node (all its threads) and this generator. */
  serverCpuCores: number;
  generatorCpuCores: number;
  /** The measured latencies, so that several generators' results merge exactly (mergeLoadResults). */
  histogram: HistogramSnapshot;
}

/** Draw keys from this many request templates at least, so a run touches the keyspace. */
const POOL_KEY_DRAWS = 65_536;
const PRELOAD_KEYS_PER_REQUEST = 100;
const ROUTING_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 5_000;
/** request_id is this many decimal digits, the frame's last bytes, patched per send. */
const REQUEST_ID_DIGITS = 8;
const REDRAWS_PER_KEY_MAX = 1000;

/** A pre-encoded request: copied per send, then its id and timestamps patched. */
interface RequestTemplate {
  actorIndex: number;
  frame: Buffer;
  /** Offsets of each PUT payload's timestamp varint inside `frame`. */
  timestampOffsets: Int32Array;
}

function requestIdDigits(slot: number): Buffer {
  return Buffer.from(String(slot).padStart(REQUEST_ID_DIGITS, "0"), "latin1");
}

/** The slot a reply's id names, or -1 when it is not one of our ids. */
function slotOfResponseId(response: FrameHead): number {
  if (response.idLength !== REQUEST_ID_DIGITS) return -1;
  let slot = 0;
  for (let i = response.idStart; i < response.idStart + response.idLength; i++) {
    const byte = response.frame[i];
    if (byte < 0x30 || byte > 0x39) return -1;
    slot = slot * 10 + byte - 0x30;
  }
  return slot;
}

/** Asks the routing service who owns each key: returns each key's actor index and the actors' addresses. */
async function resolveOwners(
  options: LoadOptions,
  link: ClientLink,
  keyStrings: string[],
): Promise<{ ownerOfKey: Int32Array; actorAddresses: string[] }> {
  const routing = routingAddress(options.host, options.portOffset);
  const ownerOfKey = new Int32Array(keyStrings.length).fill(-1);
  const actorAddresses: string[] = [];
  const indexOfKey = new Map(keyStrings.map((key, index) => [key, index]));
  for (let start = 0; start < keyStrings.length; start += KEYS_PER_ADDRESS_REQUEST_MAX) {
    const keys = keyStrings.slice(start, start + KEYS_PER_ADDRESS_REQUEST_MAX);
    link.send(
      routing,
      encodeKeyAddressRequest({ response_address: link.replyAddress, keys, request_id: `routing-${start}` }),
    );
    const response = decodeKeyAddressResponse(await nextReply(link, ROUTING_TIMEOUT_MS, "routing service"));
    if (response.error !== AnnaError.NO_ERROR)
      throw new Error(`routing service answered ${AnnaError[response.error ?? 0]}`);
    for (const { key, ips } of response.addresses) {
      if (ips.length === 0) throw new Error(`routing service knows no actor for key ${key}`);
      let actorIndex = actorAddresses.indexOf(ips[0]);
      if (actorIndex < 0) actorIndex = actorAddresses.push(ips[0]) - 1;
      ownerOfKey[indexOfKey.get(key)!] = actorIndex;
    }
  }
  const unowned = ownerOfKey.indexOf(-1);
  if (unowned >= 0) throw new Error(`routing service left key ${keyStrings[unowned]} unanswered`);
  return { ownerOfKey, actorAddresses };
}

function nextReply(link: ClientLink, timeoutMs: number, what: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from the ${what} in ${timeoutMs} ms`)), timeoutMs);
    link.onReplies(
      (frame) => {
        clearTimeout(timer);
        resolve(frame);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

interface KeyPlan {
  keySpace: KeySpace;
  keyStrings: string[];
  ownerOfKey: Int32Array;
  /** Key indexes per actor, for preloading. */
  keysOfActor: number[][];
}

/** Encodes a KeyRequest and finds where its per-send fields sit in the frame. */
function encodeTemplate(
  actorIndex: number,
  type: RequestType,
  tuples: KeyTuple[],
  responseAddress: string,
): RequestTemplate {
  const frame = Buffer.from(
    encodeKeyRequest({ type, tuples, response_address: responseAddress, request_id: "0".repeat(REQUEST_ID_DIGITS) }),
  );
  // protobufjs writes fields in number order, so response_address (field 3) then request_id
  // (field 4) end the frame: both are patched per send.
  const addressAt = frame.length - REQUEST_ID_DIGITS - 2 - responseAddress.length;
  if (
    frame[frame.length - REQUEST_ID_DIGITS - 2] !== 0x22 ||
    frame[frame.length - REQUEST_ID_DIGITS - 1] !== REQUEST_ID_DIGITS ||
    frame.toString("latin1", addressAt, addressAt + responseAddress.length) !== responseAddress
  ) {
    throw new Error(
      "KeyRequest frame does not end with its response_address and request_id: the encoder's field order changed",
    );
  }
  const timestampOffsets = new Int32Array(type === RequestType.PUT ? tuples.length : 0);
  let searchFrom = 0;
  for (let i = 0; i < timestampOffsets.length; i++) {
    const offset = frame.indexOf(tuples[i].payload!, searchFrom);
    if (offset < 0) throw new Error("payload not found in its encoded KeyRequest");
    timestampOffsets[i] = offset + LWW_TIMESTAMP_OFFSET;
    searchFrom = offset + tuples[i].payload!.length;
  }
  return { actorIndex, frame, timestampOffsets };
}

function lwwTuple(key: string, valueBytes: number, random: Prng): KeyTuple {
  return { key, lattice_type: LatticeType.LWW, payload: randomLwwPayload(valueBytes, random) };
}

/** Requests whose keys all belong to one actor: the first key picks the actor, the rest are redrawn until they match it. */
function buildPool(options: LoadOptions, plan: KeyPlan, responseAddress: string): RequestTemplate[] {
  const random = new Prng(options.seed);
  const chooser = new KeyChooser(options.keyCount, options.skew);
  const templateCount = Math.max(Math.ceil(POOL_KEY_DRAWS / options.keysPerRequest), 4 * options.concurrency);
  const pool: RequestTemplate[] = [];
  for (let r = 0; r < templateCount; r++) {
    const first = chooser.choose(random);
    const actorIndex = plan.ownerOfKey[first];
    const keyIndexes = [first];
    while (keyIndexes.length < options.keysPerRequest) {
      let index = chooser.choose(random);
      for (let draws = 1; plan.ownerOfKey[index] !== actorIndex; draws++) {
        if (draws > REDRAWS_PER_KEY_MAX) throw new Error(`actor ${actorIndex} owns too few keys to fill a request`);
        index = chooser.choose(random);
      }
      keyIndexes.push(index);
    }
    const isPut = random.next() < options.putFraction;
    const tuples = keyIndexes.map((index) =>
      isPut ? lwwTuple(plan.keyStrings[index], options.valueBytes, random) : { key: plan.keyStrings[index] },
    );
    pool.push(encodeTemplate(actorIndex, isPut ? RequestType.PUT : RequestType.GET, tuples, responseAddress));
  }
  return pool;
}

/** Writes every key once, PRELOAD_KEYS_PER_REQUEST keys a request, `concurrency` requests in flight. */
function preloadTemplates(options: LoadOptions, plan: KeyPlan, responseAddress: string): RequestTemplate[] {
  const random = new Prng(options.seed + 1);
  const templates: RequestTemplate[] = [];
  plan.keysOfActor.forEach((keyIndexes, actorIndex) => {
    for (let start = 0; start < keyIndexes.length; start += PRELOAD_KEYS_PER_REQUEST) {
      const tuples = keyIndexes
        .slice(start, start + PRELOAD_KEYS_PER_REQUEST)
        .map((index) => lwwTuple(plan.keyStrings[index], options.valueBytes, random));
      templates.push(encodeTemplate(actorIndex, RequestType.PUT, tuples, responseAddress));
    }
  });
  return templates;
}

export async function runLoad(partial: Partial<LoadOptions>): Promise<LoadResult> {
  const options: LoadOptions = { ...DEFAULT_LOAD_OPTIONS, ...partial };
  if (!Number.isInteger(options.connections) || options.connections < 1 || options.connections > options.concurrency) {
    throw new RangeError(
      `connections must be an integer from 1 to the concurrency (${options.concurrency}), got ${options.connections}`,
    );
  }
  const links: ClientLink[] = [];
  try {
    for (let i = 0; i < options.connections; i++)
      links.push(await openClientLink(options.clientTransport, `tcp://${options.host}:*`));
    const keySpace = new KeySpace(options.keyCount, options.keyBytes);
    const keyStrings = Array.from({ length: options.keyCount }, (_, index) => keySpace.keyString(index));
    const { ownerOfKey, actorAddresses } = await resolveOwners(options, links[0], keyStrings);
    const keysOfActor: number[][] = actorAddresses.map(() => []);
    ownerOfKey.forEach((actorIndex, keyIndex) => keysOfActor[actorIndex].push(keyIndex));
    const plan: KeyPlan = { keySpace, keyStrings, ownerOfKey, keysOfActor };
    const loop = new ClosedLoop(options, links, actorAddresses);
    // Templates carry the first client's reply address; each send patches in its client's.
    const replyAddress = links[0].replyAddress;
    if (options.preload) {
      const templates = preloadTemplates(options, plan, replyAddress);
      const preloaded = await loop.run(templates, {
        warmupMs: 0,
        durationMs: Infinity,
        requestLimit: templates.length,
      });
      if (options.durationMs === 0) return preloaded;
    }
    const pool = buildPool(options, plan, replyAddress);
    if (options.startOnStdin) await readyThenGo();
    return await loop.run(pool, {
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      requestLimit: Infinity,
    });
  } finally {
    for (const link of links) await link.close();
  }
}

/**
 * The results of generators that ran one phase side by side against one node, as one:
 * requests and rates add up (startOnStdin aligns their windows), latency quantiles are
 * those of every generator's samples together, and the node's CPU is the mean of what
 * each generator saw over its window.
 */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  if (results.length === 0) throw new RangeError("no results to merge");
  if (results.length === 1) return results[0];
  const sum = (pick: (result: LoadResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const histogram = new LatencyHistogram();
  const tupleErrors: Record<string, number> = {};
  for (const result of results) {
    histogram.add(result.histogram);
    for (const [name, count] of Object.entries(result.tupleErrors))
      tupleErrors[name] = (tupleErrors[name] ?? 0) + count;
  }
  return {
    options: {
      ...results[0].options,
      concurrency: sum((result) => result.options.concurrency),
      connections: sum((result) => result.options.connections),
    },
    requests: sum((result) => result.requests),
    requestsPerSecond: sum((result) => result.requestsPerSecond),
    opsPerSecond: sum((result) => result.opsPerSecond),
    measuredSeconds: Math.max(...results.map((result) => result.measuredSeconds)),
    ...histogram.summary(),
    histogram: histogram.snapshot(),
    tupleErrors,
    lostRequests: sum((result) => result.lostRequests),
    serverCpuCores: sum((result) => result.serverCpuCores) / results.length,
    generatorCpuCores: sum((result) => result.generatorCpuCores),
  };
}

/**
 * The load of `options` dealt among `generators` processes (each its share of the
 * concurrency and connections, its own seed), started together once every one has built
 * its requests, so that they are timed over the same seconds; one result.
 */
export async function runLoadInProcesses(options: Partial<LoadOptions>, generators: number): Promise<LoadResult> {
  // A process of its own even alone, so that a generator never shares a server's event loop.
  if (generators === 1) return runJsonProcess<LoadResult>(__filename, options);
  const share = (total: number, index: number) => Math.floor(total / generators) + (index < total % generators ? 1 : 0);
  const processes = Array.from({ length: generators }, (_, index) =>
    spawnJsonProcess<LoadResult>(
      __filename,
      {
        ...options,
        concurrency: share(options.concurrency!, index),
        connections: share(options.connections!, index),
        seed: options.seed! + index,
        startOnStdin: true,
      },
      { name: `load generator ${index + 1} of ${generators}` },
    ),
  );
  try {
    await Promise.all(processes.map((one) => one.ready));
  } finally {
    // Also on a failure: a generator waiting for its signal would never exit.
    for (const one of processes) one.go();
  }
  return mergeLoadResults(await Promise.all(processes.map((one) => one.result)));
}

interface Phase {
  warmupMs: number;
  durationMs: number;
  /** Stop issuing after this many requests (the preload sends each template once). */
  requestLimit: number;
}

/**
 * `concurrency` slots; each sends its next request as soon as its reply arrives. Slot s
 * belongs to client s mod `connections`. One receive loop per client feeds every phase,
 * so no phase leaves a receive pending behind it.
 */
class ClosedLoop {
  private readonly sentAtMs: Float64Array;
  private readonly busy: Uint8Array;
  /** The tuples of the reply being read, reused from reply to reply. */
  private readonly replyTuples = new KeyTuples();
  private readonly idDigits: Buffer[];
  /** Each client's reply address, as patched into its requests (all of one length). */
  private readonly replyAddresses: Buffer[];
  private readonly histogram = new LatencyHistogram();
  private tupleErrors: Record<string, number> = {};
  private nextTimestamp = TIMESTAMP_BASE + 1;
  private onReply: (frame: Uint8Array) => void = () => {
    throw new Error("a reply arrived while no phase was running");
  };
  private receiveFailure: Error | undefined;

  constructor(
    private readonly options: LoadOptions,
    private readonly links: ClientLink[],
    private readonly actorAddresses: string[],
  ) {
    this.sentAtMs = new Float64Array(options.concurrency);
    this.busy = new Uint8Array(options.concurrency);
    this.idDigits = Array.from({ length: options.concurrency }, (_, slot) => requestIdDigits(slot));
    this.replyAddresses = links.map((link) => Buffer.from(link.replyAddress, "latin1"));
    if (this.replyAddresses.some((address) => address.length !== this.replyAddresses[0].length)) {
      throw new Error(
        `reply addresses of different lengths cannot be patched into one template: ${links.map((link) => link.replyAddress).join(", ")}`,
      );
    }
    for (const link of links) {
      link.onReplies(
        (frame) => {
          if (this.receiveFailure === undefined) this.onReply(frame);
        },
        (error) => (this.receiveFailure ??= error),
      );
    }
  }

  run(pool: RequestTemplate[], phase: Phase): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const startedMs = performance.now();
      let next = 0;
      let issuing = true;
      let measuring = phase.warmupMs === 0;
      let measureStartMs = startedMs;
      let measureEndMs = NaN;
      let requests = 0;
      let inFlight = 0;
      let cpuAtStart = this.cpuSeconds();
      let cpuAtEnd = cpuAtStart;
      this.histogram.reset();
      this.tupleErrors = {};
      const finish = () => {
        clearTimeout(warmupTimer);
        clearTimeout(stopTimer);
        clearTimeout(drainTimer);
        clearInterval(failureCheck);
        this.onReply = () => undefined;
        if (Number.isNaN(measureEndMs)) {
          measureEndMs = performance.now();
          cpuAtEnd = this.cpuSeconds();
        }
        const seconds = (measureEndMs - measureStartMs) / 1000;
        resolve({
          ...this.result(requests, seconds, inFlight),
          serverCpuCores: (cpuAtEnd.server - cpuAtStart.server) / seconds,
          generatorCpuCores: (cpuAtEnd.generator - cpuAtStart.generator) / seconds,
        });
      };
      const issue = (slot: number) => {
        if (!issuing || next >= phase.requestLimit) return;
        this.send(slot, pool[next++ % pool.length]);
        inFlight++;
      };
      this.onReply = (frame) => {
        const counted = measuring && issuing;
        const slot = this.complete(frame, counted);
        inFlight--;
        if (counted) requests++;
        issue(slot);
        if (inFlight === 0) finish();
      };
      const warmupTimer = setTimeout(() => {
        measuring = true;
        measureStartMs = performance.now();
        cpuAtStart = this.cpuSeconds();
        this.histogram.reset();
        this.tupleErrors = {};
      }, phase.warmupMs);
      let drainTimer: NodeJS.Timeout | undefined;
      const stopTimer = Number.isFinite(phase.durationMs)
        ? setTimeout(() => {
            issuing = false;
            measureEndMs = performance.now();
            cpuAtEnd = this.cpuSeconds();
            drainTimer = setTimeout(finish, DRAIN_TIMEOUT_MS);
          }, phase.warmupMs + phase.durationMs)
        : undefined;
      const failureCheck = setInterval(() => {
        if (this.receiveFailure === undefined) return;
        clearTimeout(warmupTimer);
        clearTimeout(stopTimer);
        clearTimeout(drainTimer);
        clearInterval(failureCheck);
        reject(this.receiveFailure);
      }, 100);
      for (let slot = 0; slot < this.options.concurrency; slot++) issue(slot);
    });
  }

  private cpuSeconds(): { server: number; generator: number } {
    const usage = process.cpuUsage();
    return {
      server: this.options.serverPid > 0 ? processCpuSeconds(this.options.serverPid) : NaN,
      generator: (usage.user + usage.system) / 1e6,
    };
  }

  private result(
    requests: number,
    measuredSeconds: number,
    lostRequests: number,
  ): Omit<LoadResult, "serverCpuCores" | "generatorCpuCores"> {
    return {
      options: this.options,
      requests,
      requestsPerSecond: requests / measuredSeconds,
      opsPerSecond: (requests * this.options.keysPerRequest) / measuredSeconds,
      measuredSeconds,
      ...this.histogram.summary(),
      histogram: this.histogram.snapshot(),
      tupleErrors: this.tupleErrors,
      lostRequests,
    };
  }

  private send(slot: number, template: RequestTemplate): void {
    // A copy per send: the transport may still hold the previous frame (zeromq.js sends zero-copy).
    const frame = Buffer.from(template.frame);
    const client = slot % this.links.length;
    const replyAddress = this.replyAddresses[client];
    frame.set(this.idDigits[slot], frame.length - REQUEST_ID_DIGITS);
    if (client > 0) frame.set(replyAddress, frame.length - REQUEST_ID_DIGITS - 2 - replyAddress.length);
    for (const offset of template.timestampOffsets) writeTimestamp(frame, offset, this.nextTimestamp++);
    this.busy[slot] = 1;
    this.sentAtMs[slot] = performance.now();
    this.links[client].send(this.actorAddresses[template.actorIndex], frame);
  }

  /** Decodes a reply, records it, and returns its slot. */
  private complete(frame: Uint8Array, record: boolean): number {
    const tuples = this.replyTuples;
    tuples.count = 0;
    const response = readResponse(frame, tuples);
    const slot = slotOfResponseId(response);
    if (slot < 0 || slot >= this.busy.length || this.busy[slot] === 0) {
      const id = Buffer.from(response.frame.subarray(response.idStart, response.idStart + response.idLength)).toString(
        "latin1",
      );
      throw new Error(`reply to request ${JSON.stringify(id)}, which is not in flight`);
    }
    this.busy[slot] = 0;
    if (!record) return slot;
    this.histogram.record(performance.now() - this.sentAtMs[slot]);
    if (response.error) this.countError(response.error);
    for (let i = 0; i < tuples.count; i++) if (tuples.error[i]) this.countError(tuples.error[i]);
    return slot;
  }

  private countError(error: AnnaError): void {
    const name = AnnaError[error] ?? String(error);
    this.tupleErrors[name] = (this.tupleErrors[name] ?? 0) + 1;
  }
}

function parseOptions(argv: string[]): Partial<LoadOptions> {
  const numberFlags = [
    "port-offset",
    "concurrency",
    "connections",
    "keys-per-request",
    "key-count",
    "key-bytes",
    "value-bytes",
    "skew",
    "put-fraction",
    "warmup-ms",
    "duration-ms",
    "seed",
    "server-pid",
  ] as const;
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      preload: { type: "boolean" },
      "start-on-stdin": { type: "boolean" },
      "client-transport": { type: "string" },
      ...Object.fromEntries(numberFlags.map((flag) => [flag, { type: "string" as const }])),
    },
  });
  const options: Partial<LoadOptions> = {};
  if (values.host !== undefined) options.host = values.host as string;
  if (values.preload !== undefined) options.preload = values.preload as boolean;
  if (values["start-on-stdin"] !== undefined) options.startOnStdin = values["start-on-stdin"] as boolean;
  const transport = values["client-transport"] as string | undefined;
  if (transport !== undefined) options.clientTransport = parseClientTransport(transport);
  for (const flag of numberFlags) {
    const text = (values as Record<string, string | boolean | undefined>)[flag] as string | undefined;
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new RangeError(`--${flag} must be a number, got ${text}`);
    const name = flag.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()) as keyof LoadOptions;
    (options as Record<string, unknown>)[name] = value;
  }
  return options;
}

/** Run as a process: options from the command line, the result as one JSON line on stdout. */
if (require.main === module) exitWhenDone(runLoad(parseOptions(process.argv.slice(2))));
