/**
 * Outgoing PUSH connections by address, the part both pools share (zeromq.js sockets in
 * push-pool.ts, ZMTP connections in zmtp/push-pool.ts): at most `maxSockets` (the least
 * recently used is closed past that), each closed after `idleCloseMs` without traffic so
 * that a stream of short-lived clients cannot exhaust file descriptors, bounds on what may
 * queue for a peer that does not read and for all such peers together, and counters
 * instead of exceptions.
 */
export interface Outlet {
  lastUsedMs: number;
}

/** Where the actor's handlers put frames for an address (gossip): a pool, or a stand-in in benches. */
export interface FrameSink {
  /** Queues a frame for `address`, which keeps it until sent; never throws for a bad or dead address. */
  send(address: string, frame: Uint8Array): void;
}

/** Where the request handler puts its replies: bytes its request server reuses. */
export interface CopyingFrameSink {
  /**
   * Queues a copy of `bytes` followed by `tail` (one frame) for `address`, made before the
   * call returns; never throws for a bad or dead address.
   */
  sendCopy(address: string, bytes: Uint8Array, tail?: Uint8Array): void;
}

export interface OutletPoolLimits {
  maxSockets: number;
  idleCloseMs: number;
  /** What may queue for one address (in the unit of `queued`) before new frames are dropped. */
  maxQueued: number;
  /**
   * An address with at least this much queued is a slow peer: once the slow peers have
   * `maxQueuedSlow` queued together, new frames to any of them are dropped, while peers
   * that keep up still get theirs. What the pool holds stays under `maxQueuedSlow` plus
   * `maxSockets` x `slowPeerQueued` (and a frame each), however many peers stop reading.
   * Without them, `maxQueued` per peer is the only bound.
   */
  slowPeerQueued?: number;
  maxQueuedSlow?: number;
}

export abstract class OutletPool<T extends Outlet> implements FrameSink, CopyingFrameSink {
  private readonly limits: Required<OutletPoolLimits>;
  /** In least-recently-used order: a Map iterates in insertion order. */
  private readonly outlets = new Map<string, T>();
  /** The address last moved to the end of `outlets` (the most recently used). */
  private mostRecentAddress: string | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  /** Outlets seen with at least slowPeerQueued queued; pruned when summed. */
  private readonly slowOutlets = new Set<T>();
  /** What the slow outlets had queued when last summed, plus what was sent to them since. */
  private slowQueued = 0;
  private slowQueuedSummedAtMs = -Infinity;
  droppedFrames = 0;
  /** Addresses that could not be connected to, and sends or connections that failed. */
  sendErrors = 0;
  /**
   * Told the address whenever frames for it may have been lost: dropped here, or queued on
   * a connection that failed (gossip: the peer is then sent again what it may have missed).
   */
  onLoss?: (address: string) => void;

  constructor(limits: OutletPoolLimits) {
    this.limits = {
      ...limits,
      slowPeerQueued: limits.slowPeerQueued ?? Infinity,
      maxQueuedSlow: limits.maxQueuedSlow ?? Infinity,
    };
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(1000, limits.idleCloseMs / 2));
    this.idleTimer.unref();
  }

  /** A new outlet for `address`, or undefined (counted) when it cannot be reached. */
  protected abstract connect(address: string): T | undefined;
  /** Queues the frame (then `tail`, as one frame); with `copy`, a copy of them (made before returning). */
  protected abstract enqueue(outlet: T, frame: Uint8Array, copy: boolean, tail?: Uint8Array): void;
  /** What is queued for the outlet, in the unit of `maxQueued`; 0 when all has left (or never will). */
  protected abstract queued(outlet: T): number;
  protected abstract closeOutlet(outlet: T): void;

  get socketCount(): number {
    return this.outlets.size;
  }

  /** What is queued for all addresses together, in the unit of `maxQueued` (a walk over every outlet: for status reports). */
  get queuedTotal(): number {
    let total = 0;
    for (const outlet of this.outlets.values()) total += this.queued(outlet);
    return total;
  }

  /** Addresses with an open outlet, least recently used first (the next to be evicted). */
  get openAddresses(): string[] {
    return [...this.outlets.keys()];
  }

  send(address: string, frame: Uint8Array): void {
    this.push(address, frame, false);
  }

  sendCopy(address: string, bytes: Uint8Array, tail?: Uint8Array): void {
    this.push(address, bytes, true, tail);
  }

  private push(address: string, frame: Uint8Array, copy: boolean, tail?: Uint8Array): void {
    const outlet = this.use(address) ?? this.add(address);
    if (outlet === undefined) return;
    const queued = this.queued(outlet);
    const slow = queued >= this.limits.slowPeerQueued;
    if (queued >= this.limits.maxQueued || (slow && this.slowPeersFull(outlet))) {
      this.frameDropped(address);
      return;
    }
    this.enqueue(outlet, frame, copy, tail);
    outlet.lastUsedMs = Date.now();
    // Counted as queued until the next sum sees what really is.
    if (slow) this.slowQueued += this.queued(outlet) - queued;
  }

  /**
   * Whether the slow peers (`outlet` among them now) have maxQueuedSlow queued. Summed
   * over them at most once a millisecond, so that many slow peers do not make every send
   * a walk over all of them; in between, what is sent to them is added to the sum.
   */
  private slowPeersFull(outlet: T): boolean {
    this.slowOutlets.add(outlet);
    const nowMs = performance.now();
    if (nowMs - this.slowQueuedSummedAtMs >= 1) {
      this.slowQueuedSummedAtMs = nowMs;
      this.slowQueued = 0;
      for (const slow of this.slowOutlets) {
        const queued = this.queued(slow);
        if (queued < this.limits.slowPeerQueued) this.slowOutlets.delete(slow);
        else this.slowQueued += queued;
      }
    }
    return this.slowQueued >= this.limits.maxQueuedSlow;
  }

  protected frameDropped(address: string): void {
    this.droppedFrames++;
    this.onLoss?.(address);
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
    this.slowOutlets.clear();
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
    const outlet = this.outlets.get(address);
    if (outlet !== undefined) this.slowOutlets.delete(outlet);
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
