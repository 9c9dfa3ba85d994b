/**
 * Outgoing PUSH connections by address, the part both pools share (zeromq.js sockets in
 * push-pool.ts, ZMTP connections in zmtp/push-pool.ts): at most `maxSockets` (the least
 * recently used is closed past that), each closed after `idleCloseMs` without traffic so
 * that a stream of short-lived clients cannot exhaust file descriptors, a bound on what
 * may queue for a peer that does not read, and counters instead of exceptions.
 */
export interface Outlet {
  lastUsedMs: number;
}

/** Where the actor's handlers put frames for an address (replies, gossip): a pool, or a stand-in in benches. */
export interface FrameSink {
  /** Queues a frame for `address`; never throws for a bad or dead address. */
  send(address: string, frame: Uint8Array): void;
}

export interface OutletPoolLimits {
  maxSockets: number;
  idleCloseMs: number;
  /** What may queue for one address (in the unit of `queued`) before new frames are dropped. */
  maxQueued: number;
}

export abstract class OutletPool<T extends Outlet> implements FrameSink {
  /** In least-recently-used order: a Map iterates in insertion order. */
  private readonly outlets = new Map<string, T>();
  /** The address last moved to the end of `outlets` (the most recently used). */
  private mostRecentAddress: string | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  droppedFrames = 0;
  /** Addresses that could not be connected to, and sends or connections that failed. */
  sendErrors = 0;

  constructor(private readonly limits: OutletPoolLimits) {
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(1000, limits.idleCloseMs / 2));
    this.idleTimer.unref();
  }

  /** A new outlet for `address`, or undefined (counted) when it cannot be reached. */
  protected abstract connect(address: string): T | undefined;
  protected abstract enqueue(outlet: T, frame: Uint8Array): void;
  /** What is queued for the outlet, in the unit of `maxQueued`; 0 when all has left (or never will). */
  protected abstract queued(outlet: T): number;
  protected abstract closeOutlet(outlet: T): void;

  get socketCount(): number {
    return this.outlets.size;
  }

  /** Addresses with an open outlet, least recently used first (the next to be evicted). */
  get openAddresses(): string[] {
    return [...this.outlets.keys()];
  }

  send(address: string, frame: Uint8Array): void {
    const outlet = this.use(address) ?? this.add(address);
    if (outlet === undefined) return;
    if (this.queued(outlet) >= this.limits.maxQueued) {
      this.droppedFrames++;
      return;
    }
    this.enqueue(outlet, frame);
    outlet.lastUsedMs = Date.now();
  }

  /** Resolves when every queued frame has left, or at the deadline. */
  async flush(deadlineMs: number): Promise<void> {
    while (Date.now() < deadlineMs) {
      let pending = false;
      for (const outlet of this.outlets.values()) if (this.queued(outlet) > 0) pending = true;
      if (!pending) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  close(): void {
    clearInterval(this.idleTimer);
    for (const outlet of this.outlets.values()) this.closeOutlet(outlet);
    this.outlets.clear();
    this.mostRecentAddress = undefined;
  }

  /** Forgets `address` if `outlet` is still its outlet (a connection that ended by itself). */
  protected remove(address: string, outlet: T): void {
    if (this.outlets.get(address) === outlet) this.forget(address);
  }

  private use(address: string): T | undefined {
    const existing = this.outlets.get(address);
    // Re-insertion keeps the Map in least-recently-used order; a burst of frames to one
    // address (one client's replies) re-inserts once.
    if (existing !== undefined && address !== this.mostRecentAddress) {
      this.outlets.delete(address);
      this.outlets.set(address, existing);
      this.mostRecentAddress = address;
    }
    return existing;
  }

  private add(address: string): T | undefined {
    const outlet = this.connect(address);
    if (outlet === undefined) return undefined;
    if (this.outlets.size >= this.limits.maxSockets) {
      const [oldest, evicted] = this.outlets.entries().next().value as [string, T];
      this.closeOutlet(evicted);
      this.forget(oldest);
    }
    this.outlets.set(address, outlet);
    this.mostRecentAddress = address;
    return outlet;
  }

  private forget(address: string): void {
    this.outlets.delete(address);
    if (this.mostRecentAddress === address) this.mostRecentAddress = undefined;
  }

  private closeIdle(): void {
    const cutoffMs = Date.now() - this.limits.idleCloseMs;
    for (const [address, outlet] of this.outlets) {
      if (outlet.lastUsedMs < cutoffMs && this.queued(outlet) === 0) {
        this.closeOutlet(outlet);
        this.forget(address);
      }
    }
  }
}
