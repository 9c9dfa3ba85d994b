/**
 * The byte-level half of AnnaClient: Anna's client protocol from TypeScript. It asks a node's routing service
 * where keys live, caches the answer, sends each replica one KeyRequest carrying all of
 * its keys, and refreshes addresses on WRONG_THREAD or `invalidate`. A request that times
 * out is retried on another replica; a key none of whose replicas answered is looked up
 * again. A WRONG_THREAD for a key whose primary replica then changed also marks every
 * address cached before it stale (the cluster's layout changed, and keys move together):
 * each is looked up again with the other keys of its next call, instead of being sent to
 * its old replica first. One whose primary stayed (a hot key's extra replica gone)
 * refreshes that key alone. Given several routing
 * addresses (seed nodes), a lookup that times out moves on to the next one. PUTs may ask
 * for a number of replica acks (annakv's `put_acks`). Lattice payloads are bytes here;
 * AnnaClient (anna-client.ts) adds the typed helpers. It is the KeyTransport of the
 * consistency levels (src/consistency/transport.ts).
 */
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { LatticeType } from "../lattices/lattice-type";
import type {
  GetOptions,
  KeyTransport,
  PutOptions,
  PutOutcome,
  PutTuple,
  StableReport,
  ValueRead,
} from "../consistency/transport";
import {
  AnnaError,
  decodeKeyAddressResponse,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  KeyAddressResponse,
  KeyResponse,
  KeyTuple,
  RequestType,
  responseMicros,
} from "../protocol/anna";
import { PushPool } from "../protocol/push-pool";
import { parseEndpoint, parseHost, tcpAddress } from "../protocol/zmtp/endpoint";

export type AnnaClientErrorCode =
  | "TIMEOUT"
  | "LATTICE"
  | "NO_SERVERS"
  | "WRONG_THREAD"
  | "CLOSED"
  /** A multi-key causal write stamped at or below the actor's accept floor (docs/causal-stability.md). */
  | "STALE_STAMP";

export class AnnaClientError extends Error {
  constructor(
    readonly code: AnnaClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AnnaClientError";
  }
}

export interface AnnaClientOptions {
  /** The node's routing socket, e.g. tcp://127.0.0.1:6450 (or several as `routingAddresses`). */
  routingAddress?: string;
  /**
   * Routing sockets of several nodes (seeds), instead of `routingAddress`: lookups go to
   * the first; on a timeout the next is tried, and the one that answered is kept.
   */
  routingAddresses?: readonly string[];
  /** Interface the client's reply sockets bind to; the node must reach it. IPv6 as `::1` or `[::1]`. */
  host?: string;
  /** How long one attempt waits for its reply. */
  timeoutMs?: number;
  /** Attempts per key operation (each on another replica where there is one), and per lookup (at least one per routing address). */
  maxAttempts?: number;
  /** `put_acks` of every PUT that does not give its own: replica nodes that must hold the value before the answer. Absent or 0: none sent, the node's default. */
  putAcks?: number;
  /** Keys whose replica addresses are cached; past it the oldest entry is dropped (looked up again on its next use). */
  addressCacheMaxKeys?: number;
}

// Defined with the consistency levels' transport, which this client implements; part of this client's API.
export type { PutOptions, PutOutcome, PutTuple, ValueRead } from "../consistency/transport";

const DEFAULTS = { host: "127.0.0.1", timeoutMs: 2000, maxAttempts: 3, addressCacheMaxKeys: 1_000_000 };
/**
 * Keys one KeyAddressRequest asks about: well under the node's limit (10,000), and an
 * answer of ~100 KB, so one lookup page never holds up the replies behind it for long.
 */
const ADDRESS_LOOKUP_KEYS_MAX = 1024;

/** Replica and routing sockets one client keeps open at once. */
const REPLICA_SOCKETS_MAX = 256;
/** put_acks is a uint32 on the wire. */
const PUT_ACKS_MAX = 0xffffffff;

/** AnnaClientOptions checked, defaults filled in; routing addresses in the order they are tried. */
interface ResolvedOptions {
  routingAddresses: readonly string[];
  host: string;
  timeoutMs: number;
  maxAttempts: number;
  putAcks: number | undefined;
  addressCacheMaxKeys: number;
}

interface Pending<T> {
  resolve(value: T): void;
  timer: NodeJS.Timeout;
}

