/**
 * Rebalancing (docs/cluster.md, "Rebalance"): when the cluster's rings change, the actor
 * scans its whole store in pages and, for each key, sends it to every write replica that
 * was not one before, or, where the actor is no longer a replica itself, hands it to every
 * write replica and drops it once all have acknowledged (handlers/replication.ts). Pages
 * go as HANDOFF frames, one per destination, each acknowledged; at most
 * PAGES_IN_FLIGHT_MAX unacknowledged at once (bounded memory), and pages only from the
 * gossip tick, within `--rebalance-share` of the gossip period each (rebalanceTickBudgetMs),
 * in short slices between requests (time-slices.ts): requests keep most of the actor's time
 * while keys move (the first version worked on every acknowledgement and served ~13% of
 * its usual load during a join on 2 cores; bench/cluster).
 *
 * Where a key has several holders that stay, only the first of them on the next ring (in
 * the placement's order, the same on every node) seeds its new replicas; a leaving actor
 * sends every key it holds, and hands on what reaches it while it leaves (handlers/gossip.ts).
 * If the seeder lost the key, the new replica gets it from anti-entropy instead.
 *
 * A change during a scan restarts it; "before" is then every placement seen since the
 * last completed scan (a destination new to any of them gets the key): sending twice is
 * harmless, missing a new replica is not. The actor reports each completed scan (all pages
 * acknowledged) with the layout version it reached, which is how a joiner learns it holds
 * its keys.
 */
import type { ClusterPlacement } from "../routing/cluster-placement";
import { Hash64, xxhash64 } from "../routing/hash";
import { keyName } from "../wire/key";
import { addPartFor, currentRecord, GossipContext, selfActor } from "./gossip-context";
import { forEachRecord } from "./handlers/gossip";
import { handOffAndDrop, resendHandoffs, sendHandoff } from "./handlers/replication";

/** Pages sent and not yet acknowledged by every destination, at most. */
const PAGES_IN_FLIGHT_MAX = 8;
/**
 * Record bytes a rebalance page scans: ~1,400 records, 2–5 ms of placing and framing on
 * 2 cores (256 KiB pages took up to 75 ms at a layout's first pages, overrunning the tick's
 * budget and stalling requests behind them).
 */
const PAGE_BYTES = 128 * 1024;
/**
 * Milliseconds of scanning, sending and dropping per gossip tick: the configured share of
 * the period (at 0.25 a join on 2 cores served 0.44–0.60 of the load before it; at 0.08,
 * 0.61–0.62 while taking twice as long: docs/performance.md). A leaving actor takes the
 * whole period: every key it holds has other replicas that keep serving, and its leave
 * is bounded by --leave-timeout-ms.
 */
export function rebalanceTickBudgetMs(
  config: { rebalanceShare: number; gossipPeriodMs: number },
  leaving: boolean,
): number {
  return (leaving ? 1 : config.rebalanceShare) * config.gossipPeriodMs;
}
/** Placements remembered during one scan; past this many changes, every write replica is sent every key. */
const PREVIOUS_PLACEMENTS_MAX = 4;

export interface RebalanceState {
  /** The layout version being (or last) rebalanced to. */
  targetVersion: number;
  /** The last layout version every key was placed by, all pages acknowledged. */
  completedVersion: number;
  /** Placements keys may still be placed by (since the last completed scan); undefined: unknown. */
  previous: ClusterPlacement[] | undefined;
  /** Store cursor of the scan under way; undefined when none is. */
  cursor: number | undefined;
  pagesInFlight: number;
  /**
   * Keys handed to every owner (their pages acknowledged), waiting to be dropped: dropped
   * on the gossip tick within its budget, since a page's worth at once held the actor for
   * tens of milliseconds.
   */
  dropsDue: MovingOut[];
  /** Keys sent to replicas new to them, and keys handed off and dropped, since the start. */
  keysSent: number;
  keysMovedOut: number;
}

