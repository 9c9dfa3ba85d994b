/**
 * The scaling benchmark's requests, generated on each worker before timing: key indexes
 * drawn by Zipf rank, kept if this worker serves them, and a small pool of 1 KiB LWW
 * payloads that the timed loop restamps (a fresh, larger timestamp per update).
 */
import { LocalPlacement } from "../../src/routing/placement";
import { KeyChooser, KeySpace, Prng, TIMESTAMP_BASE, writeTimestamp } from "../workload";

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
  while (value >= 128) (value = Math.floor(value / 128)), bytes++;
  return bytes;
}

/** Distinct values each worker cycles through: enough that copies are not all one cache line. */
export const VALUE_POOL_SIZE = 64;

export function valuePool(random: Prng, valueBytes: number): Uint8Array[] {
  return Array.from({ length: VALUE_POOL_SIZE }, () => random.bytes(valueBytes));
}

/**
 * Timestamps unique across workers (tid in the low part), growing per update, so every
 * update wins its LWW merge on the writer and, by gossip, on the other replicas.
 */
export function timestampOf(sequence: number, tid: number, threadCount: number): number {
  return TIMESTAMP_BASE + 1 + sequence * threadCount + tid;
}

export interface GeneratedRequests {
  keyIndexes: Uint32Array;
  /** Share of the global request stream this worker serves (1 when it serves every key). */
  ownedShare: number;
}

/**
 * Draws `draws` key ranks from the global Zipf stream and keeps those `placement` gives to
 * `tid` (all of them under full replication). Partitioned annakv routes each request to
 * its key's owner; a worker that pre-generates only its own keys' requests is that routing
 * done ahead of time, with no network in the loop.
 */
export function generateRequests(chooser: KeyChooser, keys: KeySpace, placement: LocalPlacement, tid: number, draws: number, seed: number): GeneratedRequests {
  const random = new Prng(seed);
  const kept = new Uint32Array(draws);
  let keptCount = 0;
  for (let i = 0; i < draws; i++) {
    const index = chooser.choose(random);
    if (placement.isReplica(keys.key(index), tid)) kept[keptCount++] = index;
  }
  if (keptCount === 0) kept[keptCount++] = firstOwnedKey(keys, placement, tid);
  return { keyIndexes: kept.slice(0, keptCount), ownedShare: keptCount / draws };
}

/** A worker that owns no drawn key (Zipf 4 draws few distinct keys) still serves one of its own. */
function firstOwnedKey(keys: KeySpace, placement: LocalPlacement, tid: number): number {
  for (let index = keys.keyCount - 1; index >= 0; index--) if (placement.isReplica(keys.key(index), tid)) return index;
  throw new Error(`thread ${tid} owns no key`);
}