/** What a client did beyond one request per replica: where a cluster's keys moved, these grow. */
export interface AnnaClientCounters {
  /** KeyAddressRequests sent to the routing service (a key's first use, or after its addresses were invalidated). */
  routingRequests: number;
  /** Tuples sent again: answered WRONG_THREAD (the key moved) or unanswered within the timeout. */
  tuplesResent: number;
  /** KeyRequests sent to replicas, and their bytes: what a consistency level costs on the wire. */
  keyRequests: number;
  keyRequestBytes: number;
  /** Times a WRONG_THREAD for a key that had moved to another primary marked every cached address stale. */
  addressCacheInvalidations: number;
}

/** A key's cached replica addresses and the cache generation of the lookup that found them. */
interface CachedAddresses {
  addresses: string[];
  generation: number;
}

export class AnnaClientBase implements KeyTransport {
  private readonly options: ResolvedOptions;
  private readonly clientId = randomUUID();
  /**
   * Picks this client's replica of each key: one key's requests stay on one replica
   * (monotonic reads), while different clients spread a hot key over all of its replicas.
   */
  private readonly replicaSalt = hashString(this.clientId);
  private requestCounter = 0;
  readonly counters: AnnaClientCounters = {
    routingRequests: 0,
    tuplesResent: 0,
    keyRequests: 0,
    keyRequestBytes: 0,
    addressCacheInvalidations: 0,
  };
  private readonly addressReplies: zmq.Pull;
  private readonly keyReplies: zmq.Pull;
  /** Request sockets by replica address: bounded, closed when idle, one send at a time each. */
  private readonly outlets = new PushPool({
    maxSockets: REPLICA_SOCKETS_MAX,
    idleCloseMs: 30_000,
    maxQueuedFrames: 10_000,
    lingerMs: 0,
  });
  private readonly pendingAddresses = new Map<string, Pending<KeyAddressResponse | undefined>>();
  private readonly pendingKeys = new Map<string, Pending<KeyResponse | undefined>>();
  /** Replica addresses by key, oldest entry first (dropped first past addressCacheMaxKeys). */
  private readonly addressCache = new Map<string, CachedAddresses>();
  /** Entries of an older generation are stale: a key refused by WRONG_THREAD had moved since they were looked up. */
  private addressGeneration = 0;
  /** The routing address lookups go to: the last that answered, or the next after one that timed out. */
  private routingIndex = 0;
  private connected?: Promise<void>;
  private closed = false;

  constructor(options: AnnaClientOptions) {
    this.options = resolveOptions(options);
    // libzmq binds and connects over IPv4 only unless told otherwise.
    const ipv6 = this.options.host.includes(":");
    this.addressReplies = new zmq.Pull({ linger: 0, ipv6 });
    this.keyReplies = new zmq.Pull({ linger: 0, ipv6 });
  }

