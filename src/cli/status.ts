/** `annakv status`: the cluster as this node sees it, then per-actor keys, bytes, ops/s, gossip, rebalances and errors, the routing service's counters and the hot keys, from a node's /status. */
import { Command } from "commander";
import type { ClusterStatus, NodeStatus } from "../node/metrics";
import { metricsPort } from "../protocol/ports";
import { hostInAddress } from "../protocol/zmtp/endpoint";
import { EXIT, integerOption, nodeAddressOptions } from "./common";

/** Columns padded to their widest cell: the first `textColumns` read left-aligned, numbers right-aligned. */
function formatColumns(header: string[], rows: string[][], textColumns = 0): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column < textColumns ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join("  ");
  return [header, ...rows].map(line);
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** A byte count in at most 9 columns ("1023 B", "12.5 MiB"), so a large store does not push the actor table past 100 columns. */
function formatBytes(bytes: number): string {
  let unit = 0;
  while (bytes >= 1024 && unit < BYTE_UNITS.length - 1) {
    bytes /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${bytes.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** This node's view of the membership, one member a line, then each actor's rebalance progress. */
function formatCluster(cluster: ClusterStatus, actors: NodeStatus["actors"]): string[] {
  const summary =
    `cluster: this node ${cluster.self} ${cluster.state}, ${cluster.ready ? "ready" : "not ready"}, ` +
    `global replication ${cluster.globalReplication}, layout ${cluster.layoutVersion}, ${cluster.membershipBadFrames} bad frames`;
  const members = cluster.members.map((member) => [
    member.id,
    member.state,
    String(member.actors),
    String(member.keys),
    // Null: no heartbeat of it has reached this node yet.
    member.silentMs === null ? "-" : member.silentMs.toFixed(0),
  ]);
  const rebalances = actors.map((actor) => [
    String(actor.tid),
    String(actor.counters.rebalanceLayoutVersion),
    String(actor.counters.rebalancePagesInFlight),
    String(actor.counters.rebalanceKeysSent),
    String(actor.counters.rebalanceKeysMovedOut),
  ]);
  return [
    summary,
    ...formatColumns(["member", "state", "actors", "keys", "last heard ms"], members, 2),
    ...formatColumns(["rebalance: actor", "layout", "pages in flight", "keys sent", "keys moved out"], rebalances),
  ];
}

function formatActors(status: NodeStatus): string[] {
  const header = [
    "actor",
    "keys",
    "bytes",
    "ops/s",
    "requests",
    "clients",
    "gossip out",
    "gossip in",
    "owed",
    "errors",
    "bad frames",
  ];
  const rows = status.actors.map((actor) => [
    String(actor.tid),
    String(actor.store.keyCount),
    formatBytes(actor.store.bytesUsed),
    actor.opsPerSecond.toFixed(0),
    String(actor.counters.requests),
    // Nodes from before the ZMTP transport send no connection counts.
    String(actor.counters.clientConnections ?? "-"),
    String(actor.counters.gossipKeysSent),
    String(actor.counters.gossipKeysReceived),
    // Nodes from before the merge backlog send no owed count.
    String(actor.counters.mergeKeysOwed ?? "-"),
    String(Object.values(actor.counters.tupleErrors).reduce((sum, count) => sum + count, 0)),
    String(actor.counters.badFrames),
  ]);
  return formatColumns(header, rows);
}

function formatStatus(status: NodeStatus): string {
  const summary = `annakv ${status.version}: ${status.threads} actors, engine ${status.engine}, local replication ${status.localReplication}, routing ${status.routingAddress}`;
  const lines = [summary];
  // Nodes from before clusters send no cluster.
  if (status.cluster !== undefined) lines.push(...formatCluster(status.cluster, status.actors));
  lines.push(...formatActors(status));
  const degraded = status.actors.filter(
    (actor) => (actor.counters.mergeKeysOwed ?? 0) > 0 || (actor.counters.mergeValuesDropped ?? 0) > 0,
  );
  for (const actor of degraded) {
    lines.push(
      `degraded replica: actor ${actor.tid} owes ${actor.counters.mergeKeysOwed} key(s) it could not merge for memory ` +
        `(${actor.counters.mergeValuesDropped} value(s) dropped past its backlog, left to anti-entropy)`,
    );
  }
  // Nodes from before the routing counters send none.
  if (status.routing !== undefined)
    lines.push(
      `routing: ${status.routing.requestsAnswered} address requests answered, ${status.routing.badFrames} bad frames`,
    );
  // Nodes from before selective replication send no hotKeys.
  const hotKeys = status.hotKeys ?? [];
  if (hotKeys.length > 0)
    lines.push(
      `hot keys: ${hotKeys.map(({ key, replicas }) => `${JSON.stringify(key)} on ${replicas} actors`).join(", ")}`,
    );
  return lines.join("\n");
}

export function statusCommand(): Command {
  return nodeAddressOptions(
    new Command("status").description(
      "show the cluster's members as this node sees them, and each actor's keys, bytes, ops/s, gossip, rebalances and errors",
    ),
  )
    .option("--json", "print the raw JSON")
    .option("--timeout-ms <ms>", "how long to wait for the node", integerOption, 2000)
    .action(async (flags: { host: string; portOffset: number; json?: boolean; timeoutMs: number }) => {
      const url = `http://${hostInAddress(flags.host)}:${metricsPort(flags.portOffset)}/status`;
      let status: NodeStatus;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(flags.timeoutMs) });
        status = (await response.json()) as NodeStatus;
      } catch (error) {
        process.stderr.write(`annakv status: no node answered at ${url} (${(error as Error).message})\n`);
        process.exitCode = EXIT.UNAVAILABLE;
        return;
      }
      process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
    });
}
