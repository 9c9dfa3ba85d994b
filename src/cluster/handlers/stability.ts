/**
 * `stability`: a member's held bound, sent when it rose between heartbeats
 * (docs/causal-stability.md §10). Kept only when the table holds that incarnation of the
 * sender (as its heartbeats are judged); one from another cluster is ignored, without a
 * log line, since its gossip is logged already and these come up to 20 times a second.
 */
import type { MembershipContext } from "../membership-context";
import type { MembershipMessage } from "../messages";

export function handleStability(
  context: MembershipContext,
  message: Extract<MembershipMessage, { kind: "stability" }>,
): void {
  if (message.clusterName !== context.clusterName) return;
  if (context.table.get(message.from)?.incarnation !== message.incarnation) return;
  context.earlyBounds.note(message.from, {
    incarnation: message.incarnation,
    epoch: message.epoch,
    heldMicros: message.heldMicros,
  });
}