  /** Binds the reply sockets; called by the first operation if not called before. */
  connect(): Promise<void> {
    this.connected ??= (async () => {
      await this.addressReplies.bind(tcpAddress(this.options.host, "*"));
      await this.keyReplies.bind(tcpAddress(this.options.host, "*"));
      void this.receive(this.addressReplies, (frame) => this.onAddressReply(frame));
      void this.receive(this.keyReplies, (frame) => this.onKeyReply(frame));
    })();
    return this.connected;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of [...this.pendingAddresses.values(), ...this.pendingKeys.values()]) {
      clearTimeout(pending.timer);
      pending.resolve(undefined);
    }
    this.addressReplies.close();
    this.keyReplies.close();
    this.outlets.close();
  }

  /** Reads keys; an absent key maps to undefined. */
  async getMany(keys: readonly string[], options: GetOptions = {}): Promise<Map<string, ValueRead | undefined>> {
    const tuples = keys.map((key) => ({ key }));
    const { answers, unansweredError, stableByKey } = await this.run(RequestType.GET, tuples);
    if (unansweredError !== undefined) throw unansweredError;
    throwOnGetErrors(answers.values());
    return valuesOf(answers.values(), stableByKey, options);
  }

  async get(key: string): Promise<ValueRead | undefined> {
    return (await this.getMany([key])).get(key);
  }

  /**
   * Merges each payload into its key's value on a replica (gossip reaches the others).
   * Rejects for the first key refused (LATTICE), else for a key whose outcome is unknown:
   * unanswered (TIMEOUT, WRONG_THREAD), or stored on fewer replica nodes than `acks` asked
   * for (TIMEOUT; it is not sent again, since the value was applied and gossip still spreads it).
   */
  async putMany(puts: readonly PutTuple[], options: PutOptions = {}): Promise<void> {
    const failures: { status: string; error: Error }[] = [];
    for (const outcome of (await this.putManySettled(puts, options)).values()) {
      if (outcome.status !== "applied") failures.push(outcome);
    }
    const failure = failures.find(({ status }) => status === "refused") ?? failures[0];
    if (failure !== undefined) throw failure.error;
  }

  async put(key: string, type: LatticeType, payload: Uint8Array, options: PutOptions = {}): Promise<void> {
    await this.putMany([{ key, type, payload }], options);
  }

  /**
   * putMany with one outcome per key instead of the first failure: applied, refused (with
   * the LATTICE or STALE_STAMP error, naming the replica that refused it), or unknown (with
   * the TIMEOUT or WRONG_THREAD error putMany would throw).
   * Rejects only when the call fails as a whole (closed, no routing answer, no storage actor).
   */
  async putManySettled(puts: readonly PutTuple[], options: PutOptions = {}): Promise<Map<string, PutOutcome>> {
    const putAcks = this.putAcksFor(options);
    const tuples = puts.map(keyTupleOf);
    const result = await this.run(RequestType.PUT, tuples, putAcks, options.sendOnce);
    return putOutcomes(tuples, result, putAcks);
  }

  /**
   * putManySettled on one replica, with no retry on another: unknown (TIMEOUT) when it does
   * not answer, refused (WRONG_THREAD) for a key it does not hold.
   */
  async putToReplica(
    replica: string,
    puts: readonly PutTuple[],
    options: PutOptions = {},
  ): Promise<Map<string, PutOutcome>> {
    this.assertOpen();
    await this.connect();
    const putAcks = this.putAcksFor(options);
    const tuples = dedupe(puts.map(keyTupleOf));
    const response = await this.sendKeyRequest(replica, { type: RequestType.PUT, tuples, putAcks }, new Map());
    const result =
      response === undefined || response.error === AnnaError.TIMEOUT
        ? unanswered(this.silentReplicaError(replica))
        : oneReplicaResult(replica, tuples, response);
    return putOutcomes(tuples, result, putAcks);
  }

  /** The replica addresses of `key`: KeyTransport's face of addressesOf. */
  async replicasOf(key: string): Promise<string[]> {
    return (await this.addressesOf([key])).get(key) ?? [];
  }

  /**
   * What one replica holds of `keys`, with no retry on another: TIMEOUT when it does not
   * answer, WRONG_THREAD when it does not hold one of them. For convergence checks.
   */
  async getFromReplica(
    replica: string,
    keys: readonly string[],
    options: GetOptions = {},
  ): Promise<Map<string, ValueRead | undefined>> {
    this.assertOpen();
    await this.connect();
    const tuples = dedupe(keys.map((key) => ({ key })));
    const response = await this.sendKeyRequest(
      replica,
      { type: RequestType.GET, tuples, putAcks: undefined },
      new Map(),
    );
    if (response === undefined || response.error === AnnaError.TIMEOUT) throw this.silentReplicaError(replica);
    const wrong = response.tuples.find(({ error }) => error === AnnaError.WRONG_THREAD);
    if (wrong !== undefined) throw notHeldError(replica, wrong.key);
    throwOnGetErrors(response.tuples);
    const report = stableReport(response);
    const stableByKey = new Map(report === undefined ? [] : response.tuples.map(({ key }) => [key, report]));
    return valuesOf(response.tuples, stableByKey, options);
  }

  /** The replica addresses of keys, from the cache or the routing service. */
  async addressesOf(keys: readonly string[]): Promise<Map<string, string[]>> {
    this.assertOpen();
    // Replies come to the client's own sockets: bound by the first call, whichever it is.
    await this.connect();
    // Lookups are stamped with the generation they began in: one that a WRONG_THREAD overtook may be stale.
    const generation = this.addressGeneration;
    const result = new Map<string, string[]>();
    const missing: string[] = [];
    for (const key of keys) {
      const cached = this.addressCache.get(key);
      if (cached !== undefined && cached.generation === generation) result.set(key, cached.addresses);
      else missing.push(key);
    }
    for (let start = 0; start < missing.length; start += ADDRESS_LOOKUP_KEYS_MAX) {
      const fetched = await this.fetchAddresses(missing.slice(start, start + ADDRESS_LOOKUP_KEYS_MAX));
      for (const [key, addresses] of fetched) {
        this.cacheAddresses(key, { addresses, generation });
        result.set(key, addresses);
      }
    }
    return result;
  }

  private cacheAddresses(key: string, entry: CachedAddresses): void {
    // Deleted first so that a refreshed key counts as the newest entry.
    this.addressCache.delete(key);
    this.addressCache.set(key, entry);
    if (this.addressCache.size > this.options.addressCacheMaxKeys) {
      this.addressCache.delete(this.addressCache.keys().next().value!);
    }
  }

  /** The put_acks to send (undefined: none, the node's default). */
  private putAcksFor({ acks }: PutOptions): number | undefined {
    const putAcks = acks === undefined ? this.options.putAcks : checkedPutAcks(acks, "acks");
    // protobufjs writes a 0 that is set; absent says the same in fewer bytes.
    return putAcks === 0 ? undefined : putAcks;
  }

  /** Sends tuples to replicas until each has an answer that is not WRONG_THREAD or a timeout, or the attempts run out. */
  private async run(type: RequestType, tuples: KeyTuple[], putAcks?: number, sendOnce = false): Promise<RunResult> {
    this.assertOpen();
    await this.connect();
    const answers = new Map<string, KeyTuple>();
    const meta: ResponseMeta = {
      stableByKey: new Map(),
      replicaByKey: new Map(),
      acceptFloorMicros: 0,
      dotByKey: new Map(),
    };
    const silentReplicas = new Map<string, Set<string>>();
    let remaining = dedupe(tuples);
    let lastFailure: AnnaClientError | undefined;
    /** With sendOnce: tuples a replica that did not answer may have applied, left unanswered. */
    const mayHaveApplied: KeyTuple[] = [];
    /** Keys WRONG_THREAD refused in the attempt before, each with the first address of the list refused. */
    const refusedPrimaries = new Map<string, string>();
    let refusedGeneration = this.addressGeneration;
    for (let attempt = 0; attempt < this.options.maxAttempts && remaining.length > 0; attempt++) {
      const generation = this.addressGeneration;
      const addresses = await this.addressesOf(remaining.map((tuple) => tuple.key));
      if (refusedPrimaries.size > 0) this.noteMovedKeys(refusedPrimaries, refusedGeneration, addresses);
      refusedPrimaries.clear();
      refusedGeneration = generation;
      const byReplica = groupByReplica(remaining, addresses, this.replicaSalt + attempt);
      const retry: KeyTuple[] = [];
      await Promise.all(
        [...byReplica].map(async ([address, group]) => {
          const response = await this.sendKeyRequest(address, { type, tuples: group, putAcks }, addresses);
          if (response === undefined) {
            lastFailure = this.silentReplicaError(address);
            this.forgetSilentKeys(address, group, addresses, silentReplicas);
            (sendOnce ? mayHaveApplied : retry).push(...group);
            return;
          }
          if (response.error === AnnaError.TIMEOUT) {
            lastFailure = new AnnaClientError("TIMEOUT", `${address} answered TIMEOUT for the whole request`);
            (sendOnce ? mayHaveApplied : retry).push(...group);
            return;
          }
          this.absorb(response, address, group, addresses, answers, retry, refusedPrimaries, meta);
        }),
      );
      remaining = retry;
      if (attempt + 1 < this.options.maxAttempts) this.counters.tuplesResent += retry.length;
      lastFailure ??=
        remaining.length > 0 ? new AnnaClientError("WRONG_THREAD", "replica addresses kept changing") : undefined;
    }
    const unanswered = remaining.length > 0 || mayHaveApplied.length > 0;
    return { answers, unansweredError: unanswered ? lastFailure! : undefined, ...meta };
  }

  /**
   * Notes that `address` did not answer for the keys of `group`; a key none of whose
   * replicas answered in this call loses its cached addresses, so that the next attempt
   * asks routing again (which stops listing a dead node's actors once it is detected).
   */
  private forgetSilentKeys(
    address: string,
    group: KeyTuple[],
    addresses: Map<string, string[]>,
    silentReplicas: Map<string, Set<string>>,
  ): void {
    for (const { key } of group) {
      let silent = silentReplicas.get(key);
      if (silent === undefined) silentReplicas.set(key, (silent = new Set()));
      silent.add(address);
      const replicas = addresses.get(key)!;
      // Only the list that failed: a concurrent call may have cached a fresher one.
      if (replicas.every((replica) => silent.has(replica)) && this.addressCache.get(key)?.addresses === replicas)
        this.addressCache.delete(key);
    }
  }

  /**
   * Takes the answers of the replica at `address`, sent by `addresses`. A key refused
   * WRONG_THREAD is retried, loses its cached addresses and is noted in `refusedPrimaries`
   * with the first of those addresses, for `noteMovedKeys` to compare with its new ones.
   */
  private absorb(
    response: KeyResponse,
    address: string,
    sent: KeyTuple[],
    addresses: Map<string, string[]>,
    answers: Map<string, KeyTuple>,
    retry: KeyTuple[],
    refusedPrimaries: Map<string, string>,
    meta: ResponseMeta,
  ): void {
    const report = stableReport(response);
    meta.acceptFloorMicros = Math.max(meta.acceptFloorMicros, responseMicros(response.accept_floor_micros));
    const byKey = new Map(sent.map((tuple) => [tuple.key, tuple]));
    for (const [key, dot] of appliedDotsOf(response, byKey)) meta.dotByKey.set(key, dot);
    for (const tuple of response.tuples) {
      if (tuple.invalidate) this.addressCache.delete(tuple.key);
      const original = byKey.get(tuple.key);
      if (original === undefined) continue;
      if (tuple.error !== AnnaError.WRONG_THREAD) {
        answers.set(tuple.key, tuple);
        meta.replicaByKey.set(tuple.key, address);
        if (report !== undefined) meta.stableByKey.set(tuple.key, report);
        continue;
      }
      retry.push(original);
      const refusedList = addresses.get(tuple.key)!;
      refusedPrimaries.set(tuple.key, refusedList[0]);
      // Only the list that was refused: a concurrent call may have cached a fresher one.
      if (this.addressCache.get(tuple.key)?.addresses === refusedList) this.addressCache.delete(tuple.key);
    }
  }

  /**
   * Compares the keys WRONG_THREAD refused with their addresses looked up since. A hot
   * key's factor adds and removes replicas at the end of its list and keeps its primary
   * (docs/architecture.md); a refused key with another primary was moved by a new layout
   * (a node joined, left or restarted), which moves many keys together. Every address
   * cached before the refusal is then stale, once per generation (the other refusals of
   * that generation say the same), and each key is looked up with its next call instead of
   * first being refused at its old replica.
   */
  private noteMovedKeys(
    refusedPrimaries: ReadonlyMap<string, string>,
    refusedGeneration: number,
    fresh: Map<string, string[]>,
  ): void {
    if (refusedGeneration !== this.addressGeneration) return;
    let moved = false;
    for (const [key, primary] of refusedPrimaries) moved ||= fresh.get(key)?.[0] !== primary;
    if (!moved) return;
    this.addressGeneration++;
    this.counters.addressCacheInvalidations++;
    // Looked up after the refusal: as current as the layout that moved them.
    for (const key of refusedPrimaries.keys()) {
      const addresses = fresh.get(key);
      if (addresses !== undefined) this.cacheAddresses(key, { addresses, generation: this.addressGeneration });
    }
  }

  private silentReplicaError(replica: string): AnnaClientError {
    return new AnnaClientError("TIMEOUT", `no reply from ${replica} within ${this.options.timeoutMs} ms`);
  }

  private async sendKeyRequest(
    address: string,
    request: OutgoingRequest,
    addresses: Map<string, string[]>,
  ): Promise<KeyResponse | undefined> {
    const requestId = this.nextRequestId();
    const tuples = request.tuples.map((tuple) => ({
      ...tuple,
      address_cache_size: addresses.get(tuple.key)?.length ?? 0,
    }));
    const frame = encodeKeyRequest({
      type: request.type,
      tuples,
      response_address: this.keyReplies.lastEndpoint!,
      request_id: requestId,
      put_acks: request.putAcks,
    });
    const reply = this.awaitReply(this.pendingKeys, requestId);
    this.counters.keyRequests++;
    this.counters.keyRequestBytes += frame.length;
    this.outlets.send(address, frame);
    return reply;
  }

  /**
   * Asks the routing service, moving on to the next routing address after each timeout
   * (so a dead seed costs one timeout); every routing address gets a try before giving up.
   */
  private async fetchAddresses(keys: string[]): Promise<Map<string, string[]>> {
    const routing = this.options.routingAddresses;
    const silent = new Set<string>();
    for (let attempt = 0; attempt < Math.max(this.options.maxAttempts, routing.length); attempt++) {
      const index = this.routingIndex;
      this.counters.routingRequests++;
      const response = await this.askRouting(routing[index], keys);
      this.assertOpen();
      if (response === undefined) {
        silent.add(routing[index]);
        // Lookups that timed out on the same address together move on by one, not one each.
        if (this.routingIndex === index) this.routingIndex = (index + 1) % routing.length;
        continue;
      }
      if (response.error === AnnaError.NO_SERVERS) {
        throw new AnnaClientError("NO_SERVERS", "the routing service knows no storage actor");
      }
      const error = response.error ?? AnnaError.NO_ERROR;
      if (error !== AnnaError.NO_ERROR) {
        throw new AnnaClientError(
          "LATTICE",
          `the routing service refused a lookup of ${keys.length} key(s) (${AnnaError[error] ?? error}): a key over the node's limit?`,
        );
      }
      return new Map(response.addresses.map(({ key, ips }) => [key, ips]));
    }
    throw new AnnaClientError(
      "TIMEOUT",
      `no routing service answered within ${this.options.timeoutMs} ms: ${[...silent].join(", ")}`,
    );
  }

  private askRouting(address: string, keys: string[]): Promise<KeyAddressResponse | undefined> {
    const requestId = this.nextRequestId();
    const reply = this.awaitReply(this.pendingAddresses, requestId);
    this.outlets.send(
      address,
      encodeKeyAddressRequest({ response_address: this.addressReplies.lastEndpoint!, keys, request_id: requestId }),
    );
    return reply;
  }

  private awaitReply<T>(pending: Map<string, Pending<T | undefined>>, requestId: string): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(requestId);
        resolve(undefined);
      }, this.options.timeoutMs);
      pending.set(requestId, { resolve, timer });
    });
  }

  private settle<T>(pending: Map<string, Pending<T>>, id: string, value: T): void {
    const waiter = pending.get(id);
    if (waiter === undefined) return; // late reply to a request that timed out
    pending.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(value);
  }

  private onAddressReply(frame: Uint8Array): void {
    const response = decodeKeyAddressResponse(frame);
    this.settle(this.pendingAddresses, response.response_id, response);
  }

  private onKeyReply(frame: Uint8Array): void {
    const response = decodeKeyResponse(frame);
    this.settle(this.pendingKeys, response.response_id, response);
  }

  private async receive(socket: zmq.Pull, handle: (frame: Uint8Array) => void): Promise<void> {
    for (;;) {
      try {
        const [frame] = await socket.receive();
        handle(frame);
      } catch {
        if (socket.closed) return;
      }
    }
  }

  private nextRequestId(): string {
    return `${this.clientId}:${++this.requestCounter}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new AnnaClientError("CLOSED", "the client is closed");
  }
}

/** run()'s answer per key; the keys left without one have the last failure as their error. */
/** What run() gathers from the responses besides their tuples. */
type ResponseMeta = Pick<RunResult, "stableByKey" | "replicaByKey" | "acceptFloorMicros" | "dotByKey">;

interface RunResult {
  answers: Map<string, KeyTuple>;
  unansweredError: AnnaClientError | undefined;
  /** Per answered key, the stable time and epoch its response reported (docs/causal-stability.md); absent: neither. */
  stableByKey: Map<string, StableReport>;
  /** Per answered key, the address of the replica that answered. */
  replicaByKey: Map<string, string>;
  /** The largest accept floor named by a response that refused a tuple STALE_STAMP (0: none). */
  acceptFloorMicros: number;
  /** Per dot request applied, the dot its replica gave it (KeyResponse field 19). */
  dotByKey: Map<string, Uint8Array>;
}

/** A KeyRequest before its addressing: what run() sends to each replica. */
interface OutgoingRequest {
  type: RequestType;
  tuples: KeyTuple[];
  /** Only on PUTs, and only when not the node's default. */
  putAcks: number | undefined;
}

function resolveOptions(options: AnnaClientOptions): ResolvedOptions {
  const host = parseHost(options.host ?? DEFAULTS.host);
  if (host === undefined)
    throw new TypeError(`host must be an IP address or host name, got ${JSON.stringify(options.host)}`);
  return {
    routingAddresses: resolveRoutingAddresses(options),
    host,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
    putAcks: checkedPutAcks(options.putAcks, "putAcks"),
    addressCacheMaxKeys: checkedAddressCacheMaxKeys(options.addressCacheMaxKeys ?? DEFAULTS.addressCacheMaxKeys),
  };
}

function resolveRoutingAddresses({ routingAddress, routingAddresses }: AnnaClientOptions): readonly string[] {
  if (routingAddress !== undefined && routingAddresses !== undefined)
    throw new TypeError("give routingAddress or routingAddresses, not both");
  const addresses = routingAddresses ?? (routingAddress === undefined ? [] : [routingAddress]);
  if (!Array.isArray(addresses) || addresses.length === 0)
    throw new TypeError("AnnaClient needs routingAddress, or routingAddresses with at least one address");
  for (const address of addresses) {
    if (typeof address !== "string" || parseEndpoint(address) === undefined) {
      throw new TypeError(`a routing address must be tcp://HOST:PORT or ipc://PATH, got ${JSON.stringify(address)}`);
    }
  }
  return [...addresses];
}

