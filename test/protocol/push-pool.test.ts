/**
 * PushPool with real ZeroMQ sockets on 127.0.0.1: frames reach their addresses in order,
 * sockets are evicted least recently used first past the bound and closed when idle, a
 * peer that does not read costs at most `maxQueuedFrames` queued frames, a bad address is
 * counted and never thrown.
 */
import * as zmq from "zeromq";
import { PushPool, PushPoolOptions } from "../../src/protocol/push-pool";
import { waitFor } from "../support/node-process";

const OPTIONS: PushPoolOptions = { maxSockets: 2, idleCloseMs: 60_000, maxQueuedFrames: 5, lingerMs: 0 };

async function pullSocket(): Promise<{ socket: zmq.Pull; address: string }> {
  const socket = new zmq.Pull({ linger: 0 });
  await socket.bind("tcp://127.0.0.1:*");
  return { socket, address: socket.lastEndpoint! };
}

async function receiveText(socket: zmq.Pull, count: number): Promise<string[]> {
  const texts: string[] = [];
  while (texts.length < count) texts.push((await socket.receive())[0].toString());
  return texts;
}

describe("PushPool", () => {
  const pulls: zmq.Pull[] = [];
  const pools: PushPool[] = [];

  async function addresses(count: number): Promise<string[]> {
    const result: string[] = [];
    for (let i = 0; i < count; i++) {
      const { socket, address } = await pullSocket();
      pulls.push(socket);
      result.push(address);
    }
    return result;
  }

  function pool(options: Partial<PushPoolOptions> = {}): PushPool {
    const created = new PushPool({ ...OPTIONS, ...options });
    pools.push(created);
    return created;
  }

  afterEach(() => {
    for (const created of pools.splice(0)) created.close();
    for (const socket of pulls.splice(0)) socket.close();
  });

  it("delivers each address's frames in order", async () => {
    // Sent in one synchronous loop: the queue holds them until ZeroMQ takes them.
    const [a, b] = await addresses(2);
    const replies = pool({ maxQueuedFrames: 100 });
    for (let i = 0; i < 20; i++) replies.send(i % 2 === 0 ? a : b, Buffer.from(`frame ${i}`));
    expect(await receiveText(pulls[0], 10)).toEqual(Array.from({ length: 10 }, (_, i) => `frame ${2 * i}`));
    expect(await receiveText(pulls[1], 10)).toEqual(Array.from({ length: 10 }, (_, i) => `frame ${2 * i + 1}`));
    expect(replies.droppedFrames).toBe(0);
    expect(replies.sendErrors).toBe(0);
  });

  it("evicts the least recently used socket past maxSockets, bursts to one address included", async () => {
    const [a, b, c] = await addresses(3);
    const replies = pool();
    const frame = Buffer.from("x");
    replies.send(a, frame);
    replies.send(b, frame);
    replies.send(b, frame);
    expect(replies.openAddresses).toEqual([a, b]);
    replies.send(a, frame);
    replies.send(a, frame);
    expect(replies.openAddresses).toEqual([b, a]);
    replies.send(c, frame);
    expect(replies.openAddresses).toEqual([a, c]);
    // The socket just made is the most recent: using a again moves a after it.
    replies.send(a, frame);
    expect(replies.openAddresses).toEqual([c, a]);
    replies.send(b, frame);
    expect(replies.openAddresses).toEqual([a, b]);
  });

  it("closes sockets idle for idleCloseMs", async () => {
    const [a] = await addresses(1);
    const replies = pool({ idleCloseMs: 50 });
    replies.send(a, Buffer.from("x"));
    expect(await receiveText(pulls[0], 1)).toEqual(["x"]);
    // The idle sweep runs at most once a second.
    await waitFor(
      () => replies.socketCount === 0,
      5000,
      () => `still open: ${replies.openAddresses}`,
    );
  });

  it("queues at most maxQueuedFrames for a peer that is not there, and counts the rest as dropped", async () => {
    const replies = pool();
    // Nothing listens here: ZeroMQ holds the first frame, the pool queues behind it.
    for (let i = 0; i < 12; i++) replies.send("tcp://127.0.0.1:9", Buffer.from(`frame ${i}`));
    expect(replies.droppedFrames).toBe(12 - OPTIONS.maxQueuedFrames);
  });

  it("counts a bad address as a send error instead of throwing", () => {
    const replies = pool();
    expect(() => replies.send("not an address", Buffer.from("x"))).not.toThrow();
    expect(replies.sendErrors).toBe(1);
    expect(replies.socketCount).toBe(0);
  });
});
