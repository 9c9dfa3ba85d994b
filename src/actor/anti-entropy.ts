/**
 * Anti-entropy (docs/cluster.md, "Anti-entropy"): replicas compare digests of their keys
 * and exchange only the buckets that differ, so divergence from lost gossip, or from a
 * node that was away, heals without waiting for writes, at a bounded cost when nothing
 * differs.
 *
 * Every period an actor scans its store (10 ms of it a gossip tick, in short slices, and
 * not while a rebalance moves keys) and, for every other
 * actor of the layout, folds each record of a key both replicate into one of BUCKETS
 * digests (XOR of the records' xxHash64; the bucket is the top bits of the key's hash).
 * It then sends each actor its digest (DIGESTS frame; zeros where they share nothing, so
 * an actor that lost everything still compares). On receiving a peer's digest, it compares
 * it with its own last digest for that peer: for every bucket that differs it sends the
 * peer its records of that bucket (a repair scan). The peer, comparing the other way, sends
 * its own: both end up with the merge of both. Records merge as a lattice join, so a bucket
 * sent needlessly (a write in flight made the digests differ) costs bytes, not correctness.
 */
import type { ClusterPlacement } from "../routing/cluster-placement";
import { xxhash64 } from "../routing/hash";
import { addPartFor, GossipContext, selfActor } from "./gossip-context";
import { digestsFrame, recordsFrame } from "./gossip-frame";
import { forEachRecord } from "./handlers/gossip";

/** Buckets of a digest: 4 KiB a peer a period. */
export const BUCKETS = 512;
const BUCKET_SHIFT = 32 - Math.log2(BUCKETS);
/** Record bytes an anti-entropy page scans: ~700 records, a few milliseconds, so that the tick's budget holds. */
const PAGE_BYTES = 64 * 1024;
/** Milliseconds of scanning per gossip tick for a round, and as many for a repair: anti-entropy is background work. */
const TICK_BUDGET_MS = 10;
/** A round asked for by a lost frame starts no sooner than this after the last one. */
const ROUND_GAP_MS_MIN = 1000;

/** (high, low) halves of each bucket's XOR. */
export type Digest = Uint32Array;

export interface AntiEntropyState {
  periodMs: number;
  lastRoundStartMs: number;
  /** The round under way: its cursor, and the digests so far by peer gossip address. */
  round?: { cursor: number; digests: Map<string, Digest> };
  /** Own digests of the last completed round, by peer gossip address. */
  completed: Map<string, Digest>;
  /** Buckets to send each peer (by gossip address), waiting for the next repair scan. */
  repairs: Map<string, Set<number>>;
  /** The repair scan under way. */
  repair?: { cursor: number; buckets: Map<string, Set<number>> };
  roundsCompleted: number;
  bucketsRepaired: number;
  keysRepaired: number;
}

export function newAntiEntropyState(periodMs: number): AntiEntropyState {
  return {
    periodMs,
    lastRoundStartMs: -Infinity,
    completed: new Map(),
    repairs: new Map(),
    roundsCompleted: 0,
    bucketsRepaired: 0,
    keysRepaired: 0,
  };
}

function bucketOf(key: Uint8Array): number {
  return xxhash64(key).high >>> BUCKET_SHIFT;
}

/**
 * Forgets the round under way, the last round's digests and the repairs waiting: keys are
 * about to move (a new layout), so digests of who shares what no longer compare, and the
 * rebalance sends every key where it now belongs. Rounds resume once it is done.
 */
export function abandonAntiEntropy(state: AntiEntropyState): void {
  state.round = undefined;
  state.completed = new Map();
  state.repairs.clear();
  state.repair = undefined;
}

/** Starts a round soon, not waiting for the period (a frame to a peer may have been lost). */
export function requestAntiEntropy(state: AntiEntropyState, nowMs: number): void {
  if (state.round === undefined && nowMs - state.lastRoundStartMs >= ROUND_GAP_MS_MIN)
    state.lastRoundStartMs = nowMs - state.periodMs;
}

/** This gossip tick's milliseconds for anti-entropy: TICK_BUDGET_MS for each of a round and a repair under way. */
export function antiEntropyTickBudgetMs(state: AntiEntropyState): number {
  const repairing = state.repair !== undefined || state.repairs.size > 0;
  return repairing && state.round !== undefined ? 2 * TICK_BUDGET_MS : TICK_BUDGET_MS;
}