/** put_acks as the wire carries it (a uint32); 0 means the node's default, as absent does. */
function checkedPutAcks(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= PUT_ACKS_MAX)) {
    throw new RangeError(`${name} must be an integer from 0 (the node's default) to ${PUT_ACKS_MAX}, got ${value}`);
  }
  return value;
}

function checkedAddressCacheMaxKeys(value: number): number {
  if (!(Number.isInteger(value) && value >= 1))
    throw new RangeError(`addressCacheMaxKeys must be an integer of at least 1, got ${value}`);
  return value;
}

function keyTupleOf({ key, type, payload }: PutTuple): KeyTuple {
  return { key, lattice_type: type, payload };
}

/** A call's result where no replica answered: every key unknown, with `error`. */
function unanswered(error: AnnaClientError): RunResult {
  return {
    answers: new Map(),
    unansweredError: error,
    stableByKey: new Map(),
    replicaByKey: new Map(),
    acceptFloorMicros: 0,
    dotByKey: new Map(),
  };
}

/** What run() would gather from `response` of `replica` to `sent`, with no retry: a key it did not answer is unknown. */
function oneReplicaResult(replica: string, sent: readonly KeyTuple[], response: KeyResponse): RunResult {
  const sentKeys = new Set(sent.map(({ key }) => key));
  const answers = new Map(response.tuples.filter(({ key }) => sentKeys.has(key)).map((tuple) => [tuple.key, tuple]));
  const answeredKeys = [...answers.keys()];
  const silentKeys = sent.filter(({ key }) => !answers.has(key)).map(({ key }) => key);
  const report = stableReport(response);
  return {
    answers,
    unansweredError:
      silentKeys.length === 0
        ? undefined
        : new AnnaClientError("TIMEOUT", `${replica} answered without ${keysNamed(silentKeys)}`),
    stableByKey: new Map(report === undefined ? [] : answeredKeys.map((key) => [key, report])),
    replicaByKey: new Map(answeredKeys.map((key) => [key, replica])),
    acceptFloorMicros: responseMicros(response.accept_floor_micros),
    dotByKey: new Map(appliedDotsOf(response, sentKeys)),
  };
}

