/**
 * The scaling benchmark's requests. One global request stream per workload and skew is
 * drawn once, seeded, before any timing, into SharedArrayBuffers that every worker reads:
 * the same stream on every worker, as if each had drawn it from the same seed. Each
 * request carries a key index (Zipf rank), whether it is a GET, and a uniform 32-bit
 * number that routes it to one of its key's replicas. Every worker applies the same rule
 * to the same stream, so each request is kept by exactly one worker, and a worker replays
 * only the requests routed to it.
 */
import type { LocalPlacement } from "../../src/routing/placement";
import { KeyChooser, KeySpace, Prng, writeTimestamp } from "../workload";

export type Workload = "update" | "mix";
export const WORKLOADS: readonly Workload[] = ["update", "mix"];

/** Share of GETs in the mix workload (the rest are PUTs). */
const MIX_GET_SHARE = 0.5;
/** Set in a stream entry for a GET; the low bits hold the key index (keys stay below 2^24). */
export const GET_FLAG = 0x8000_0000;
export const KEY_INDEX_MASK = 0x7fff_ffff;
const TWO_POW_32 = 2 ** 32;

export interface RequestStream {
  workload: Workload;
  zipf: number;
  draws: number;
  /** Uint32 per request: key index, | GET_FLAG for a GET. */
  entries: SharedArrayBuffer;
  /** Uint32 per request: picks the replica, as floor(route / 2^32 * replicaCount). */
  routes: SharedArrayBuffer;
}

/** Draws the stream; key choice, op kind and routing each have their own seeded generator. */
export function drawRequestStream(
  keyCount: number,
  workload: Workload,
  zipf: number,
  draws: number,
  seed: number,
): RequestStream {
  const chooser = new KeyChooser(keyCount, zipf);
  const keyRandom = new Prng(seed);
  const kindRandom = new Prng(seed + 1);
  const routeRandom = new Prng(seed + 2);
  const stream: RequestStream = {
    workload,
    zipf,
    draws,
    entries: new SharedArrayBuffer(draws * 4),
    routes: new SharedArrayBuffer(draws * 4),
  };
  const entries = new Uint32Array(stream.entries);
  const routes = new Uint32Array(stream.routes);
  for (let i = 0; i < draws; i++) {
    const get = workload === "mix" && kindRandom.next() < MIX_GET_SHARE;
    entries[i] = (chooser.choose(keyRandom) | (get ? GET_FLAG : 0)) >>> 0;
    routes[i] = Math.floor(routeRandom.next() * TWO_POW_32);
  }
  return stream;
}

/**
 * The replicas of every key index under one placement, computed once per worker group
 * (hashing a million keys takes about a second) and shared by routing and preloading.
 * Replica lists are interned: there are few distinct ones.
 */
export class ReplicaTable {
  private readonly listOfKey: Uint32Array;
  private readonly lists: (readonly number[])[] = [];

  private readonly idOfList = new Map<string, number>();

  constructor(placement: LocalPlacement, keys: KeySpace) {
    this.listOfKey = new Uint32Array(keys.keyCount);
    let previous: readonly number[] | undefined;
    let previousId = 0;
    for (let index = 0; index < keys.keyCount; index++) {
      const replicas = placement.replicas(keys.key(index));
      if (replicas !== previous) {
        previous = replicas;
        previousId = this.idOf(replicas);
      }
      this.listOfKey[index] = previousId;
    }
  }

  /** One stored list per distinct replica list. */
  private idOf(replicas: readonly number[]): number {
    const name = replicas.join(",");
    let id = this.idOfList.get(name);
    if (id === undefined) {
      id = this.lists.length;
      this.lists.push(replicas.slice());
      this.idOfList.set(name, id);
    }
    return id;
  }

  replicas(index: number): readonly number[] {
    return this.lists[this.listOfKey[index]];
  }

  /** Selective replication: one key's replica list changed (a hot key's factor). */
  setReplicas(index: number, replicas: readonly number[]): void {
    this.listOfKey[index] = this.idOf(replicas);
  }

  holds(index: number, tid: number): boolean {
    return this.replicas(index).includes(tid);
  }
}

/** The replica a request goes to: uniform over its key's replicas, the same answer on every worker. */
export function routedReplica(replicas: readonly number[], route: number): number {
  return replicas[Math.floor((route / TWO_POW_32) * replicas.length)];
}

/** The stream entries routed to `tid`, in stream order. */
export function requestsRoutedTo(stream: RequestStream, table: ReplicaTable, tid: number): Uint32Array {
  const entries = new Uint32Array(stream.entries);
  const routes = new Uint32Array(stream.routes);
  const kept = new Uint32Array(stream.draws);
  let keptCount = 0;
  for (let i = 0; i < stream.draws; i++) {
    const entry = entries[i];
    if (routedReplica(table.replicas(entry & KEY_INDEX_MASK), routes[i]) === tid) kept[keptCount++] = entry;
  }
  return kept.slice(0, keptCount);
}

/** bench/workload.ts's payload writer stops at 127-byte values; 1 KiB needs a 2-byte length varint. */
const TIMESTAMP_VARINT_BYTES = 5;
export const LWW_TIMESTAMP_OFFSET = 1;

export function lwwPayloadBytes(valueBytes: number): number {
  return 1 + TIMESTAMP_VARINT_BYTES + 1 + varintBytes(valueBytes) + valueBytes;
}

/** Protobuf `LWWValue { timestamp = 1; value = 2 }` with a 5-byte timestamp varint. */
export function lwwPayload(timestamp: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(lwwPayloadBytes(value.length));
  out[0] = 0x08;
  writeTimestamp(out, LWW_TIMESTAMP_OFFSET, timestamp);
  let offset = 1 + TIMESTAMP_VARINT_BYTES;
  out[offset++] = 0x12;
  for (let length = value.length; ; length = Math.floor(length / 128)) {
    out[offset++] = length >= 128 ? (length & 0x7f) | 0x80 : length;
    if (length < 128) break;
  }
  out.set(value, offset);
  return out;
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 128) ((value = Math.floor(value / 128)), bytes++);
  return bytes;
}

/** Distinct values each worker cycles through: enough that copies are not all one cache line. */
export const VALUE_POOL_SIZE = 64;

export function valuePool(random: Prng, valueBytes: number): Uint8Array[] {
  return Array.from({ length: VALUE_POOL_SIZE }, () => random.bytes(valueBytes));
}
