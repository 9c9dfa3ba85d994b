/**
 * Outgoing ZeroMQ PUSH connections by address on Node's own sockets (../outlet-pool.ts):
 * the replies of actors and of the routing service to clients' PULL sockets. Unlike
 * libzmq, a connection that fails is not retried: its queued replies are dropped (the
 * client is gone or never listened) and the next reply connects anew.
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
  stream: ZmtpStream;
  lastUsedMs: number;
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
      stream: new ZmtpStream(socket, {
        socketType: "PUSH",
        maxFrameBytes: PEER_MAX_FRAME_BYTES,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
        onMessages: () => undefined,
        onProblem: () => this.sendErrors++,
        onClose: (hadError) => {
          if (hadError) this.sendErrors++;
          this.remove(address, outlet);
        },
      }),
      lastUsedMs: Date.now(),
    };
    return outlet;
  }

  protected enqueue(outlet: StreamOutlet, frame: Uint8Array, copy: boolean): void {
    // A connection that failed stays here until its close event: what comes meanwhile is lost.
    if (outlet.stream.closed) this.droppedFrames++;
    else outlet.stream.send(frame, copy);
  }

  protected queued(outlet: StreamOutlet): number {
    return outlet.stream.closed ? 0 : outlet.stream.queuedBytes;
  }

  protected closeOutlet(outlet: StreamOutlet): void {
    outlet.stream.end(this.options.lingerMs);
  }
}