/** The dots a response names for dot requests among the keys sent (KeyResponse field 19), by key. */
function appliedDotsOf(response: KeyResponse, sent: { has(key: string): boolean }): [string, Uint8Array][] {
  return (response.applied_dots ?? [])
    .filter(({ key }) => sent.has(key))
    .map(({ key, payload }) => [key, payload ?? new Uint8Array(0)]);
}

function dedupe(tuples: KeyTuple[]): KeyTuple[] {
  const byKey = new Map<string, KeyTuple>();
  for (const tuple of tuples) {
    if (byKey.has(tuple.key)) throw new RangeError(`key ${JSON.stringify(tuple.key)} appears twice in one call`);
    byKey.set(tuple.key, tuple);
  }
  return [...byKey.values()];
}

/** Picks one replica per key, rotating with the attempt so a retry goes elsewhere. */
function groupByReplica(tuples: KeyTuple[], addresses: Map<string, string[]>, choice: number): Map<string, KeyTuple[]> {
  const groups = new Map<string, KeyTuple[]>();
  for (const tuple of tuples) {
    const replicas = addresses.get(tuple.key) ?? [];
    if (replicas.length === 0)
      throw new AnnaClientError("NO_SERVERS", `no storage actor holds ${JSON.stringify(tuple.key)}`);
    const address = replicas[(hashString(tuple.key) + choice) % replicas.length];
    let group = groups.get(address);
    if (group === undefined) groups.set(address, (group = []));
    group.push(tuple);
  }
  return groups;
}

