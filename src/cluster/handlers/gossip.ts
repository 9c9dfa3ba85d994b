/**
 * `gossip`: another member's whole table, merged into this one. When the sender's table
 * lacked something this node knows, the node answers with its own (push-pull), at most
 * once a heartbeat per sender, so news travels both ways in one exchange. A table from
 * another cluster (its name differs) is ignored.
 */
import { holds } from "../member";
import type { MembershipContext } from "../membership-context";
import type { MembershipMessage } from "../messages";

export function handleGossip(
  context: MembershipContext,
  message: Extract<MembershipMessage, { kind: "gossip" }>,
): void {
  if (message.clusterName !== context.clusterName) {
    context.log(
      "warn",
      `ignored gossip from ${message.from}, a member of cluster ${JSON.stringify(message.clusterName)}, not ${JSON.stringify(context.clusterName)}`,
    );
    return;
  }
  context.mergeEntries(message.members);
  const theirs = new Map(message.members.map((entry) => [entry.id, entry]));
  const senderLacks = context.table.all().some((entry) => {
    const their = theirs.get(entry.id);
    return their === undefined || !holds(their, entry);
  });
  if (senderLacks && context.mayReplyTo(message.from)) context.send(message.from, context.gossipMessage());
}