export function newRebalanceState(): RebalanceState {
  return {
    targetVersion: 0,
    completedVersion: 0,
    previous: undefined,
    cursor: undefined,
    pagesInFlight: 0,
    dropsDue: [],
    keysSent: 0,
    keysMovedOut: 0,
  };
}

/** Starts (or restarts) a scan towards the context's current placement, which replaced `before`. */
export function startRebalance(state: RebalanceState, before: ClusterPlacement, version: number): void {
  if (state.cursor === undefined && state.pagesInFlight === 0) state.previous = [before];
  else if (state.previous !== undefined && state.previous.length < PREVIOUS_PLACEMENTS_MAX) state.previous.push(before);
  else state.previous = undefined;
  state.cursor = 0;
  state.targetVersion = version;
}

/** True when no scan is under way and nothing sent waits for acknowledgement or a drop. */
export function rebalanceIdle(state: RebalanceState): boolean {
  return state.cursor === undefined && state.pagesInFlight === 0 && state.dropsDue.length === 0;
}

/** A layout that places keys as before: nothing to move, but its version counts as reached. */
export function reachLayoutUnchanged(state: RebalanceState, version: number): void {
  state.targetVersion = version;
}

/**
 * Sends the next pages of the scan under way, as many as the bound on pages in flight
 * allows and until `deadlineMs` (performance.now()); reports the target version once the
 * scan is over and every page acknowledged. True while there is more it can do now (not
 * merely acknowledgements to wait for).
 */
export function continueRebalance(
  context: GossipContext,
  state: RebalanceState,
  onReached: (version: number) => void,
  deadlineMs: number,
): boolean {
  let dropped = 0;
  for (; dropped < state.dropsDue.length && performance.now() < deadlineMs; dropped++)
    dropMovedKey(context, state, state.dropsDue[dropped]);
  state.dropsDue.splice(0, dropped);
  while (state.cursor !== undefined && state.pagesInFlight < PAGES_IN_FLIGHT_MAX && performance.now() < deadlineMs) {
    const page = context.store.scan(state.cursor, Math.min(PAGE_BYTES, context.gossipPageBytes));
    state.cursor = page.nextCursor === 0 ? undefined : page.nextCursor;
    sendPage(context, state, page.records);
  }
  reportIfDone(state, context, onReached);
  return state.dropsDue.length > 0 || (state.cursor !== undefined && state.pagesInFlight < PAGES_IN_FLIGHT_MAX);
}

function reportIfDone(state: RebalanceState, context: GossipContext, onReached: (version: number) => void): void {
  if (
    state.cursor !== undefined ||
    state.pagesInFlight > 0 ||
    state.dropsDue.length > 0 ||
    state.completedVersion >= state.targetVersion
  )
    return;
  state.completedVersion = state.targetVersion;
  state.previous = [context.placement];
  onReached(state.completedVersion);
}

export interface MovingOut {
  key: Uint8Array;
  sentHash: Hash64;
}

function sendPage(context: GossipContext, state: RebalanceState, records: Uint8Array): void {
  const { placement } = context;
  const self = selfActor(context);
  const leaving = !placement.selfOnNextRing;
  const partsByAddress = new Map<string, Uint8Array[]>();
  const movingOut: MovingOut[] = [];
  forEachRecord(records, (key, bytes) => {
    const replicas = placement.writeReplicas(key);
    const staying = replicas.includes(self);
    const before = staying ? replicasBefore(state, key) : undefined;
    // A leaving actor sends every key it holds; of the other holders, one seeds the new replicas.
    if (!leaving && before !== undefined && seederOf(placement, replicas, before) !== self) return;
    for (const actor of replicas) {
      if (actor === self || before?.includes(placement.actorIdentity(actor))) continue;
      addPartFor(partsByAddress, context.gossipAddress(actor), bytes);
      state.keysSent++;
    }
    if (!staying) movingOut.push({ key: key.slice(), sentHash: xxhash64(bytes) });
  });
  if (partsByAddress.size === 0) {
    // Nothing to send: every key of the page stays where it is (keys moving out always have somewhere to go).
    return;
  }
  state.pagesInFlight++;
  let waiting = partsByAddress.size;
  const pageAcknowledged = () => {
    if (--waiting > 0) return;
    state.pagesInFlight--;
    // Dropped, and the next pages sent, on the next ticks within their budget.
    for (const moving of movingOut) state.dropsDue.push(moving);
  };
  // Frames are built here, before the next scan reuses the page's memory.
  for (const [address, parts] of partsByAddress) sendHandoff(context, parts, [address], undefined, pageAcknowledged);
}