function hashString(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) >>> 0;
  return hash;
}

/** The stable time and epoch of a response, undefined where it carried neither (Anna's own servers). */
function stableReport(response: KeyResponse): StableReport | undefined {
  const micros = responseMicros(response.stable_micros);
  const epoch = responseMicros(response.stable_epoch);
  return micros === 0 && epoch === 0 ? undefined : { micros, epoch };
}

function valuesOf(
  tuples: Iterable<KeyTuple>,
  stableByKey: ReadonlyMap<string, StableReport>,
  { absentAsValues = false }: GetOptions,
): Map<string, ValueRead | undefined> {
  const values = new Map<string, ValueRead | undefined>();
  for (const tuple of tuples) {
    const absent = tuple.error === AnnaError.KEY_DNE;
    if (absent && !absentAsValues) {
      values.set(tuple.key, undefined);
      continue;
    }
    const value: ValueRead = absent
      ? { type: LatticeType.NONE, payload: new Uint8Array(0) }
      : { type: tuple.lattice_type ?? 0, payload: tuple.payload ?? new Uint8Array(0) };
    const report = stableByKey.get(tuple.key);
    if (report !== undefined && report.micros > 0) value.stableMicros = report.micros;
    if (report !== undefined && report.epoch > 0) value.stableEpoch = report.epoch;
    values.set(tuple.key, value);
  }
  return values;
}

