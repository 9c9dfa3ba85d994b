/**
 * The node's view of its actors' counters, served over HTTP: Prometheus text at /metrics
 * and JSON at /status (what `annakv status` prints). prom-client cannot aggregate across
 * worker threads, so actors post their counters and the gauges read the latest reports.
 */
import http from "node:http";
import client from "prom-client";
import type { ActorStatsReport } from "../actor/stats";
import type { MemberStatus } from "../cluster/membership-service";

export interface ActorStatus extends ActorStatsReport {
  /** Tuples (get + put) per second over the last report interval. */
  opsPerSecond: number;
}

export interface NodeStatus {
  version: string;
  startedAt: string;
  threads: number;
  engine: string;
  localReplication: number;
  routingAddress: string;
  /** Keys replicated above the default factor right now (selective replication). */
  hotKeys: Array<{ key: string; replicas: number; nodes: number }>;
  routing: RoutingCounters;
  /** The cluster as this node sees it (docs/cluster.md). */
  cluster: ClusterStatus;
  actors: ActorStatus[];
}

export interface ClusterStatus {
  self: string;
  state: string;
  /** Serving: alive or leaving (answers requests for its keys); what /ready reports. */
  ready: boolean;
  layoutVersion: number;
  globalReplication: number;
  members: MemberStatus[];
  membershipBadFrames: number;
  /** Bytes of membership messages this node sent (heartbeats, gossip of the table, joins). */
  membershipBytesSent: number;
  /** `stability` messages this node sent: its held bound between heartbeats (docs/causal-stability.md §10). */
  membershipStabilityMessagesSent: number;
}

export interface RoutingCounters {
  /** KeyAddressRequests answered. */
  requestsAnswered: number;
  /** Frames refused as garbage on the routing socket. */
  badFrames: number;
  /** Connections to the routing socket refused at --max-connections, and closed after --idle-timeout-ms of silence. */
  connectionsRefused: number;
  connectionsIdleClosed: number;
}

type NodeInfo = Omit<NodeStatus, "actors" | "hotKeys" | "routing" | "cluster"> & {
  hotKeys(): NodeStatus["hotKeys"];
  routing(): RoutingCounters;
  cluster(): ClusterStatus;
};

export class NodeMetrics {
  private readonly reports = new Map<number, ActorStatus>();
  readonly registry = new client.Registry();
  private server?: http.Server;

  constructor(private readonly info: NodeInfo) {
    this.defineGauges();
  }

  record(report: ActorStatsReport): void {
    const previous = this.reports.get(report.tid);
    const ops = report.counters.getTuples + report.counters.putTuples;
    let opsPerSecond = 0;
    if (previous !== undefined && report.uptimeMs > previous.uptimeMs) {
      const previousOps = previous.counters.getTuples + previous.counters.putTuples;
      opsPerSecond = ((ops - previousOps) * 1000) / (report.uptimeMs - previous.uptimeMs);
    }
    this.reports.set(report.tid, { ...report, opsPerSecond });
  }

  /** Keys stored across the actors, from their latest reports (cheap: no status built). */
  keyCount(): number {
    let keys = 0;
    for (const report of this.reports.values()) keys += report.store.keyCount;
    return keys;
  }

  status(): NodeStatus {
    const actors = [...this.reports.values()].sort((a, b) => a.tid - b.tid);
    const { hotKeys, routing, cluster, ...info } = this.info;
    return { ...info, hotKeys: hotKeys(), routing: routing(), cluster: cluster(), actors };
  }

