/**
 * LWW; anna.proto `LWWValue` (docs/lattices.md). Two parts, pruned together:
 * - the committed part (fields 1, 2, 13, 14) = lexicographic(max u64 timestamp,
 *   lexicographic(max bytes write id, product(max bytes value, write set))). The write id
 *   breaks timestamp ties before the value does; a plain write has the empty write id and
 *   no write set, both bottoms, so plain writes order and encode as before they existed.
 * - the window (field 15) = map((timestamp, write id) → product(max bytes value, write set,
 *   max bool committed)): a key's recent versions for read atomic (docs/consistency.md §2.6).
 * A write set is a union of keys bounded to its WRITE_SET_KEYS_MAX least (set-union.ts).
 * The codec is lww-wire.ts.
 */
import { compareBytes, EMPTY_BYTES } from "./lattice";
import { ByteMap, mapLattice } from "./map";
import { maxBool, maxBytes, maxU64 } from "./max";
import { lexicographicPair, Pair, productLattice } from "./pair";
import { prunedLattice } from "./pruned";
import { boundedSetUnion, ByteSet } from "./set-union";
import { U64 } from "../wire/u64";

/** The same limits as assembly/lattices/register.ts and lww-window.ts; past them a payload is malformed. */
export const WRITE_ID_BYTES_MAX = 64;
/** Keys in one write set; a read-atomic transaction writes at most this many keys. */
export const WRITE_SET_KEYS_MAX = 64;
/** Bytes of one key of a write set, so a write set stays within 64 KiB. */
export const WRITE_SET_KEY_BYTES_MAX = 1024;
/** Fields 15 in one payload, and entries the window keeps (the greatest ones). */
export const VERSIONS_MAX = 32;
/** W: the window keeps versions at most this far below the committed timestamp. */
export const WINDOW_MICROS = 5_000_000;
/** N: the window keeps at most this many committed versions, the greatest. */
export const COMMITTED_VERSIONS_KEPT = 4;
/** A window key: the timestamp in 8 big-endian bytes, then the write id, so bytes order as (timestamp, write id). */
export const STAMP_KEY_BYTES = 8;

/** (value, write set). */
export type LwwContent = Pair<Uint8Array, ByteSet>;
/** (timestamp, (write id, (value, write set))). */
export type LwwCommitted = Pair<U64, Pair<Uint8Array, LwwContent>>;
/** (value, (write set, committed)). */
export type LwwWindowEntry = Pair<Uint8Array, Pair<ByteSet, boolean>>;
/** Keyed by stampKey(timestamp) ‖ write id. */
export type LwwWindow = ByteMap<LwwWindowEntry>;
export type Lww = Pair<LwwCommitted, LwwWindow>;

export const lwwWriteSet = boundedSetUnion(WRITE_SET_KEYS_MAX);
const committedPart = lexicographicPair(maxU64, lexicographicPair(maxBytes, productLattice(maxBytes, lwwWriteSet)));
export const lwwWindowEntry = productLattice(maxBytes, productLattice(lwwWriteSet, maxBool));
export const lwwWindow = mapLattice(lwwWindowEntry);

/**
 * The window keeps the entries whose key is at least θ = the greatest of
 *   (a) stampKey(committed timestamp − W), saturating at 0;
 *   (b) the key of the N-th greatest committed entry;
 *   (c) the key of the VERSIONS_MAX-th greatest entry.
 * Why the join stays a join (pruned.ts): each term only rises as the state rises (the
 * committed timestamp only grows; committed flags and keys are never lost by a join, so
 * an order statistic of them only grows). prune(x) keeps every entry ≥ θ(x), so the entries
 * that define (b) and (c) survive and θ(prune(x)) = θ(x): pruning is idempotent. And
 * prune(prune(x) ⊔ y) = prune(x ⊔ y): θ(x ⊔ y) ≥ θ(x), so the entries prune(x) lacks lie
 * below θ(x ⊔ y) and would be dropped anyway; the entries that define θ(x ⊔ y) lie at or
 * above it, so at or above θ(x), and are in prune(x) ⊔ y with the same committed flags;
 * hence both sides have the same θ and the same entries at or above it.
 */
function pruneWindow(value: Lww): Lww {
  const window = value.second;
  if (window.length === 0) return value;
  const threshold = windowThreshold(value.first.first, window);
  let first = 0;
  while (first < window.length && compareBytes(window[first].key, threshold) < 0) first++;
  return first === 0 ? value : { first: value.first, second: window.slice(first) };
}

function windowThreshold(committedStamp: U64, window: LwwWindow): Uint8Array {
  let threshold = stampKey(stampMinusWindow(committedStamp), EMPTY_BYTES);
  let committedSeen = 0;
  for (let i = window.length - 1; i >= 0; i--) {
    if (window[i].value.second.second && ++committedSeen === COMMITTED_VERSIONS_KEPT) {
      if (compareBytes(window[i].key, threshold) > 0) threshold = window[i].key;
      break;
    }
  }
  const leastOfMostKept = window.length >= VERSIONS_MAX ? window[window.length - VERSIONS_MAX].key : EMPTY_BYTES;
  return compareBytes(leastOfMostKept, threshold) > 0 ? leastOfMostKept : threshold;
}

function stampMinusWindow({ high, low }: U64): U64 {
  if (high === 0 && low < WINDOW_MICROS) return { high: 0, low: 0 };
  return low >= WINDOW_MICROS
    ? { high, low: low - WINDOW_MICROS }
    : { high: high - 1, low: low + 2 ** 32 - WINDOW_MICROS };
}

/** The window key of a version: its timestamp big-endian, then its write id. */
export function stampKey(stamp: U64, writeId: Uint8Array): Uint8Array {
  const key = new Uint8Array(STAMP_KEY_BYTES + writeId.length);
  const view = new DataView(key.buffer);
  view.setUint32(0, stamp.high);
  view.setUint32(4, stamp.low);
  key.set(writeId, STAMP_KEY_BYTES);
  return key;
}

export function stampOfKey(key: Uint8Array): U64 {
  const view = new DataView(key.buffer, key.byteOffset, STAMP_KEY_BYTES);
  return { high: view.getUint32(0), low: view.getUint32(4) };
}

export const lww = prunedLattice(productLattice(committedPart, lwwWindow), pruneWindow);

/** A committed part and a window (keyed, repeated keys joined) as one pruned value: what a decoded payload becomes. */
export function prunedLww(committed: LwwCommitted, window: LwwWindow): Lww {
  return pruneWindow({ first: committed, second: window });
}
