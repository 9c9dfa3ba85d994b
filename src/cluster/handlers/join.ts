/**
 * `join` at a member: a node asks to be let in. It is refused, with both values named,
 * when its cluster name or global replication differs from this cluster's (the global
 * replication is a property of the cluster: two values would place keys differently);
 * otherwise its entry is merged and it is sent the whole table.
 */
import type { MembershipContext } from "../membership-context";
import type { MembershipMessage } from "../messages";

export function handleJoin(context: MembershipContext, message: Extract<MembershipMessage, { kind: "join" }>): void {
  const refuse = (reason: string) => {
    context.log("warn", `refused ${message.from}: ${reason}`);
    context.send(message.from, { kind: "refused", from: context.selfId, reason });
  };
  if (message.entry.id !== message.from) return refuse(`its entry names ${message.entry.id}, not ${message.from}`);
  if (message.clusterName !== context.clusterName) {
    return refuse(
      `cluster name ${JSON.stringify(message.clusterName)} differs from this cluster's ${JSON.stringify(context.clusterName)}`,
    );
  }
  if (message.globalReplication !== context.globalReplication) {
    return refuse(
      `--global-replication ${message.globalReplication} differs from this cluster's ${context.globalReplication}`,
    );
  }
  context.mergeEntries([message.entry]);
  context.send(message.from, { kind: "welcome", from: context.selfId, members: context.table.all() });
}
