/** `annakv status`: per-actor keys, bytes, ops/s, gossip and errors, the routing service's counters and the hot keys, from a node's /status. */
import { Command, Option } from "commander";
import type { NodeStatus } from "../node/metrics";
import { metricsPort } from "../routing/ports";
import { hostInAddress } from "../protocol/zmtp/endpoint";
import { EXIT, hostOption, integerOption } from "./common";

function formatTable(status: NodeStatus): string {
  const header = ["actor", "keys", "bytes", "ops/s", "requests", "clients", "gossip sent", "gossip recv", "errors", "bad frames"];
  const rows = status.actors.map((actor) => [
    String(actor.tid),
    String(actor.store.keyCount),
    String(actor.store.bytesUsed),
    actor.opsPerSecond.toFixed(0),
    String(actor.counters.requests),
    // Nodes from before the ZMTP transport send no connection counts.
    String(actor.counters.clientConnections ?? "-"),
    String(actor.counters.gossipKeysSent),
    String(actor.counters.gossipKeysReceived),
    String(Object.values(actor.counters.tupleErrors).reduce((sum, count) => sum + count, 0)),
    String(actor.counters.badFrames),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column])).join("  ");
  const summary = `annakv ${status.version}: ${status.threads} actors, engine ${status.engine}, local replication ${status.localReplication}, routing ${status.routingAddress}`;
  const lines = [summary, line(header), ...rows.map(line)];
  // Nodes from before the routing counters send none.
  if (status.routing !== undefined) lines.push(`routing: ${status.routing.requestsAnswered} address requests answered, ${status.routing.badFrames} bad frames`);
  // Nodes from before selective replication send no hotKeys.
  const hotKeys = status.hotKeys ?? [];
  if (hotKeys.length > 0) lines.push(`hot keys: ${hotKeys.map(({ key, replicas }) => `${JSON.stringify(key)} on ${replicas} actors`).join(", ")}`);
  return lines.join("\n");
}

export function statusCommand(): Command {
  return new Command("status")
    .description("show each actor's keys, bytes, ops/s, gossip and errors")
    .addOption(new Option("--host <address>", "the node's host").env("ANNAKV_HOST").default("127.0.0.1").argParser(hostOption))
    .addOption(new Option("--port-offset <n>", "the node's port offset").env("ANNAKV_PORT_OFFSET").default(0).argParser(integerOption))
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
      process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatTable(status)}\n`);
    });
}
