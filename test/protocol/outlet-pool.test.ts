/**
 * OutletPool, the bookkeeping both PUSH pools share, with in-memory outlets: least
 * recently used order (a burst to one address included), eviction past the bound, the
 * queue bound, unreachable addresses counted, idle close only of drained outlets, and
 * removal of a connection that ended only while it is still the address's outlet.
 */
import { Outlet, OutletPool } from "../../src/protocol/outlet-pool";
import { waitFor } from "../support/node-process";

interface MemoryOutlet extends Outlet {
  address: string;
  frames: string[];
}

/** Outlets that keep what is sent to them; an address starting with "bad" cannot be reached. */
class MemoryPool extends OutletPool<MemoryOutlet> {
  readonly closed: string[] = [];
  readonly outletsMade: MemoryOutlet[] = [];

  protected connect(address: string): MemoryOutlet | undefined {
    if (address.startsWith("bad")) {
      this.sendErrors++;
      return undefined;
    }
    const outlet = { address, frames: [], lastUsedMs: Date.now() };
    this.outletsMade.push(outlet);
    return outlet;
  }

  protected enqueue(outlet: MemoryOutlet, frame: Uint8Array): void {
    // Strings: a copy either way.
    outlet.frames.push(Buffer.from(frame).toString());
  }

  protected queued(outlet: MemoryOutlet): number {
    return outlet.frames.length;
  }

  protected closeOutlet(outlet: MemoryOutlet): void {
    this.closed.push(outlet.address);
  }

  ended(outlet: MemoryOutlet): void {
    this.remove(outlet.address, outlet);
  }
}

describe("OutletPool", () => {
  const pools: MemoryPool[] = [];
  function pool(maxSockets: number, maxQueued = 100, idleCloseMs = 60_000): MemoryPool {
    const created = new MemoryPool({ maxSockets, idleCloseMs, maxQueued });
    pools.push(created);
    return created;
  }
  const frame = (text: string) => Buffer.from(text);

  afterEach(() => {
    for (const created of pools.splice(0)) created.close();
  });

  it("keeps addresses least recently used first and closes the oldest past maxSockets", () => {
    const outlets = pool(2);
    outlets.send("a", frame("1"));
    outlets.send("b", frame("2"));
    outlets.send("b", frame("3"));
    expect(outlets.openAddresses).toEqual(["a", "b"]);
    outlets.send("a", frame("4"));
    outlets.send("a", frame("5"));
    expect(outlets.openAddresses).toEqual(["b", "a"]);
    outlets.send("c", frame("6"));
    expect(outlets.closed).toEqual(["b"]);
    expect(outlets.openAddresses).toEqual(["a", "c"]);
    // The outlet just made is the most recent: using a again moves a after it.
    outlets.send("a", frame("7"));
    expect(outlets.openAddresses).toEqual(["c", "a"]);
    expect(outlets.outletsMade.map((o) => [o.address, o.frames.join("")])).toEqual([
      ["a", "1457"],
      ["b", "23"],
      ["c", "6"],
    ]);
  });

  it("drops frames past maxQueued and counts unreachable addresses, never throwing", () => {
    const outlets = pool(4, 3);
    for (let i = 0; i < 5; i++) outlets.send("a", frame(String(i)));
    expect(outlets.droppedFrames).toBe(2);
    outlets.send("bad", frame("x"));
    expect(outlets.sendErrors).toBe(1);
    expect(outlets.openAddresses).toEqual(["a"]);
  });

  it("past maxQueuedSlow, drops frames to slow peers only; peers that keep up still get theirs", () => {
    const limits = { maxSockets: 8, idleCloseMs: 60_000, maxQueued: 100, slowPeerQueued: 3, maxQueuedSlow: 10 };
    const outlets = new MemoryPool(limits);
    pools.push(outlets);
    const slow = ["s1", "s2", "s3", "s4"];
    let fastReceived = 0;
    for (let round = 0; round < 50; round++) {
      for (const address of slow) outlets.send(address, frame(String(round)));
      outlets.send("fast", frame(String(round)));
      // The fast peer reads everything at once.
      const fast = outlets.outletsMade.find((outlet) => outlet.address === "fast")!;
      fastReceived += fast.frames.length;
      fast.frames.length = 0;
    }
    expect(fastReceived).toBe(50);
    const slowQueued = outlets.outletsMade
      .filter((outlet) => outlet.address !== "fast")
      .map((outlet) => outlet.frames.length);
    // Each slow peer got at least what makes it slow, and together they stay within the bound.
    for (const queued of slowQueued) expect(queued).toBeGreaterThanOrEqual(limits.slowPeerQueued);
    const total = slowQueued.reduce((sum, queued) => sum + queued, 0);
    expect(total).toBeLessThanOrEqual(limits.maxQueuedSlow + slow.length * (limits.slowPeerQueued + 1));
    expect(outlets.droppedFrames).toBe(50 * slow.length - total);
    expect(outlets.queuedTotal).toBe(total);
  });

  it("forgets an ended connection only while it is still the address's outlet", () => {
    const outlets = pool(2);
    outlets.send("a", frame("1"));
    const [first] = outlets.outletsMade;
    outlets.ended(first);
    expect(outlets.socketCount).toBe(0);
    outlets.send("a", frame("2"));
    outlets.ended(first);
    expect(outlets.openAddresses).toEqual(["a"]);
    expect(outlets.outletsMade).toHaveLength(2);
  });

  it("closes idle outlets once drained, flushes, and closes every outlet at close", async () => {
    const outlets = pool(4, 100, 100);
    outlets.send("busy", frame("x"));
    const [busy] = outlets.outletsMade;
    busy.frames.length = 0;
    outlets.send("queued", frame("y"));
    const [, queued] = outlets.outletsMade;
    await waitFor(
      () => outlets.closed.includes("busy"),
      5000,
      () => "idle outlet still open",
    );
    expect(outlets.openAddresses).toEqual(["queued"]);
    const flushed = outlets.flush(Date.now() + 5000);
    queued.frames.length = 0;
    await flushed;
    await waitFor(
      () => outlets.socketCount === 0,
      5000,
      () => "drained outlet still open",
    );
    outlets.send("last", frame("z"));
    outlets.close();
    expect(outlets.closed).toEqual(["busy", "queued", "last"]);
  });
});
