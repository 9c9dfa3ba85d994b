/**
 * Outgoing ZeroMQ PUSH connections by address on Node's own sockets (../outlet-pool.ts):
 * the replies of actors and of the routing service to clients' PULL sockets, and gossip
 * between actors. Unlike libzmq, a connection that fails is not retried: its queued frames
 * are dropped (a client is gone or never listened) and the next frame connects anew;
 * `onLoss` names the address (gossip then resends the peer what it may have missed).
 * With `tls`, every connection is mutual TLS (tls.ts); one whose handshake fails is a
 * failed connection like any other.
 */
import net from "node:net";
import tls from "node:tls";
import { OutletPool } from "../outlet-pool";
import { Endpoint, parseEndpoint } from "./endpoint";
import { ZmtpStream } from "./stream";
import { ClusterTls, tlsClientOptions } from "./tls";

export interface ZmtpPushPoolOptions {
  maxSockets: number;
  idleCloseMs: number;
  /** Bytes queued for one address past which new frames are dropped: its peer is not reading. */
  maxQueuedBytes: number;
  /** OutletPoolLimits' slowPeerQueued and maxQueuedSlow, in bytes; no bound for slow peers together when absent. */
  slowPeerQueuedBytes?: number;
  maxQueuedSlowBytes?: number;
  /** How long a closed connection may take to send what is queued. */
  lingerMs: number;
  /** From the connection's start: TCP connect, TLS handshake (with `tls`) and ZMTP's together. */
  handshakeTimeoutMs: number;
  /** Mutual TLS with these credentials: ipc:// addresses are then unreachable (counted as send errors). */
  tls?: ClusterTls;
}

interface StreamOutlet {
  address: string;
  stream: ZmtpStream;
  lastUsedMs: number;
  /** Set when the pool closes it (idle, evicted, pool closed): its close is then expected. */
  closing: boolean;
}

/** The peer only ever sends its handshake and heartbeats: no message from it is accepted. */
const PEER_MAX_FRAME_BYTES = 0;

export class ZmtpPushPool extends OutletPool<StreamOutlet> {
  constructor(private readonly options: ZmtpPushPoolOptions) {
    super({
      maxSockets: options.maxSockets,
      idleCloseMs: options.idleCloseMs,
      maxQueued: options.maxQueuedBytes,
      slowPeerQueued: options.slowPeerQueuedBytes,
      maxQueuedSlow: options.maxQueuedSlowBytes,
    });
  }

  protected connect(address: string): StreamOutlet | undefined {
    const endpoint = parseEndpoint(address);
    const socket = endpoint === undefined ? undefined : this.open(endpoint);
    if (socket === undefined) {
      this.sendErrors++;
      return undefined;
    }
    const outlet: StreamOutlet = {
      address,
      stream: new ZmtpStream(socket, {
        socketType: "PUSH",
        maxFrameBytes: PEER_MAX_FRAME_BYTES,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
        onMessages: () => undefined,
        onProblem: () => this.sendErrors++,
        onClose: (hadError) => {
          if (hadError) this.sendErrors++;
          // A connection that failed or was cut by the peer may have taken frames with it.
          if (hadError || !outlet.closing) this.onLoss?.(address);
          this.remove(address, outlet);
        },
      }),
      lastUsedMs: Date.now(),
      closing: false,
    };
    return outlet;
  }

  /**
   * A socket ZMTP may write to at once: a TLS socket keeps what is written before its
   * handshake is done ('secureConnect') and sends it encrypted after.
   */
  private open(endpoint: Endpoint): net.Socket | undefined {
    const credentials = this.options.tls;
    if (endpoint.transport === "ipc")
      return credentials === undefined ? net.connect({ path: endpoint.path }) : undefined;
    if (credentials === undefined) return net.connect({ host: endpoint.host, port: endpoint.port });
    return tls.connect(tlsClientOptions(credentials, endpoint.host, endpoint.port));
  }

  protected enqueue(outlet: StreamOutlet, frame: Uint8Array, copy: boolean, tail?: Uint8Array): void {
    // A connection that failed stays here until its close event: what comes meanwhile is lost.
    if (outlet.stream.closed) this.frameDropped(outlet.address);
    else outlet.stream.send(frame, copy, tail);
  }

  protected queued(outlet: StreamOutlet): number {
    return outlet.stream.closed ? 0 : outlet.stream.queuedBytes;
  }

  protected closeOutlet(outlet: StreamOutlet): void {
    outlet.closing = true;
    outlet.stream.end(this.options.lingerMs);
  }
}