  async listen(host: string, port: number): Promise<void> {
    this.server = http.createServer((request, response) => void this.serve(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve());
    });
  }

  /** Stops listening and ends every open connection: a scraper that keeps one open (or never finishes a request) must not hold up the stop. */
  async close(): Promise<void> {
    if (this.server === undefined) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (request.url === "/metrics") {
      response.writeHead(200, { "content-type": this.registry.contentType });
      response.end(await this.registry.metrics());
    } else if (request.url === "/status") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(this.status()));
    } else if (request.url === "/ready") {
      // Kubernetes' readiness: joined and caught up (the node serves its keys).
      const { ready, state } = this.info.cluster();
      response.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      response.end(`${state}\n`);
    } else {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("annakv: try /metrics, /status or /ready\n");
    }
  }

  private defineGauges(): void {
    const reports = this.reports;
    const define = (name: string, help: string, read: (report: ActorStatus) => number) =>
      new client.Gauge({
        name,
        help,
        labelNames: ["tid"],
        registers: [this.registry],
        // prom-client calls collect with the gauge as `this` on every scrape.
        collect(this: client.Gauge) {
          for (const report of reports.values()) this.set({ tid: String(report.tid) }, read(report));
        },
      });
    define("annakv_keys", "Keys stored by the actor", (r) => r.store.keyCount);
    define("annakv_store_bytes", "Bytes used by the actor's store", (r) => r.store.bytesUsed);
    define("annakv_store_memory_bytes", "Memory reserved by the actor's store", (r) => r.store.memoryReservedBytes);
    define(
      "annakv_requests_total",
      "KeyRequests served (answered with their tuples' results)",
      (r) => r.counters.requests,
    );
    define(
      "annakv_requests_failed_total",
      "KeyRequests whose serving threw: answered LATTICE where possible, else unanswered",
      (r) => r.counters.requestsFailed,
    );
    define(
      "annakv_errors_contained_total",
      "Exceptions an actor caught in a handler, timer or background step and carried on after (by place in /status)",
      (r) => Object.values(r.counters.errorsContained).reduce((sum, count) => sum + count, 0),
    );
    define("annakv_get_tuples_total", "GET tuples applied", (r) => r.counters.getTuples);
    define("annakv_put_tuples_total", "PUT tuples applied", (r) => r.counters.putTuples);
    define("annakv_ops_per_second", "GET+PUT tuples per second, last interval", (r) => r.opsPerSecond);
    define(
      "annakv_bad_frames_total",
      "Frames refused as garbage (and connections cut off for breaking ZMTP)",
      (r) => r.counters.badFrames,
    );
    define(
      "annakv_client_connections",
      "Client connections open to the actor's request port",
      (r) => r.counters.clientConnections,
    );
    define(
      "annakv_connections_refused_total",
      "Connections refused because the actor's listening socket had --max-connections open",
      (r) => r.counters.connectionsRefused,
    );
    define(
      "annakv_connections_idle_closed_total",
      "Client connections closed after --idle-timeout-ms without a byte",
      (r) => r.counters.connectionsIdleClosed,
    );
    define(
      "annakv_reply_connections",
      "Reply connections open from the actor to clients",
      (r) => r.counters.replyConnections,
    );
    define(
      "annakv_replies_dropped_total",
      "Replies dropped because a client (or every slow client together) had too much queued",
      (r) => r.counters.repliesDropped,
    );
    define(
      "annakv_replies_queued_bytes",
      "Reply bytes waiting for clients to read them",
      (r) => r.counters.repliesQueuedBytes,
    );
    define(
      "annakv_gossip_frames_dropped_total",
      "Gossip frames dropped: a peer actor not reading, or its connection failed",
      (r) => r.counters.gossipFramesDropped,
    );
    define("annakv_send_errors_total", "Reply and gossip connections that failed", (r) => r.counters.sendErrors);
    define("annakv_gossip_keys_sent_total", "Keys sent by gossip", (r) => r.counters.gossipKeysSent);
    define(
      "annakv_gossip_bytes_sent_total",
      "Bytes of frames sent to other actors (gossip, handoffs, acknowledgements, anti-entropy digests and repairs)",
      (r) => r.counters.gossipBytesSent,
    );
    define("annakv_gossip_keys_received_total", "Keys received by gossip", (r) => r.counters.gossipKeysReceived);
    define(
      "annakv_gossip_merge_errors_total",
      "Gossiped values refused (type conflict between replicas)",
      (r) => r.counters.gossipMergeErrors,
    );
    define(
      "annakv_merge_keys_owed",
      "Keys whose values from replicas the store refused for memory and the actor still owes (above 0: a degraded replica)",
      (r) => r.counters.mergeKeysOwed,
    );
    define(
      "annakv_merge_values_dropped_total",
      "Owed values dropped past the merge backlog's cap, left to anti-entropy",
      (r) => r.counters.mergeValuesDropped,
    );
    define(
      "annakv_handoff_frames_sent_total",
      "Handoff frames sent by actors leaving a hot key's replica set",
      (r) => r.counters.handoffFramesSent,
    );
    define(
      "annakv_keys_dropped_total",
      "Keys dropped after handing their value to the remaining replicas",
      (r) => r.counters.keysDropped,
    );
    define(
      "annakv_anti_entropy_rounds_total",
      "Anti-entropy rounds completed: digests of every shared key sent to the other replicas",
      (r) => r.counters.antiEntropyRounds,
    );
    define(
      "annakv_anti_entropy_keys_repaired_total",
      "Keys sent to replicas whose digests differed (anti-entropy repairs)",
      (r) => r.counters.antiEntropyKeysRepaired,
    );
    define(
      "annakv_replication_factor_entries",
      "Keys with a replication factor entry of their own: hot, or cooled and not yet settled",
      (r) => r.counters.replicationFactorEntries,
    );
    const hotKeys = this.info.hotKeys;
    new client.Gauge({
      name: "annakv_hot_keys",
      help: "Keys replicated above the default factor (selective replication)",
      registers: [this.registry],
      collect(this: client.Gauge) {
        this.set(hotKeys().length);
      },
    });
    const routing = this.info.routing;
    const defineRouting = (name: string, help: string, read: (counters: RoutingCounters) => number) =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        collect(this: client.Gauge) {
          this.set(read(routing()));
        },
      });
    defineRouting(
      "annakv_routing_requests_total",
      "KeyAddressRequests answered by the routing service",
      (r) => r.requestsAnswered,
    );
    defineRouting(
      "annakv_routing_bad_frames_total",
      "Frames refused as garbage by the routing service",
      (r) => r.badFrames,
    );
    defineRouting(
      "annakv_routing_connections_refused_total",
      "Connections refused because the routing socket had --max-connections open",
      (r) => r.connectionsRefused,
    );
    defineRouting(
      "annakv_routing_connections_idle_closed_total",
      "Routing connections closed after --idle-timeout-ms without a byte",
      (r) => r.connectionsIdleClosed,
    );
    const cluster = this.info.cluster;
    new client.Gauge({
      name: "annakv_cluster_members",
      help: "Members of the cluster this node knows, by state",
      labelNames: ["state"],
      registers: [this.registry],
      collect(this: client.Gauge) {
        this.reset();
        for (const member of cluster().members) this.inc({ state: member.state });
      },
    });
    new client.Gauge({
      name: "annakv_membership_bad_frames_total",
      help: "Frames refused on the membership port",
      registers: [this.registry],
      collect(this: client.Gauge) {
        this.set(cluster().membershipBadFrames);
      },
    });
    new client.Gauge({
      name: "annakv_membership_bytes_sent_total",
      help: "Bytes of membership messages sent by this node",
      registers: [this.registry],
      collect(this: client.Gauge) {
        this.set(cluster().membershipBytesSent);
      },
    });
    new client.Gauge({
      name: "annakv_membership_stability_messages_sent_total",
      help: "Held bounds this node sent between heartbeats (one message per member)",
      registers: [this.registry],
      collect(this: client.Gauge) {
        this.set(cluster().membershipStabilityMessagesSent);
      },
    });
    define(
      "annakv_rebalance_keys_sent_total",
      "Keys sent to replicas new to them by rebalances (join, leave, failure)",
      (r) => r.counters.rebalanceKeysSent,
    );
    define(
      "annakv_rebalance_keys_moved_out_total",
      "Keys handed to their new replicas and dropped by rebalances",
      (r) => r.counters.rebalanceKeysMovedOut,
    );
    define(
      "annakv_rebalance_pages_in_flight",
      "Rebalance pages sent and not yet acknowledged",
      (r) => r.counters.rebalancePagesInFlight,
    );
    define("annakv_tuple_errors_total", "Tuples answered with an error", (r) =>
      Object.values(r.counters.tupleErrors).reduce((sum, count) => sum + count, 0),
    );
  }
}