/**
 * A slice of anti-entropy, until `deadlineMs` (performance.now()): start a round when due,
 * continue the round and the repair scan (each half of the slice when both are under way,
 * so that a long round does not hold back the repair of what an earlier one found). True
 * while either is still under way.
 */
export function continueAntiEntropy(
  context: GossipContext,
  state: AntiEntropyState,
  nowMs: number,
  deadlineMs: number,
): boolean {
  if (state.periodMs <= 0) return false;
  if (state.round === undefined && nowMs - state.lastRoundStartMs >= state.periodMs) {
    state.round = { cursor: 0, digests: new Map() };
    state.lastRoundStartMs = nowMs;
  }
  const repairing = state.repair !== undefined || state.repairs.size > 0;
  if (state.round !== undefined)
    continueRound(context, state, repairing ? (performance.now() + deadlineMs) / 2 : deadlineMs);
  if (state.repair === undefined && state.repairs.size > 0) {
    state.repair = { cursor: 0, buckets: new Map(state.repairs) };
    state.repairs.clear();
  }
  if (state.repair !== undefined) continueRepair(context, state, deadlineMs);
  return state.round !== undefined || state.repair !== undefined;
}

function continueRound(context: GossipContext, state: AntiEntropyState, deadlineMs: number): void {
  const round = state.round!;
  const { placement } = context;
  const self = selfActor(context);
  while (performance.now() < deadlineMs) {
    const { records, nextCursor } = context.store.scan(round.cursor, PAGE_BYTES);
    forEachRecord(records, (key, bytes) => {
      const replicas = placement.writeReplicas(key);
      if (!replicas.includes(self)) return;
      const bucket = bucketOf(key);
      const hash = xxhash64(bytes);
      for (const actor of replicas) {
        if (actor === self) continue;
        const address = context.gossipAddress(actor);
        let digest = round.digests.get(address);
        if (digest === undefined) round.digests.set(address, (digest = new Uint32Array(2 * BUCKETS)));
        digest[2 * bucket] ^= hash.high;
        digest[2 * bucket + 1] ^= hash.low;
      }
    });
    round.cursor = nextCursor;
    if (nextCursor === 0) return finishRound(context, state, placement);
  }
}

function finishRound(context: GossipContext, state: AntiEntropyState, placement: ClusterPlacement): void {
  const { digests } = state.round!;
  state.round = undefined;
  state.roundsCompleted++;
  const self = selfActor(context);
  state.completed = new Map();
  for (let actor = 0; actor < placement.actorCount; actor++) {
    if (actor === self) continue;
    const address = context.gossipAddress(actor);
    const digest = digests.get(address) ?? new Uint32Array(2 * BUCKETS);
    state.completed.set(address, digest);
    context.peers.send(address, digestsFrame(context.selfAddress, digest));
  }
}

/** A peer's digest of the keys it shares with this actor: the buckets that differ are sent to it. */
export function receiveDigest(state: AntiEntropyState, sender: string, digest: Digest): void {
  const own = state.completed.get(sender);
  if (own === undefined || digest.length !== 2 * BUCKETS) return;
  let differing = state.repairs.get(sender);
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    if (own[2 * bucket] === digest[2 * bucket] && own[2 * bucket + 1] === digest[2 * bucket + 1]) continue;
    if (differing === undefined) state.repairs.set(sender, (differing = new Set()));
    differing.add(bucket);
  }
}

function continueRepair(context: GossipContext, state: AntiEntropyState, deadlineMs: number): void {
  const repair = state.repair!;
  const { placement } = context;
  while (performance.now() < deadlineMs) {
    const { records, nextCursor } = context.store.scan(repair.cursor, PAGE_BYTES);
    const partsByAddress = new Map<string, Uint8Array[]>();
    forEachRecord(records, (key, bytes) => {
      const bucket = bucketOf(key);
      let replicas: string[] | undefined;
      for (const [address, buckets] of repair.buckets) {
        if (!buckets.has(bucket)) continue;
        replicas ??= placement.writeReplicas(key).map((actor) => context.gossipAddress(actor));
        if (!replicas.includes(address)) continue;
        addPartFor(partsByAddress, address, bytes);
        state.keysRepaired++;
      }
    });
    for (const [address, parts] of partsByAddress) context.peers.send(address, recordsFrame(parts));
    repair.cursor = nextCursor;
    if (nextCursor === 0) {
      for (const buckets of repair.buckets.values()) state.bucketsRepaired += buckets.size;
      state.repair = undefined;
      return;
    }
  }
}
