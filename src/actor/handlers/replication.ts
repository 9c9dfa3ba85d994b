/**
 * Replication changes (selective replication): joins per-key factor updates into the
 * actor's placement and moves values to match. When a key's factor changes, each actor
 * that held it sends its value to the replicas that are new to the key; an actor that
 * stops being a replica hands its value to every remaining replica (HANDOFF frames) and
 * drops the key only once each has acknowledged the merge, resending until then, so no
 * write it accepted is lost.
 */
import { keyBytes } from "../../core/key";
import type { ReplicationFactor } from "../../routing/replication-factors";
import { addPart, currentRecord, GossipContext, GossipState, PartsByPeer, PendingHandoff, sendRecordFrames } from "../gossip-context";
import { handoffFrame } from "../gossip-frame";

/** An unacknowledged handoff is sent again after this long (merging twice is harmless). */
const HANDOFF_RESEND_MS = 1000;

/**
 * Joins factor updates into the actor's placement and moves values accordingly: seeds the
 * replicas new to a key, hands the key to the remaining replicas where this actor leaves.
 */
export function applyReplicationFactors(context: GossipContext, updates: readonly ReplicationFactor[]): void {
  const { placement, tid, state } = context;
  for (const update of updates) {
    const name = update.key;
    const key = keyBytes(name);
    const before = placement.replicas(key, name);
    if (placement.mergeFactors([update]).length === 0) continue;
    const after = placement.replicas(key, name);
    const staying = after.includes(tid);
    if (staying) cancelHandoffs(state, name);
    if (!before.includes(tid)) continue;
    const record = currentRecord(context.store, key);
    if (record === undefined) continue;
    if (staying) {
      const partsByPeer: PartsByPeer = new Map();
      for (const peer of after) if (!before.includes(peer)) addPart(partsByPeer, peer, tid, record);
      sendRecordFrames(context, partsByPeer);
    } else {
      const handoffId = state.nextHandoffId++;
      const handoff: PendingHandoff = { key, name, waiting: new Set(after), sentAtMs: 0 };
      state.handoffs.set(handoffId, handoff);
      sendHandoff(context, handoffId, handoff, record);
    }
  }
}

function cancelHandoffs(state: GossipState, name: string): void {
  for (const [id, handoff] of state.handoffs) if (handoff.name === name) state.handoffs.delete(id);
}

function sendHandoff(context: GossipContext, handoffId: number, handoff: PendingHandoff, record: Uint8Array): void {
  handoff.sentAtMs = performance.now();
  const frame = handoffFrame(context.tid, handoffId, record);
  for (const peer of handoff.waiting) {
    context.peers.send(context.gossipAddress(peer), frame);
    context.counters.handoffFramesSent++;
  }
}

export function resendHandoffs(context: GossipContext): void {
  const due = performance.now() - HANDOFF_RESEND_MS;
  for (const [handoffId, handoff] of context.state.handoffs) {
    if (handoff.sentAtMs > due) continue;
    const record = currentRecord(context.store, handoff.key);
    if (record === undefined) context.state.handoffs.delete(handoffId);
    else sendHandoff(context, handoffId, handoff, record);
  }
}

export function acknowledgeHandoff(context: GossipContext, senderTid: number, handoffId: number): void {
  const handoff = context.state.handoffs.get(handoffId);
  if (handoff === undefined) return;
  handoff.waiting.delete(senderTid);
  if (handoff.waiting.size > 0) return;
  context.state.handoffs.delete(handoffId);
  // Every remaining replica has merged this actor's value: dropping it loses nothing.
  if (!context.placement.isReplica(handoff.key, context.tid, handoff.name) && context.store.delete(handoff.key)) {
    context.counters.keysDropped++;
  }
}
