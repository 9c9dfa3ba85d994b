/**
 * Replication factor changes (selective replication) and the handoffs that move values safely.
 *
 * When a key's factor changes, each actor that held it sends its value to the replicas
 * that are new to the key (those of its own node acknowledge it, resent until then); an actor that stops being a replica hands its value to every
 * remaining replica (a HANDOFF frame) and drops the key only once each has acknowledged the
 * merge and only if its value has not changed since (else it hands it off again), so no
 * write it accepted is lost. Rebalances (rebalance.ts) send their pages the same way.
 */
import { keyBytes } from "../../wire/key";
import { xxhash64 } from "../../routing/hash";
import type { ClusterPlacement } from "../../routing/cluster-placement";
import {
  addPart,
  currentRecord,
  GossipContext,
  GossipState,
  PartsByPeer,
  PendingHandoff,
  selfActor,
  sendRecordFrames,
} from "../gossip-context";
import { handoffFrame } from "../gossip-frame";

/** An unacknowledged handoff is sent again after this long (merging twice is harmless). */
const HANDOFF_RESEND_MS = 1000;

/**
 * Places the keys named (those whose factors changed) by `after` instead of the context's
 * placement, and moves their values accordingly: seeds the replicas new to a key, hands
 * the key to the remaining replicas where this actor leaves.
 */
export function applyFactorChanges(context: GossipContext, after: ClusterPlacement, names: readonly string[]): void {
  const { state } = context;
  const beforePlacement = context.placement;
  context.placement = after;
  const self = selfActor(context);
  for (const name of names) {
    const key = keyBytes(name);
    const before = beforePlacement.writeReplicas(key, name);
    const after = context.placement.writeReplicas(key, name);
    const staying = after.includes(self);
    if (staying) cancelHandoffs(state, name);
    if (!before.includes(self)) continue;
    if (staying) {
      const record = currentRecord(context.store, key);
      if (record === undefined) continue;
      const newReplicas = after.filter((peer) => peer !== self && !before.includes(peer));
      // This node's new replicas acknowledge, so that the actor's held bound waits until
      // they hold the value (actor/causal-stability.ts); another node's get REMOTE_RECORDS,
      // which that node passes on to its own hot replicas.
      const local = newReplicas.filter((peer) => !context.placement.isRemote(peer));
      sendHandoff(
        context,
        [record],
        local.map((peer) => context.gossipAddress(peer)),
        undefined,
        () => {},
      );
      const partsByPeer: PartsByPeer = new Map();
      for (const peer of newReplicas) if (context.placement.isRemote(peer)) addPart(partsByPeer, peer, self, record);
      sendRecordFrames(context, partsByPeer);
    } else {
      handOffAndDrop(
        context,
        key,
        name,
        after.map((peer) => context.gossipAddress(peer)),
      );
    }
  }
}

/**
 * Hands the key's current value to `destinations` and deletes it once all have
 * acknowledged, unless this actor has become a replica again or the value changed since
 * (then it is handed off anew, to the replicas of that time).
 */
export function handOffAndDrop(
  context: GossipContext,
  key: Uint8Array,
  name: string,
  destinations: readonly string[],
): void {
  const record = currentRecord(context.store, key);
  if (record === undefined) return;
  const sentHash = xxhash64(record);
  sendHandoff(context, [record], destinations, name, () => {
    if (context.placement.isWriteReplica(key, selfActor(context), name)) return;
    const now = currentRecord(context.store, key);
    if (now === undefined) return;
    const nowHash = xxhash64(now);
    if (nowHash.high !== sentHash.high || nowHash.low !== sentHash.low) {
      const replicas = context.placement.writeReplicas(key, name);
      handOffAndDrop(
        context,
        key,
        name,
        replicas.map((peer) => context.gossipAddress(peer)),
      );
      return;
    }
    // Every destination has merged this value: dropping it loses nothing.
    context.dots?.noteDropping(context.store, key);
    if (context.store.delete(key)) context.counters.keysDropped++;
  });
}

function cancelHandoffs(state: GossipState, name: string): void {
  for (const [id, handoff] of state.handoffs) if (handoff.name === name) state.handoffs.delete(id);
}

/**
 * Sends record byte runs as one HANDOFF frame to each destination and calls
 * `onAcknowledged` once all have acknowledged (resent every second until then). Returns
 * the handoff's id (0 when there was no one to send to: acknowledged at once).
 */
export function sendHandoff(
  context: GossipContext,
  parts: readonly Uint8Array[],
  destinations: readonly string[],
  name: string | undefined,
  onAcknowledged: () => void,
): number {
  const waiting = new Set(destinations.filter((address) => address !== context.selfAddress));
  if (waiting.size === 0) {
    onAcknowledged();
    return 0;
  }
  const handoffId = context.state.nextHandoffId++;
  const handoff: PendingHandoff = {
    frame: handoffFrame(context.selfAddress, handoffId, parts),
    waiting,
    sentAtMs: 0,
    name,
    onAcknowledged,
  };
  context.state.handoffs.set(handoffId, handoff);
  transmit(context, handoff);
  return handoffId;
}

/** Stops resending a handoff; its acknowledgements are ignored from now on. */
export function cancelHandoff(context: GossipContext, handoffId: number): void {
  context.state.handoffs.delete(handoffId);
}

function transmit(context: GossipContext, handoff: PendingHandoff): void {
  handoff.sentAtMs = performance.now();
  for (const address of handoff.waiting) {
    context.peers.send(address, handoff.frame);
    context.counters.handoffFramesSent++;
  }
}

export function resendHandoffs(context: GossipContext): void {
  const due = performance.now() - HANDOFF_RESEND_MS;
  for (const handoff of context.state.handoffs.values()) if (handoff.sentAtMs <= due) transmit(context, handoff);
}

export function acknowledgeHandoff(context: GossipContext, sender: string, handoffId: number): void {
  const handoff = context.state.handoffs.get(handoffId);
  if (handoff === undefined) return;
  handoff.waiting.delete(sender);
  if (handoff.waiting.size > 0) return;
  context.state.handoffs.delete(handoffId);
  handoff.onAcknowledged();
}