function refusedError(key: string): AnnaClientError {
  return new AnnaClientError(
    "LATTICE",
    `the node refused ${JSON.stringify(key)}: wrong, conflicting or malformed lattice value, or a key or value over the node's limits`,
  );
}

function notHeldError(replica: string, key: string): AnnaClientError {
  return new AnnaClientError("WRONG_THREAD", `${replica} does not hold ${JSON.stringify(key)}`);
}

function staleStampError(key: string, acceptFloorMicros: number, epoch: number): AnnaClientError {
  return new AnnaClientError(
    "STALE_STAMP",
    `the node refused ${JSON.stringify(key)}: its causal stamp is at or below the actor's accept floor (${acceptFloorMicros} µs) ` +
      `or of another epoch than the actor's (${epoch}); stamp it later, in that epoch, and send it again`,
  );
}

/** Throws for the first tuple of a GET the node refused (LATTICE), else for those it answered TIMEOUT. */
function throwOnGetErrors(tuples: Iterable<KeyTuple>): void {
  const timedOut: string[] = [];
  for (const tuple of tuples) {
    if (tuple.error === AnnaError.LATTICE) throw refusedError(tuple.key);
    if (tuple.error === AnnaError.TIMEOUT) timedOut.push(tuple.key);
  }
  // A GET tuple answered TIMEOUT has no value to return: never an absent key.
  if (timedOut.length > 0) throw new AnnaClientError("TIMEOUT", `the node answered TIMEOUT for ${keysNamed(timedOut)}`);
}

