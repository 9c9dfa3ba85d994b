/**
 * An actor's part of the stable time (docs/causal-stability.md §2, §6): its accept floor F
 * and its held bound, the stamp at or below which every version it accepted is held by
 * every replica of its key.
 *
 * F rises with the wall clock to now − the accept lag; a PUT of a stamped causal value (a
 * MULTI_CAUSAL sibling's stamp, or a causal-multi-key-lww LWW value, §9) at or below it is
 * refused STALE_STAMP (handlers/request.ts), so no version stamped at or below F is
 * accepted from then on. Rounds carry what the actor accepted to the key's other replicas:
 * each starts at a tick, records F, and hands off (acknowledged, resent until then) the
 * current value, whatever its lattice type, of every replicated causal key (MULTI_CAUSAL or
 * stamped LWW) written since the last one started. A round is complete once no handoff the
 * actor started before the round ended is unacknowledged and no rebalance is under way; a
 * placement change moves the round's end past the handoffs it starts (seeding new
 * replicas, moving keys), since a new replica holds nothing until they are merged. The held
 * bound is F as it was at the start of the last complete round: a version accepted before
 * that start went out in that round or an earlier one, and one accepted after it has a
 * stamp above F at its acceptance.
 *
 * In a cluster (§7) the bound is reported with the epoch of the layout the actor held when
 * its round completed; a layout with other members moves the round's end past the
 * rebalance it starts, so a bound in a new epoch comes from a round that waited for it.
 */
import { keyBytes } from "../wire/key";
import type { ClusterPlacement } from "../routing/cluster-placement";
import { currentRecord, GossipContext, selfActor } from "./gossip-context";
import { sendHandoff } from "./handlers/replication";

export interface StabilityState {
  readonly acceptLagMicros: number;
  /** The epoch of the actor's layout: stamped PUTs of another epoch are refused. */
  epoch: number;
  /** The epoch `heldMicros` was reached in (0: none yet). */
  heldEpoch: number;
  /** F: PUTs of stamped causal values at or below it are refused. */
  acceptFloorMicros: number;
  /** F when the round under way started. */
  roundFloorMicros: number;
  /** The round is complete once no handoff with a smaller id waits for an acknowledgement. */
  roundEndHandoffId: number;
  /** F at the start of the last complete round (0: none yet). */
  heldMicros: number;
  /**
   * Replicated keys written with MULTI_CAUSAL or stamped causal LWW values since the round
   * under way started (noted by the request handler). Distinct names, so at most the keys
   * this actor holds: while a round waits for a silent peer's acknowledgement it grows with
   * the keys written, and none may be dropped, or the held bound would pass a version a
   * replica lacks.
   */
  readonly causalWrites: Set<string>;
  /** The cluster's stable time in `epoch`, from the main thread; appended to every response (0: none). */
  nodeStableMicros: number;
}

/** An actor's held bound and the epoch it was reached in. */
export interface HeldBound {
  readonly micros: number;
  readonly epoch: number;
}

export function newStabilityState(acceptLagMs: number, epoch: number): StabilityState {
  if (!(Number.isInteger(acceptLagMs) && acceptLagMs >= 0)) throw new RangeError(`accept lag ${acceptLagMs} ms`);
  return {
    acceptLagMicros: acceptLagMs * 1000,
    epoch,
    heldEpoch: 0,
    acceptFloorMicros: 0,
    roundFloorMicros: 0,
    roundEndHandoffId: 0,
    heldMicros: 0,
    causalWrites: new Set(),
    nodeStableMicros: 0,
  };
}

/** Handoffs started from now on must be acknowledged before the round under way completes (a placement change). */
export function extendRound(state: StabilityState, context: GossipContext): void {
  state.roundEndHandoffId = context.state.nextHandoffId;
}

/**
 * A layout of another epoch: PUTs are stamped in it from now on, and the response's stable
 * time, of the old epoch, is dropped until the main thread sends the new one. The round
 * under way ends past the rebalance the layout starts (the caller extends it).
 */
export function enterEpoch(state: StabilityState, epoch: number): void {
  if (epoch === state.epoch) return;
  state.epoch = epoch;
  state.nodeStableMicros = 0;
}

/**
 * One stability tick: raises F, and when the round under way is complete, takes its F as
 * the held bound and starts the next. `moving`: a rebalance is under way. Returns the held
 * bound and the epoch it was reached in.
 */
export function stabilityTick(
  state: StabilityState,
  context: GossipContext,
  nowMicros: number,
  moving: boolean,
): HeldBound {
  state.acceptFloorMicros = Math.max(state.acceptFloorMicros, nowMicros - state.acceptLagMicros);
  if (!moving && roundComplete(state, context)) {
    state.heldMicros = state.roundFloorMicros;
    state.heldEpoch = state.epoch;
    state.roundFloorMicros = state.acceptFloorMicros;
    handOffCausalWrites(state, context);
    state.roundEndHandoffId = context.state.nextHandoffId;
  }
  return { micros: state.heldMicros, epoch: state.heldEpoch };
}

/**
 * Whether no handoff started before the round ended waits for an actor of the current
 * layout. One waiting only for actors gone from it (a dead member's) does not count: they
 * are no one's replicas in this epoch, and would hold the round back for ever.
 */
function roundComplete(state: StabilityState, context: GossipContext): boolean {
  // Ids rise and a Map iterates in insertion order: the oldest pending handoffs come first.
  for (const [handoffId, handoff] of context.state.handoffs) {
    if (handoffId >= state.roundEndHandoffId) return true;
    const addresses = layoutAddresses(context);
    for (const address of handoff.waiting) if (addresses.has(address)) return false;
  }
  return true;
}

/** The gossip addresses of the actors of the context's layout, built once per placement. */
const addressesByPlacement = new WeakMap<ClusterPlacement, Set<string>>();

function layoutAddresses(context: GossipContext): Set<string> {
  let addresses = addressesByPlacement.get(context.placement);
  if (addresses === undefined) {
    addresses = new Set();
    for (let actor = 0; actor < context.placement.actorCount; actor++) addresses.add(context.gossipAddress(actor));
    addressesByPlacement.set(context.placement, addresses);
  }
  return addresses;
}

/** The current value of each key written since the last round, one handoff per peer. */
function handOffCausalWrites(state: StabilityState, context: GossipContext): void {
  if (state.causalWrites.size === 0) return;
  const self = selfActor(context);
  const pagesByPeer = new Map<number, { parts: Uint8Array[]; bytes: number }[]>();
  for (const name of state.causalWrites) {
    const key = keyBytes(name);
    const record = currentRecord(context.store, key);
    if (record === undefined) continue;
    for (const peer of context.placement.writeReplicas(key, name)) {
      if (peer === self) continue;
      let pages = pagesByPeer.get(peer);
      if (pages === undefined) pagesByPeer.set(peer, (pages = []));
      let page = pages[pages.length - 1];
      if (page === undefined || page.bytes + record.length > context.gossipPageBytes)
        pages.push((page = { parts: [], bytes: 0 }));
      page.parts.push(record);
      page.bytes += record.length;
    }
  }
  state.causalWrites.clear();
  for (const [peer, pages] of pagesByPeer)
    for (const page of pages) sendHandoff(context, page.parts, [context.gossipAddress(peer)], undefined, () => {});
}