/**
 * The holder of a key that seeds its new replicas: the first (in the placement's order, the
 * same on every node) that was a write replica before and is on the next ring. A leaving
 * node is passed over: it is the first to learn of its leave, so values gossiped to it under
 * the old layout may reach it only after its scan; it sends what it holds anyway.
 */
function seederOf(
  placement: ClusterPlacement,
  replicas: readonly number[],
  before: readonly string[],
): number | undefined {
  const holders = replicas.filter((actor) => before.includes(placement.actorIdentity(actor)));
  return holders.find((actor) => placement.isOnNextRing(actor)) ?? holders[0];
}

/** Actors (identities) that were write replicas of the key in every placement since the last completed scan. */
function replicasBefore(state: RebalanceState, key: Uint8Array): string[] | undefined {
  if (state.previous === undefined) return undefined;
  let common: string[] | undefined;
  // A key has a handful of replicas: arrays, not sets, on this per-key path.
  for (const placement of state.previous) {
    const identities = placement.writeReplicas(key).map((actor) => placement.actorIdentity(actor));
    common = common === undefined ? identities : common.filter((identity) => identities.includes(identity));
  }
  return common;
}

/**
 * A key handed to every write replica, all of which acknowledged: dropped unless this
 * actor is a replica again, or its value changed since it was sent (then handed off anew).
 */
function dropMovedKey(context: GossipContext, state: RebalanceState, moving: MovingOut): void {
  if (context.placement.isWriteReplica(moving.key, selfActor(context))) return;
  const record = currentRecord(context.store, moving.key);
  if (record === undefined) return;
  const hash = xxhash64(record);
  const name = keyName(moving.key);
  if (hash.high !== moving.sentHash.high || hash.low !== moving.sentHash.low) {
    handOffAndDrop(
      context,
      moving.key,
      name,
      context.placement.writeReplicas(moving.key, name).map((actor) => context.gossipAddress(actor)),
    );
    return;
  }
  context.dots?.noteDropping(context.store, moving.key);
  if (context.store.delete(moving.key)) {
    context.counters.keysDropped++;
    state.keysMovedOut++;
  }
}

/** How often a leaving actor resends handoffs still unacknowledged while it waits. */
const FINAL_HANDOFF_RESEND_MS = 200;

/**
 * The last step of a leave (docs/cluster.md, "Leave"): every key written since the
 * rebalance (the store's dirty keys) goes to its write replicas as acknowledged handoffs.
 * Resolves with the number of handoffs still unacknowledged at the deadline (0: all held),
 * counting every handoff of the actor: values that reached it while leaving are handed on
 * too (handlers/gossip.ts), and may still arrive while it waits.
 */
export async function handOffDirtyKeys(context: GossipContext, deadlineMs: number): Promise<number> {
  const self = selfActor(context);
  for (;;) {
    const records = context.store.drainDirty(context.gossipPageBytes);
    if (records.length === 0) break;
    const partsByAddress = new Map<string, Uint8Array[]>();
    forEachRecord(records, (key, bytes) => {
      for (const actor of context.placement.writeReplicas(key)) {
        if (actor === self) continue;
        addPartFor(partsByAddress, context.gossipAddress(actor), bytes);
      }
    });
    for (const [address, parts] of partsByAddress) sendHandoff(context, parts, [address], undefined, () => {});
  }
  const { handoffs } = context.state;
  while (handoffs.size > 0 && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, FINAL_HANDOFF_RESEND_MS));
    resendHandoffs(context);
  }
  return handoffs.size;
}