/**
 * Per key of a PUT: refused (LATTICE, STALE_STAMP; WRONG_THREAD where run() could not try
 * another replica), unknown (no answer; or TIMEOUT: stored on fewer replica nodes than
 * asked for), or applied.
 */
function putOutcomes(
  tuples: readonly KeyTuple[],
  { answers, unansweredError, stableByKey, replicaByKey, acceptFloorMicros, dotByKey }: RunResult,
  putAcks: number | undefined,
): Map<string, PutOutcome> {
  const underReplicated = tuples
    .filter(({ key }) => answers.get(key)?.error === AnnaError.TIMEOUT)
    .map(({ key }) => key);
  const asked = putAcks === undefined ? "the node's default" : `${putAcks}`;
  // One error naming them all, shared by their outcomes: what putMany has always thrown.
  const underReplicatedError =
    underReplicated.length === 0
      ? undefined
      : new AnnaClientError(
          "TIMEOUT",
          `PUT of ${keysNamed(underReplicated)} was stored on fewer replica nodes than asked for (${asked}) in time; it was applied and will still spread to the others by gossip (not retried)`,
        );
  const outcomes = new Map<string, PutOutcome>();
  for (const { key } of tuples) {
    const answer = answers.get(key);
    if (answer === undefined) outcomes.set(key, { status: "unknown", error: unansweredError! });
    else if (answer.error === AnnaError.TIMEOUT) outcomes.set(key, { status: "unknown", error: underReplicatedError! });
    else
      outcomes.set(
        key,
        answeredOutcome(answer, replicaByKey.get(key)!, stableByKey.get(key), acceptFloorMicros, dotByKey.get(key)),
      );
  }
  return outcomes;
}

/** A PUT tuple's outcome from the answer of `replica` (other than TIMEOUT): refused, or applied. */
function answeredOutcome(
  { key, error }: KeyTuple,
  replica: string,
  report: StableReport | undefined,
  acceptFloorMicros: number,
  dot: Uint8Array | undefined,
): PutOutcome {
  if (error === AnnaError.LATTICE) return { status: "refused", error: refusedError(key), replica };
  if (error === AnnaError.WRONG_THREAD)
    return { status: "refused", error: notHeldError(replica, key), replica, notHeld: true };
  if (error === AnnaError.STALE_STAMP) {
    const epoch = report?.epoch ?? 0;
    const refused = {
      status: "refused",
      error: staleStampError(key, acceptFloorMicros, epoch),
      acceptFloorMicros,
      replica,
    } as const;
    return epoch === 0 ? refused : { ...refused, epoch };
  }
  const applied: { status: "applied"; stableMicros?: number; stableEpoch?: number; dot?: Uint8Array } = {
    status: "applied",
  };
  if (report !== undefined && report.micros > 0) applied.stableMicros = report.micros;
  if (report !== undefined && report.epoch > 0) applied.stableEpoch = report.epoch;
  if (dot !== undefined) applied.dot = dot;
  return applied;
}

function keysNamed(keys: readonly string[]): string {
  return `${JSON.stringify(keys[0])}${keys.length > 1 ? ` and ${keys.length - 1} more key(s)` : ""}`;
}
