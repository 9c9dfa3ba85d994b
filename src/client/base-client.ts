/**
 * The byte-level half of AnnaClient: Anna's client protocol from TypeScript. It asks a node's routing service
 * where keys live, caches the answer, sends each replica one KeyRequest carrying all of
 * its keys, and refreshes addresses on WRONG_THREAD or `invalidate`. A request that times
 * out is retried on another replica. Lattice payloads are bytes here; AnnaClient
 * (anna-client.ts) adds the typed helpers.
 */
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { LatticeType } from "../lattices/lattice-type";
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
} from "../protocol/anna";
import { PushPool } from "../protocol/push-pool";
import { parseHost, tcpAddress } from "../protocol/zmtp/endpoint";

export type AnnaClientErrorCode = "TIMEOUT" | "LATTICE" | "NO_SERVERS" | "WRONG_THREAD" | "CLOSED";

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
  /** The node's routing socket, e.g. tcp://127.0.0.1:6450. */
  routingAddress: string;
  /** Interface the client's reply sockets bind to; the node must reach it. IPv6 as `::1` or `[::1]`. */
  host?: string;
  /** How long one attempt waits for its reply. */
  timeoutMs?: number;
  /** Attempts per key operation (each on another replica where there is one). */
  maxAttempts?: number;
}

export interface ValueRead {
  type: LatticeType;
  payload: Uint8Array;
}

export interface PutTuple {
  key: string;
  type: LatticeType;
  payload: Uint8Array;
}

const DEFAULTS = { host: "127.0.0.1", timeoutMs: 2000, maxAttempts: 3 };
/** Replica and routing sockets one client keeps open at once. */
const MAX_REPLICA_SOCKETS = 256;

interface Pending<T> {
  resolve(value: T): void;
  timer: NodeJS.Timeout;
}

export class AnnaClientBase {
  private readonly options: Required<AnnaClientOptions>;
  private readonly clientId = randomUUID();
  /**
   * Picks this client's replica of each key: one key's requests stay on one replica
   * (monotonic reads), while different clients spread a hot key over all of its replicas.
   */
  private readonly replicaSalt = hashString(this.clientId);
  private requestCounter = 0;
  private readonly addressReplies: zmq.Pull;
  private readonly keyReplies: zmq.Pull;
  /** Request sockets by replica address: bounded, closed when idle, one send at a time each. */
  private readonly outlets = new PushPool({ maxSockets: MAX_REPLICA_SOCKETS, idleCloseMs: 30_000, maxQueuedFrames: 10_000, lingerMs: 0 });
  private readonly pendingAddresses = new Map<string, Pending<KeyAddressResponse | undefined>>();
  private readonly pendingKeys = new Map<string, Pending<KeyResponse | undefined>>();
  private readonly addressCache = new Map<string, string[]>();
  private connected?: Promise<void>;
  private closed = false;

