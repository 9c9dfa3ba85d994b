/**
 * Outgoing ZeroMQ PUSH connections by address, on Node's own sockets: the replies of actors
 * and of the routing service to clients' PULL sockets. Connections are cached up to
 * `maxSockets` (the least recently used one is closed past that) and closed after
 * `idleCloseMs` without traffic, so a stream of short-lived clients cannot exhaust file
 * descriptors. Unlike libzmq, a connection that fails is not retried: its queued replies
 * are dropped (the client is gone or never listened) and the next reply connects anew.
 */
import net from "node:net";
import { parseEndpoint } from "./endpoint";
import { ZmtpStream } from "./stream";

export interface ZmtpPushPoolOptions {
  maxSockets: number;
  idleCloseMs: number;
  /** Bytes queued for one address past which new frames are dropped: its peer is not reading. */
  maxQueuedBytes: number;
  /** How long a closed connection may take to send what is queued. */
  lingerMs: number;
  handshakeTimeoutMs: number;
}

interface Outlet {
  stream: ZmtpStream;
  lastUsedMs: number;
}

/** The peer only ever sends its handshake and heartbeats: nothing large is accepted from it. */
const PEER_MAX_FRAME_BYTES = 0;

export class ZmtpPushPool {
  private readonly outlets = new Map<string, Outlet>();
  /** The address last moved to the end of `outlets` (the most recently used). */
  private mostRecentAddress: string | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  droppedFrames = 0;
  /** Addresses that could not be connected to, and connections lost or refused by their peer. */
  sendErrors = 0;

  constructor(private readonly options: ZmtpPushPoolOptions) {
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(1000, options.idleCloseMs / 2));
    this.idleTimer.unref();
  }

  get socketCount(): number {
    return this.outlets.size;
  }

  /** Addresses with an open connection, least recently used first (the next to be evicted). */
  get openAddresses(): string[] {
    return [...this.outlets.keys()];
  }

  /** Queues a frame for `address`; never throws for a bad or dead address. */
  send(address: string, frame: Uint8Array): void {
    const outlet = this.outlet(address);
    if (outlet === undefined) return;
    if (outlet.stream.queuedBytes >= this.options.maxQueuedBytes) {
      this.droppedFrames++;
      return;
    }
    outlet.stream.send(frame);
    outlet.lastUsedMs = Date.now();
  }

  /** Resolves when every queued frame has been handed to the operating system, or at the deadline. */
  async flush(deadlineMs: number): Promise<void> {
    while (Date.now() < deadlineMs) {
      let pending = false;
      for (const { stream } of this.outlets.values()) if (!stream.closed && stream.queuedBytes > 0) pending = true;
      if (!pending) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  close(): void {
    clearInterval(this.idleTimer);
    for (const { stream } of this.outlets.values()) stream.end(this.options.lingerMs);
    this.outlets.clear();
  }

  private outlet(address: string): Outlet | undefined {
    const existing = this.outlets.get(address);
    if (existing !== undefined) {
      // Re-insertion keeps the Map in least-recently-used order; a burst of frames to one
      // address (one client's replies) re-inserts once.
      if (address !== this.mostRecentAddress) {
        this.outlets.delete(address);
        this.outlets.set(address, existing);
        this.mostRecentAddress = address;
      }
      return existing;
    }
    const endpoint = parseEndpoint(address);
    if (endpoint === undefined) {
      this.sendErrors++;
      return undefined;
    }
    if (this.outlets.size >= this.options.maxSockets) this.evictOldest();
    const socket = endpoint.transport === "tcp" ? net.connect({ host: endpoint.host, port: endpoint.port }) : net.connect({ path: endpoint.path });
    const outlet: Outlet = {
      stream: new ZmtpStream(socket, {
        socketType: "PUSH",
        maxFrameBytes: PEER_MAX_FRAME_BYTES,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
        onMessages: () => undefined,
        onProblem: () => this.sendErrors++,
        onClose: (hadError) => {
          if (hadError) this.sendErrors++;
          if (this.outlets.get(address) === outlet) this.forget(address);
        },
      }),
      lastUsedMs: Date.now(),
    };
    this.outlets.set(address, outlet);
    this.mostRecentAddress = address;
    return outlet;
  }

  private forget(address: string): void {
    this.outlets.delete(address);
    if (this.mostRecentAddress === address) this.mostRecentAddress = undefined;
  }

  private evictOldest(): void {
    const [address, outlet] = this.outlets.entries().next().value as [string, Outlet];
    outlet.stream.end(this.options.lingerMs);
    this.forget(address);
  }

  private closeIdle(): void {
    const cutoffMs = Date.now() - this.options.idleCloseMs;
    for (const [address, outlet] of this.outlets) {
      if (outlet.lastUsedMs < cutoffMs && outlet.stream.queuedBytes === 0) {
        outlet.stream.end(this.options.lingerMs);
        this.forget(address);
      }
    }
  }
}
