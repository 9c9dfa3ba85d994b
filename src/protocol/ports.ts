import { tcpAddress } from "./zmtp/endpoint";

/**
 * Anna's port layout (ARCHITECTURE.md, "Ports and addresses"), every port shifted by the
 * node's port offset so that several nodes can share a host.
 */
export const ACTOR_REQUEST_BASE_PORT = 6200;
export const ACTOR_GOSSIP_BASE_PORT = 6250;
export const SEED_PORT = 6350;
/** HTTP: Prometheus /metrics and JSON /status. Not an Anna port; ours. */
export const METRICS_PORT = 6400;
export const ROUTING_BASE_PORT = 6450;
/** Request ports 6200+tid must stay below the gossip ports 6250+tid. */
export const ACTOR_THREADS_MAX = ACTOR_GOSSIP_BASE_PORT - ACTOR_REQUEST_BASE_PORT;

export function actorRequestAddress(host: string, portOffset: number, tid: number): string {
  return tcpAddress(host, ACTOR_REQUEST_BASE_PORT + portOffset + tid);
}

export function actorGossipTcpAddress(host: string, portOffset: number, tid: number): string {
  return tcpAddress(host, ACTOR_GOSSIP_BASE_PORT + portOffset + tid);
}

/**
 * Where the actors of this node send each other gossip: TCP even inside one process, since
 * gossip speaks ZMTP on Node's own sockets (inproc:// exists only inside libzmq).
 */
export function actorGossipPeerAddress(host: string, portOffset: number, tid: number): string {
  const connectHost = host === "0.0.0.0" || host === "*" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return actorGossipTcpAddress(connectHost, portOffset, tid);
}

export function routingAddress(host: string, portOffset: number, index = 0): string {
  return tcpAddress(host, ROUTING_BASE_PORT + portOffset + index);
}

export function metricsPort(portOffset: number): number {
  return METRICS_PORT + portOffset;
}
