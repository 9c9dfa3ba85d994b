/**
 * Outgoing ZeroMQ PUSH connections by address on Node's own sockets (../outlet-pool.ts):
 * the replies of actors and of the routing service to clients' PULL sockets, and gossip
 * between actors. Unlike libzmq, a connection that fails is not retried: its queued frames
 * are dropped (a client is gone or never listened) and the next frame connects anew;
 * `onLoss` names the address (gossip then resends the peer what it may have missed).
 */
import net from "node:net";
import { OutletPool } from "../outlet-pool";
import { parseEndpoint } from "./endpoint";
import { ZmtpStream } from "./stream";

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
  handshakeTimeoutMs: number;
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
    if (endpoint === undefined) {
      this.sendErrors++;
      return undefined;
    }
    const socket = endpoint.transport === "tcp" ? net.connect({ host: endpoint.host, port: endpoint.port }) : net.connect({ path: endpoint.path });
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

  protected enqueue(outlet: StreamOutlet, frame: Uint8Array, copy: boolean): void {
    // A connection that failed stays here until its close event: what comes meanwhile is lost.
    if (outlet.stream.closed) this.frameDropped(outlet.address);
    else outlet.stream.send(frame, copy);
  }

  protected queued(outlet: StreamOutlet): number {
    return outlet.stream.closed ? 0 : outlet.stream.queuedBytes;
  }

  protected closeOutlet(outlet: StreamOutlet): void {
    outlet.closing = true;
    outlet.stream.end(this.options.lingerMs);
  }
}
