/**
 * Outgoing PUSH sockets by address: actors' replies and gossip, routing's replies, clients'
 * requests. Sockets are cached up to `maxSockets` (the least recently used one is closed
 * past that) and closed after `idleCloseMs` without traffic, so a stream of short-lived
 * clients cannot exhaust file descriptors. zeromq.js allows one pending send per socket, so each socket
 * has a queue that one drain loop empties in order.
 */
import * as zmq from "zeromq";

export interface PushPoolOptions {
  maxSockets: number;
  idleCloseMs: number;
  /** Frames queued per address before new ones are dropped (the peer is not reading). */
  maxQueuedFrames: number;
  /** How long close() waits for queued frames to leave, in ms. */
  lingerMs: number;
}

interface Outlet {
  socket: zmq.Push;
  queue: Uint8Array[];
  draining: boolean;
  lastUsedMs: number;
}

export class PushPool {
  private readonly outlets = new Map<string, Outlet>();
  /** The address last moved to the end of `outlets` (the most recently used). */
  private mostRecentAddress: string | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  droppedFrames = 0;
  sendErrors = 0;

  constructor(private readonly options: PushPoolOptions) {
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(1000, options.idleCloseMs / 2));
    this.idleTimer.unref();
  }

  get socketCount(): number {
    return this.outlets.size;
  }

  /** Addresses with an open socket, least recently used first (the next to be evicted). */
  get openAddresses(): string[] {
    return [...this.outlets.keys()];
  }

  /** Queues a frame for `address`; never throws for a bad or dead address. */
  send(address: string, frame: Uint8Array): void {
    const outlet = this.outlet(address);
    if (outlet === undefined) return;
    if (outlet.queue.length >= this.options.maxQueuedFrames) {
      this.droppedFrames++;
      return;
    }
    outlet.queue.push(frame);
    outlet.lastUsedMs = Date.now();
    if (!outlet.draining) void this.drain(outlet);
  }

  /** Resolves when every queued frame has been handed to ZeroMQ. */
  async flush(deadlineMs: number): Promise<void> {
    while (Date.now() < deadlineMs) {
      let pending = false;
      for (const outlet of this.outlets.values()) if (outlet.queue.length > 0) pending = true;
      if (!pending) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  close(): void {
    clearInterval(this.idleTimer);
    for (const outlet of this.outlets.values()) outlet.socket.close();
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
    if (this.outlets.size >= this.options.maxSockets) this.evictOldest();
    const socket = new zmq.Push({ linger: this.options.lingerMs, sendHighWaterMark: 10000 });
    try {
      socket.connect(address);
    } catch {
      this.sendErrors++;
      socket.close();
      return undefined;
    }
    const outlet: Outlet = { socket, queue: [], draining: false, lastUsedMs: Date.now() };
    this.outlets.set(address, outlet);
    this.mostRecentAddress = address;
    return outlet;
  }

  private async drain(outlet: Outlet): Promise<void> {
    outlet.draining = true;
    try {
      while (outlet.queue.length > 0 && !outlet.socket.closed) {
        const frame = outlet.queue[0];
        try {
          await outlet.socket.send(frame);
        } catch {
          this.sendErrors++;
        }
        outlet.queue.shift();
      }
    } finally {
      outlet.draining = false;
    }
  }

  private evictOldest(): void {
    const [address, outlet] = this.outlets.entries().next().value as [string, Outlet];
    outlet.socket.close();
    this.outlets.delete(address);
  }

  private closeIdle(): void {
    const cutoffMs = Date.now() - this.options.idleCloseMs;
    for (const [address, outlet] of this.outlets) {
      if (outlet.lastUsedMs < cutoffMs && outlet.queue.length === 0) {
        outlet.socket.close();
        this.outlets.delete(address);
      }
    }
  }
}