  constructor(options: AnnaClientOptions) {
    const host = parseHost(options.host ?? DEFAULTS.host);
    if (host === undefined) throw new TypeError(`host must be an IP address or host name, got ${JSON.stringify(options.host)}`);
    this.options = { ...DEFAULTS, ...options, host };
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
  async getMany(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    const tuples = keys.map((key) => ({ key }));
    const answers = await this.run(RequestType.GET, tuples);
    const values = new Map<string, ValueRead | undefined>();
    for (const [key, tuple] of answers) {
      values.set(key, tuple.error === AnnaError.KEY_DNE ? undefined : { type: tuple.lattice_type ?? 0, payload: tuple.payload ?? new Uint8Array(0) });
    }
    return values;
  }

  async get(key: string): Promise<ValueRead | undefined> {
    return (await this.getMany([key])).get(key);
  }

  /** Merges each payload into its key's value on a replica (gossip reaches the others). */
  async putMany(puts: readonly PutTuple[]): Promise<void> {
    const tuples = puts.map(({ key, type, payload }) => ({ key, lattice_type: type, payload }));
    await this.run(RequestType.PUT, tuples);
  }

  async put(key: string, type: LatticeType, payload: Uint8Array): Promise<void> {
    await this.putMany([{ key, type, payload }]);
  }

  /** The replica addresses of keys, from the cache or the routing service. */
  async addressesOf(keys: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    const missing: string[] = [];
    for (const key of keys) {
      const cached = this.addressCache.get(key);
      if (cached !== undefined) result.set(key, cached);
      else missing.push(key);
    }
    if (missing.length === 0) return result;
    const fetched = await this.fetchAddresses(missing);
    for (const [key, addresses] of fetched) {
      this.addressCache.set(key, addresses);
      result.set(key, addresses);
    }
    return result;
  }

  /** Sends tuples to replicas until each has an answer that is not WRONG_THREAD or a timeout. */
  private async run(type: RequestType, tuples: KeyTuple[]): Promise<Map<string, KeyTuple>> {
    this.assertOpen();
    await this.connect();
    const answers = new Map<string, KeyTuple>();
    let remaining = dedupe(tuples);
    let lastFailure: AnnaClientError | undefined;
    for (let attempt = 0; attempt < this.options.maxAttempts && remaining.length > 0; attempt++) {
      const addresses = await this.addressesOf(remaining.map((tuple) => tuple.key));
      const byReplica = groupByReplica(remaining, addresses, this.replicaSalt + attempt);
      const retry: KeyTuple[] = [];
      await Promise.all(
        [...byReplica].map(async ([address, group]) => {
          const response = await this.sendKeyRequest(address, type, group, addresses);
          if (response === undefined) {
            lastFailure = new AnnaClientError("TIMEOUT", `no reply from ${address} within ${this.options.timeoutMs} ms`);
            retry.push(...group);
            return;
          }
          this.absorb(response, group, answers, retry);
        }),
      );
      remaining = retry;
      lastFailure ??= remaining.length > 0 ? new AnnaClientError("WRONG_THREAD", "replica addresses kept changing") : undefined;
    }
    if (remaining.length > 0) throw lastFailure!;
    for (const tuple of answers.values()) throwOnTupleError(tuple);
    return answers;
  }

  private absorb(response: KeyResponse, sent: KeyTuple[], answers: Map<string, KeyTuple>, retry: KeyTuple[]): void {
    if (response.error === AnnaError.TIMEOUT) {
      retry.push(...sent);
      return;
    }
    const byKey = new Map(sent.map((tuple) => [tuple.key, tuple]));
    for (const tuple of response.tuples) {
      if (tuple.invalidate) this.addressCache.delete(tuple.key);
      const original = byKey.get(tuple.key);
      if (original === undefined) continue;
      if (tuple.error === AnnaError.WRONG_THREAD) retry.push(original);
      else answers.set(tuple.key, tuple);
    }
  }

  private async sendKeyRequest(
    address: string,
    type: RequestType,
    tuples: KeyTuple[],
    addresses: Map<string, string[]>,
  ): Promise<KeyResponse | undefined> {
    const requestId = this.nextRequestId();
    const withCacheSize = tuples.map((tuple) => ({ ...tuple, address_cache_size: addresses.get(tuple.key)?.length ?? 0 }));
    const frame = encodeKeyRequest({ type, tuples: withCacheSize, response_address: this.keyReplies.lastEndpoint!, request_id: requestId });
    const reply = this.awaitReply(this.pendingKeys, requestId);
    this.outlets.send(address, frame);
    return reply;
  }

  private async fetchAddresses(keys: string[]): Promise<Map<string, string[]>> {
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      const requestId = this.nextRequestId();
      const reply = this.awaitReply(this.pendingAddresses, requestId);
      this.outlets.send(this.options.routingAddress, encodeKeyAddressRequest({ response_address: this.addressReplies.lastEndpoint!, keys, request_id: requestId }));
      const response = await reply;
      this.assertOpen();
      if (response === undefined) continue;
      if (response.error === AnnaError.NO_SERVERS) {
        throw new AnnaClientError("NO_SERVERS", "the routing service knows no storage actor");
      }
      return new Map(response.addresses.map(({ key, ips }) => [key, ips]));
    }
    throw new AnnaClientError("TIMEOUT", `routing service ${this.options.routingAddress} did not answer`);
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
    if (replicas.length === 0) throw new AnnaClientError("NO_SERVERS", `no storage actor holds ${JSON.stringify(tuple.key)}`);
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

function throwOnTupleError(tuple: KeyTuple): void {
  if (tuple.error === AnnaError.LATTICE) {
    throw new AnnaClientError("LATTICE", `the node refused ${JSON.stringify(tuple.key)}: wrong, conflicting or malformed lattice value, or a key or value over the node's limits`);
  }
}
