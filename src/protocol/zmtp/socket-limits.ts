/**
 * Limits of the node's ZMTP sockets, in one place: the client-facing ones (the actors'
 * request ports and their replies, the routing service's), which serve the same clients
 * the same way, and the gossip ones between the actors of a node.
 */
import type { ZmtpPullServerOptions } from "./pull-server";
import type { ZmtpPushPoolOptions } from "./push-pool";

/** As libzmq's default handshake interval: a connection silent this long is closed. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Connections to one listening socket at once; more are closed as they come. The cluster's
 * listeners (gossip, membership) keep these, with no idle timeout: their peers are the
 * node's own push pools, which close a connection after 30 s unused. The client-facing ones
 * (actor requests, routing) take the cap and an idle timeout from the node's options
 * (--max-connections, --idle-timeout-ms), the cap's default being this one.
 */
export const LISTENER_LIMITS: Pick<ZmtpPullServerOptions, "maxConnections" | "handshakeTimeoutMs"> = {
  maxConnections: 4096,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
};

/**
 * Reply connections: at most 1024 open (least recently used closed first), each closed
 * after 30 s unused, 64 MiB queued for a client that does not read before its replies are
 * dropped, and 256 MiB for all clients with 64 KiB or more queued together: however many
 * clients stop reading, one actor's (or the routing service's) replies hold at most
 * ~320 MiB, and clients that keep up are still answered.
 */
export const REPLY_POOL_OPTIONS: ZmtpPushPoolOptions = {
  maxSockets: 1024,
  idleCloseMs: 30_000,
  maxQueuedBytes: 64 * 1024 * 1024,
  slowPeerQueuedBytes: 64 * 1024,
  maxQueuedSlowBytes: 256 * 1024 * 1024,
  lingerMs: 1000,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
};

/**
 * Gossip connections to the node's actors: one per actor, closed after 30 s unused, and
 * 256 MiB queued for an actor that does not read (a gossip period sends at most 64 pages
 * of 1 MiB to a peer) before frames to it are dropped. The actors are few and known, so
 * the per-peer bound is the whole bound: no separate one for slow peers together.
 */
export function gossipPoolOptions(threadCount: number): ZmtpPushPoolOptions {
  return {
    maxSockets: threadCount,
    idleCloseMs: 30_000,
    maxQueuedBytes: 256 * 1024 * 1024,
    lingerMs: 1000,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  };
}
