/**
 * ZMTP on Node's sockets against libzmq itself (through zeromq.js) on 127.0.0.1: libzmq
 * PUSH sockets deliver to ZmtpPullServer and ZmtpPushPool delivers to libzmq PULL sockets,
 * frames of every header size in order; heartbeats are answered; peers that are not ZeroMQ,
 * of the wrong socket type or over the size limit are disconnected and reported while the
 * server goes on serving. The frame reader is checked for every way a stream can be cut.
 * The listener's bounds (connections, idle time, frames partly received on all connections,
 * PING context and unread PONGs) are each shown to hold with raw peers.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import * as zmq from "zeromq";
import { formatEndpoint, parseEndpoint, parseHost, tcpAddress } from "../../src/protocol/zmtp/endpoint";
import {
  FLAG_COMMAND,
  FLAG_MORE,
  FrameError,
  FrameReader,
  GREETING,
  greetingProblem,
  parseProperties,
  parseCommand,
  PartialFrameBudget,
  pongFor,
  readyCommand,
  writeFrameHeader,
  frameHeaderBytes,
} from "../../src/protocol/zmtp/frames";
import {
  PARTIAL_FRAMES_PER_LISTENER,
  ZmtpPullServer,
  ZmtpPullServerOptions,
} from "../../src/protocol/zmtp/pull-server";
import { ZmtpStream } from "../../src/protocol/zmtp/stream";
import { ZmtpPushPool, ZmtpPushPoolOptions } from "../../src/protocol/zmtp/push-pool";
import { waitFor } from "../support/node-process";

const FRAME_BYTES_MAX = 4 * 1024 * 1024;
const POOL_OPTIONS: ZmtpPushPoolOptions = {
  maxSockets: 2,
  idleCloseMs: 60_000,
  maxQueuedBytes: 1 << 20,
  lingerMs: 0,
  handshakeTimeoutMs: 5000,
};

function encodedFrame(flags: number, body: Uint8Array): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes(body.length) + body.length);
  frame.set(body, writeFrameHeader(frame, 0, flags, body.length));
  return frame;
}

describe("ZMTP frames", () => {
  it("reads the same frames however the stream is cut, views when whole, copies when cut", () => {
    const frameArb = fc.record({ more: fc.boolean(), body: fc.uint8Array({ maxLength: 700 }) });
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(({ more, body }) => encodedFrame(more ? FLAG_MORE : 0, body)));
          const reader = new FrameReader(() => 1000);
          const read: { flags: number; body: Buffer }[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const end = Math.min(stream.length, offset + cuts[i % cuts.length]);
            reader.read(
              stream.subarray(offset, end),
              0,
              (flags, body) => read.push({ flags, body: Buffer.from(body) }) > 0,
            );
            offset = end;
          }
          expect(read).toEqual(
            frames.map(({ more, body }) => ({ flags: more ? FLAG_MORE : 0, body: Buffer.from(body) })),
          );
        },
      ),
      { seed: 20261126, numRuns: 300 },
    );
  });

  it("refuses a body over the limit from its header, before keeping any of it, and reserved flags", () => {
    const reader = new FrameReader((flags) => ((flags & FLAG_COMMAND) !== 0 ? 10 : 100));
    const header = Buffer.alloc(9);
    writeFrameHeader(header, 0, 0, 2 ** 40);
    expect(() => reader.read(header, 0, () => true)).toThrow(
      new FrameError(`message of ${2 ** 40} bytes (at most 100)`),
    );
    expect(() =>
      new FrameReader(() => 100).read(encodedFrame(FLAG_COMMAND, new Uint8Array(11)), 0, () => true),
    ).not.toThrow();
    expect(() => reader.read(encodedFrame(FLAG_COMMAND, new Uint8Array(11)), 0, () => true)).toThrow(
      "command of 11 bytes (at most 10)",
    );
    expect(() => new FrameReader(() => 100).read(Buffer.of(0x08, 0), 0, () => true)).toThrow("reserved flag bits");
  });

  it("keeps only what a peer has sent of a large frame, not what it announced", () => {
    const reader = new FrameReader(() => 2 ** 40);
    const header = Buffer.alloc(9);
    writeFrameHeader(header, 0, 0, 512 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    reader.read(Buffer.concat([header, Buffer.alloc(1000)]), 0, () => true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("holds frames partly received by several readers within their shared budget, and gives it back", () => {
    const budget = new PartialFrameBudget(100);
    const [a, b] = [new FrameReader(() => 1000, budget), new FrameReader(() => 1000, budget)];
    const header = (bodyBytes: number) =>
      encodedFrame(0, new Uint8Array(bodyBytes)).subarray(0, frameHeaderBytes(bodyBytes));
    const read: number[] = [];
    const onFrame = (_: number, body: Uint8Array) => read.push(body.length) > 0;
    a.read(Buffer.concat([header(80), Buffer.alloc(60)]), 0, onFrame);
    expect(budget.bytesHeld).toBe(60);
    expect(() => b.read(Buffer.concat([header(80), Buffer.alloc(50)]), 0, onFrame)).toThrow(
      new FrameError("frames partly received on all connections would pass 100 bytes"),
    );
    expect(budget.bytesHeld).toBe(60);
    // A frame whole within one chunk is a view of it: nothing held, whatever the budget.
    new FrameReader(() => 1000, budget).read(encodedFrame(0, new Uint8Array(500)), 0, onFrame);
    a.read(Buffer.alloc(20), 0, onFrame);
    expect(read).toEqual([500, 80]);
    expect(budget.bytesHeld).toBe(0);
    b.discard();
    const c = new FrameReader(() => 1000, budget);
    c.read(Buffer.concat([header(80), Buffer.alloc(70)]), 0, onFrame);
    expect(budget.bytesHeld).toBe(70);
    c.discard();
    expect(budget.bytesHeld).toBe(0);
  });

  it("answers a PING with its context, up to the 16 bytes ZMTP 3.1 allows", () => {
    const context = Buffer.from("0123456789abcdef");
    const pong = parseCommand(pongFor(Buffer.concat([Buffer.of(0, 10), context]))!.subarray(2))!;
    expect(pong.name).toBe("PONG");
    expect(Buffer.from(pong.data)).toEqual(context);
    expect(pongFor(Buffer.concat([Buffer.of(0, 10), context, Buffer.of(0)]))).toBeUndefined();
  });

  it("stops where the consumer says", () => {
    const reader = new FrameReader(() => 100);
    const seen: number[] = [];
    reader.read(
      Buffer.concat([encodedFrame(0, Buffer.of(1)), encodedFrame(0, Buffer.of(2))]),
      0,
      (_, body) => seen.push(body[0]) < 1,
    );
    expect(seen).toEqual([1]);
  });

  it("tells a ZMTP 3 NULL greeting from others as its bytes arrive", () => {
    for (let length = 0; length <= GREETING.length; length++)
      expect(greetingProblem(GREETING.subarray(0, length))).toBeUndefined();
    expect(greetingProblem(Buffer.from("GET / HTTP/1.1\r\n"))).toMatch(/not a ZeroMQ peer/);
    const zmtp2 = Buffer.from(GREETING);
    zmtp2[10] = 1;
    expect(greetingProblem(zmtp2.subarray(0, 11))).toMatch(/ZMTP 1\.x/);
    const curve = Buffer.from(GREETING);
    curve.fill(0, 12, 32).write("CURVE", 12, "latin1");
    expect(greetingProblem(curve)).toMatch(/"CURVE" is not supported/);
  });

  it("writes READY with its socket type as libzmq reads it", () => {
    const ready = readyCommand("PULL");
    const command = parseCommand(ready.subarray(2))!;
    expect(command.name).toBe("READY");
    expect(parseProperties(command.data)?.get("socket-type")?.toString()).toBe("PULL");
    expect(parseProperties(Uint8Array.of(11, 0x41))).toBeUndefined();
  });

  it("maps ZeroMQ endpoints to Node addresses and back", () => {
    expect(parseEndpoint("tcp://127.0.0.1:6200")).toEqual({ transport: "tcp", host: "127.0.0.1", port: 6200 });
    expect(parseEndpoint("tcp://[::1]:6200")).toEqual({ transport: "tcp", host: "::1", port: 6200 });
    expect(parseEndpoint("tcp://*:*", true)).toEqual({ transport: "tcp", host: "0.0.0.0", port: 0 });
    expect(parseEndpoint("ipc:///tmp/a.sock")).toEqual({ transport: "ipc", path: "/tmp/a.sock" });
    for (const bad of [
      "ipc://@abstract",
      "tcp://*:6200",
      "tcp://host:0",
      "tcp://host",
      "tcp://h:70000",
      "inproc://x",
      "udp://h:1",
      "ipc://",
      `tcp://${"a".repeat(200)}:1`,
    ]) {
      expect(parseEndpoint(bad)).toBeUndefined();
    }
    expect(formatEndpoint({ transport: "tcp", host: "::1", port: 7 })).toBe("tcp://[::1]:7");
    expect(formatEndpoint({ transport: "ipc", path: "/tmp/a.sock" })).toBe("ipc:///tmp/a.sock");
  });

  it("takes hosts as users write them and brackets IPv6 literals in addresses", () => {
    expect(
      ["127.0.0.1", "::1", "[::1]", "[fe80::1]", "localhost", "db-1.example.org", "0.0.0.0", "::"].map(parseHost),
    ).toEqual(["127.0.0.1", "::1", "::1", "fe80::1", "localhost", "db-1.example.org", "0.0.0.0", "::"]);
    for (const bad of ["", "bad host", "[1.2.3.4]", "[localhost]", "[::1", "tcp://x", "a/b"])
      expect(parseHost(bad)).toBeUndefined();
    expect(tcpAddress("::1", 6200)).toBe("tcp://[::1]:6200");
    expect(tcpAddress("127.0.0.1", "*")).toBe("tcp://127.0.0.1:*");
    expect(parseEndpoint(tcpAddress("fe80::1", 9))).toEqual({ transport: "tcp", host: "fe80::1", port: 9 });
  });
});

describe("ZMTP against libzmq", () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function pullServer(
    options: Partial<ZmtpPullServerOptions> = {},
  ): Promise<{ server: ZmtpPullServer; frames: Buffer[]; problems: string[] }> {
    const frames: Buffer[] = [];
    const problems: string[] = [];
    const server = new ZmtpPullServer({
      maxFrameBytes: FRAME_BYTES_MAX,
      maxFramesPerBatch: 256,
      maxConnections: 64,
      handshakeTimeoutMs: 5000,
      onFrames: (batch) => frames.push(...batch.map((frame) => Buffer.from(frame))),
      onBadPeer: (reason) => problems.push(reason),
      ...options,
    });
    await server.bind("tcp://127.0.0.1:*");
    closers.push(() => server.close());
    return { server, frames, problems };
  }

  function zmqPush(address: string, options: ConstructorParameters<typeof zmq.Push>[0] = {}): zmq.Push {
    const push = new zmq.Push({ linger: 0, ...options });
    push.connect(address);
    closers.push(() => push.close());
    return push;
  }

  async function zmqPull(
    options: ConstructorParameters<typeof zmq.Pull>[0] = {},
  ): Promise<{ pull: zmq.Pull; address: string }> {
    const pull = new zmq.Pull({ linger: 0, ...options });
    await pull.bind("tcp://127.0.0.1:*");
    closers.push(() => pull.close());
    return { pull, address: pull.lastEndpoint! };
  }

  function pool(options: Partial<ZmtpPushPoolOptions> = {}): ZmtpPushPool {
    const created = new ZmtpPushPool({ ...POOL_OPTIONS, ...options });
    closers.push(() => created.close());
    return created;
  }

  /** Bodies of every header size: empty, short, the short/long boundary, long, across many reads. */
  const SIZES = [0, 1, 255, 256, 4096, 70_000, 3 * 1024 * 1024];
  const bodyOf = (size: number, seed: number) => Buffer.alloc(size, seed % 251);
  /** Jest compares big Buffers byte by byte, slowly: compare digests. */
  const digests = (frames: Uint8Array[]) =>
    frames.map((frame) => `${frame.length}:${createHash("sha256").update(frame).digest("hex")}`);

  it("receives libzmq's messages in order, one part of multi-part ones, from several peers", async () => {
    const { server, frames, problems } = await pullServer();
    const push = zmqPush(server.boundAddress!);
    for (const [i, size] of SIZES.entries()) await push.send(bodyOf(size, i));
    await push.send([Buffer.from("first"), Buffer.from("second part, dropped")]);
    await push.send(Buffer.from("after"));
    await waitFor(
      () => frames.length === SIZES.length + 2,
      5000,
      () => `${frames.length} frames`,
    );
    expect(digests(frames.slice(0, SIZES.length))).toEqual(digests(SIZES.map((size, i) => bodyOf(size, i))));
    expect(frames.slice(SIZES.length).map(String)).toEqual(["first", "after"]);
    const other = zmqPush(server.boundAddress!);
    await other.send(Buffer.from("from another peer"));
    await waitFor(
      () => frames.length === SIZES.length + 3,
      5000,
      () => `${frames.length} frames`,
    );
    expect(String(frames.at(-1))).toBe("from another peer");
    expect(server.connectionCount).toBe(2);
    expect(problems).toEqual([]);
  });

  it("sends to libzmq in order per address, frames of every size, a tick's frames together", async () => {
    const a = await zmqPull();
    const b = await zmqPull();
    const replies = pool({ maxQueuedBytes: 64 << 20 });
    for (const [i, size] of SIZES.entries()) replies.send(i % 2 === 0 ? a.address : b.address, bodyOf(size, i));
    const received: Buffer[][] = [[], []];
    for (const [i] of SIZES.entries()) {
      const { pull } = i % 2 === 0 ? a : b;
      received[i % 2].push((await pull.receive())[0]);
    }
    expect(digests(received[0])).toEqual(digests(SIZES.map(bodyOf).filter((_, i) => i % 2 === 0)));
    expect(digests(received[1])).toEqual(digests(SIZES.map(bodyOf).filter((_, i) => i % 2 === 1)));
    expect(replies.sendErrors).toBe(0);
    expect(replies.droppedFrames).toBe(0);
  });

  it("bounds what clients that stop reading hold together, and still answers one that reads", async () => {
    const frameBytes = 128 * 1024;
    const limits = { maxQueuedBytes: 8 << 20, slowPeerQueuedBytes: 256 * 1024, maxQueuedSlowBytes: 2 << 20 };
    const replies = pool({ maxSockets: 8, ...limits });
    // libzmq takes one message off the wire and then stops reading: these peers never receive.
    const stalled = await Promise.all([0, 1, 2].map(() => zmqPull({ receiveHighWaterMark: 1 })));
    const reader = await zmqPull();
    const rounds = 200;
    for (let round = 0; round < rounds; round++) {
      for (const { address } of stalled) replies.send(address, bodyOf(frameBytes, round));
      replies.send(reader.address, Buffer.from(`reply ${round}`));
      expect(String((await reader.pull.receive())[0])).toBe(`reply ${round}`);
    }
    // Without the bound for slow clients together, each stalled client would hold up to 8 MiB.
    const bound = limits.maxQueuedSlowBytes + stalled.length * (limits.slowPeerQueuedBytes + 2 * frameBytes);
    expect(replies.queuedTotal).toBeLessThanOrEqual(bound);
    expect(replies.droppedFrames).toBeGreaterThan(0);
    expect(replies.sendErrors).toBe(0);
  });

  it("sends what a tick queued when closed in that same tick", async () => {
    const { pull, address } = await zmqPull({ receiveTimeout: 3000 });
    const replies = pool({ lingerMs: 5000 });
    // Wait for the handshake, so that the frames below are queued for the tick, not for READY.
    replies.send(address, Buffer.from("first"));
    expect(String((await pull.receive())[0])).toBe("first");
    replies.send(address, Buffer.from("second"));
    replies.send(address, Buffer.from("third"));
    replies.close();
    expect([String((await pull.receive())[0]), String((await pull.receive())[0])]).toEqual(["second", "third"]);
  });

  it("reaches libzmq over ipc://", async () => {
    const socketPath = path.join(os.tmpdir(), `annakv-zmtp-${process.pid}.sock`);
    const address = `ipc://${socketPath}`;
    // libzmq does not always unlink the socket file before the process ends: closers run last to first.
    closers.push(() => fs.rmSync(socketPath, { force: true }));
    const pull = new zmq.Pull({ linger: 0, receiveTimeout: 5000 });
    closers.push(() => pull.close());
    await pull.bind(address);
    const replies = pool();
    replies.send(address, Buffer.from(address));
    expect(String((await pull.receive())[0])).toBe(address);
    expect(replies.sendErrors).toBe(0);
  });

  it("answers libzmq's heartbeats, so a peer that expects PONGs stays connected", async () => {
    const { server, frames } = await pullServer();
    // libzmq drops a connection whose peer does not answer a PING within the timeout.
    const push = zmqPush(server.boundAddress!, { heartbeatInterval: 20, heartbeatTimeout: 100 });
    await push.send(Buffer.from("before"));
    await waitFor(
      () => frames.length === 1,
      5000,
      () => "first frame",
    );
    const firstConnection = [...(server as unknown as { streams: Set<{ socket: net.Socket }> }).streams][0].socket;
    // Ten heartbeat timeouts: an unanswered peer would have reconnected by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await push.send(Buffer.from("after"));
    await waitFor(
      () => frames.length === 2,
      5000,
      () => "second frame",
    );
    expect(firstConnection.destroyed).toBe(false);
    expect(server.connectionCount).toBe(1);
  });

  it("disconnects and reports what is not a ZeroMQ PUSH peer, and serves the next one", async () => {
    const { server, frames, problems } = await pullServer({ maxFrameBytes: 1000 });
    const port = Number(server.boundAddress!.split(":").at(-1));
    const closedAfter = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
      });
    await closedAfter(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    // A ZMTP peer announcing a message over the limit: the body is never awaited.
    await closedAfter(Buffer.concat([GREETING, readyCommand("PUSH"), Buffer.from([0x02, 0, 0, 0, 1, 0, 0, 0, 0])]));
    await closedAfter(Buffer.concat([GREETING, encodedFrame(0, Buffer.from("no READY first"))]));
    // A PULL peer is the wrong socket type for a PULL server (libzmq's own PULL would hang
    // up before sending its READY, having read ours).
    await closedAfter(Buffer.concat([GREETING, readyCommand("PULL")]));
    await waitFor(
      () => problems.length === 4,
      5000,
      () => JSON.stringify(problems),
    );
    expect(problems[0]).toMatch(/not a ZeroMQ peer/);
    expect(problems[1]).toBe(`message of ${2 ** 32} bytes (at most 1000)`);
    expect(problems[2]).toBe("message before the handshake's READY");
    expect(problems[3]).toMatch(/peer socket type PULL, expected PUSH/);
    await zmqPush(server.boundAddress!).send(Buffer.from("still serving"));
    await waitFor(
      () => frames.length === 1,
      5000,
      () => "frame after bad peers",
    );
    expect(String(frames[0])).toBe("still serving");
  });

  it("disconnects a peer that never completes the handshake", async () => {
    const { server, problems } = await pullServer({ handshakeTimeoutMs: 100 });
    const socket = net.connect(Number(server.boundAddress!.split(":").at(-1)), "127.0.0.1");
    socket.on("error", () => undefined);
    closers.push(() => socket.destroy());
    socket.write(GREETING.subarray(0, 10));
    await waitFor(
      () => problems.length === 1,
      5000,
      () => "no timeout",
    );
    expect(problems[0]).toBe("no ZMTP handshake within 100 ms");
    await waitFor(
      () => server.connectionCount === 0,
      5000,
      () => "still connected",
    );
  });

  it("drops frames past maxQueuedBytes for a peer that does not read, counts bad and dead addresses, never throws", async () => {
    // A listener that accepts and never reads: the kernel's buffers fill, then ours.
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket.pause()));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    closers.push(() => {
      for (const socket of accepted) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const address = `tcp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const replies = pool({ maxQueuedBytes: 1 << 20 });
    const losses: string[] = [];
    replies.onLoss = (lost) => losses.push(lost);
    const frame = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 2000; i++) replies.send(address, frame);
    expect(replies.droppedFrames).toBeGreaterThan(0);
    expect(replies.droppedFrames).toBeLessThan(2000);
    // Every drop names its address (gossip resends the peer what it may have missed).
    expect(losses).toEqual(new Array(replies.droppedFrames).fill(address));
    replies.send("inproc://nowhere", frame);
    replies.send("tcp://127.0.0.1", frame);
    expect(replies.sendErrors).toBe(2);
    // Nobody listens on port 1: the connection fails, is counted and forgotten.
    replies.send("tcp://127.0.0.1:1", frame);
    await waitFor(
      () => replies.sendErrors === 3 && !replies.openAddresses.includes("tcp://127.0.0.1:1"),
      5000,
      () => `sendErrors ${replies.sendErrors}`,
    );
    expect(losses.at(-1)).toBe("tcp://127.0.0.1:1");
  });

  it("closes the least recently used connection past maxSockets, and idle ones", async () => {
    const [a, b, c] = [await zmqPull(), await zmqPull(), await zmqPull()];
    const replies = pool({ idleCloseMs: 100 });
    const losses: string[] = [];
    replies.onLoss = (lost) => losses.push(lost);
    for (const { address } of [a, b, c]) replies.send(address, Buffer.from(address));
    expect(replies.openAddresses).toEqual([b.address, c.address]);
    expect(String((await c.pull.receive())[0])).toBe(c.address);
    await waitFor(
      () => replies.socketCount === 0,
      5000,
      () => "idle connections still open",
    );
    // Connections the pool closes itself lose nothing.
    expect(losses).toEqual([]);
  });
});

describe("ZMTP listener bounds", () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  interface Listener {
    server: ZmtpPullServer;
    port: number;
    frames: Buffer[];
    problems: string[];
    refusals: string[];
    idleCloses: number;
  }

  async function listener(options: Partial<ZmtpPullServerOptions>): Promise<Listener> {
    const server = new ZmtpPullServer({
      maxFrameBytes: FRAME_BYTES_MAX,
      maxFramesPerBatch: 256,
      maxConnections: 64,
      handshakeTimeoutMs: 5000,
      onFrames: (batch) => result.frames.push(...batch.map((frame) => Buffer.from(frame))),
      onBadPeer: (reason) => result.problems.push(reason),
      onConnectionRefused: (reason) => result.refusals.push(reason),
      onIdleClose: () => result.idleCloses++,
      ...options,
    });
    const result: Listener = { server, port: 0, frames: [], problems: [], refusals: [], idleCloses: 0 };
    await server.bind("tcp://127.0.0.1:*");
    closers.push(() => server.close());
    result.port = Number(server.boundAddress!.split(":").at(-1));
    return result;
  }

  interface RawPeer {
    socket: net.Socket;
    received: Buffer[];
    closed: Promise<void>;
  }

  /** A TCP connection that sends `first` (a PUSH peer's handshake unless told otherwise) and keeps what it receives. */
  async function rawPeer(
    port: number,
    first: Buffer = Buffer.concat([GREETING, readyCommand("PUSH")]),
  ): Promise<RawPeer> {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    closers.push(() => socket.destroy());
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await once(socket, "connect");
    socket.write(first);
    return { socket, received, closed };
  }

  function pingFrame(context: Buffer): Buffer {
    return encodedFrame(FLAG_COMMAND, Buffer.concat([Buffer.of(4), Buffer.from("PING"), Buffer.of(0, 10), context]));
  }

  /** A long frame header announcing `bodyBytes`, and the first `sentBytes` of that body. */
  function partialFrame(bodyBytes: number, sentBytes: number): Buffer {
    return encodedFrame(0, Buffer.alloc(bodyBytes, 0x61)).subarray(0, frameHeaderBytes(bodyBytes) + sentBytes);
  }

  it("refuses connections past maxConnections, reporting each with its peer, and takes new ones once others close", async () => {
    const { server, port, refusals } = await listener({ maxConnections: 2 });
    const [first] = [await rawPeer(port), await rawPeer(port)];
    await waitFor(
      () => server.connectionCount === 2,
      5000,
      () => `${server.connectionCount} connections`,
    );
    const refused = await rawPeer(port);
    await refused.closed;
    // Refused before ZMTP starts: not even our greeting was sent.
    expect(refused.received).toEqual([]);
    await waitFor(
      () => refusals.length === 1,
      5000,
      () => "refusal not reported",
    );
    expect(refusals[0]).toMatch(
      /^connection from tcp:\/\/127\.0\.0\.1:\d+ refused: 2 connections open, the most allowed$/,
    );
    first.socket.destroy();
    await waitFor(
      () => server.connectionCount === 1,
      5000,
      () => `${server.connectionCount} connections`,
    );
    const later = await rawPeer(port);
    await waitFor(
      () => server.connectionCount === 2,
      5000,
      () => `${server.connectionCount} connections`,
    );
    expect(later.socket.closed).toBe(false);
    expect(refusals).toHaveLength(1);
  });

  it("closes a connection silent for idleTimeoutMs, and keeps one that speaks", async () => {
    const idleTimeoutMs = 300;
    const listening = await listener({ idleTimeoutMs });
    const silent = await rawPeer(listening.port);
    const talker = await rawPeer(listening.port);
    const startMs = Date.now();
    let sent = 0;
    const timer = setInterval(() => talker.socket.write(encodedFrame(0, Buffer.from(`message ${sent++}`))), 50);
    closers.push(() => clearInterval(timer));
    await silent.closed;
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(idleTimeoutMs - 50);
    expect(listening.idleCloses).toBe(1);
    // Three timeouts on, the one that speaks is still served.
    await waitFor(
      () => Date.now() - startMs > 3 * idleTimeoutMs,
      5000,
      () => "clock",
    );
    expect(talker.socket.closed).toBe(false);
    expect(listening.server.connectionCount).toBe(1);
    expect(listening.frames.length).toBeGreaterThan(5);
    // Idle is no protocol error.
    expect(listening.problems).toEqual([]);
  });

  it("bounds frames partly received on all connections together: the connection that would pass it is closed", async () => {
    const maxFrameBytes = 1000;
    const budgetBytes = PARTIAL_FRAMES_PER_LISTENER * maxFrameBytes;
    const { server, port, frames, problems } = await listener({ maxFrameBytes });
    const handshake = Buffer.concat([GREETING, readyCommand("PUSH")]);
    const a = await rawPeer(port, Buffer.concat([handshake, partialFrame(900, 800)]));
    const b = await rawPeer(port, Buffer.concat([handshake, partialFrame(900, 800)]));
    await waitFor(
      () => server.partialFrameBytes === 1600,
      5000,
      () => `${server.partialFrameBytes} bytes held`,
    );
    // Within its own frame bound, but past what all connections may hold together.
    const c = await rawPeer(port, Buffer.concat([handshake, partialFrame(900, budgetBytes - 1600 + 1)]));
    await c.closed;
    expect(problems).toEqual([`frames partly received on all connections would pass ${budgetBytes} bytes`]);
    expect(server.partialFrameBytes).toBe(1600);
    // A frame completed, and a connection closed, give their bytes back.
    a.socket.write(Buffer.alloc(100, 0x61));
    await waitFor(
      () => frames.length === 1,
      5000,
      () => "frame not completed",
    );
    expect(frames[0]).toEqual(Buffer.alloc(900, 0x61));
    b.socket.destroy();
    await waitFor(
      () => server.partialFrameBytes === 0,
      5000,
      () => `${server.partialFrameBytes} bytes held`,
    );
    await rawPeer(port, Buffer.concat([handshake, partialFrame(900, 500)]));
    await waitFor(
      () => server.partialFrameBytes === 500,
      5000,
      () => `${server.partialFrameBytes} bytes held`,
    );
    expect(problems).toHaveLength(1);
  });

  it("closes a peer whose PING carries more context than ZMTP 3.1 allows, and echoes one that does not", async () => {
    const { port, problems } = await listener({});
    const context = Buffer.from("0123456789abcdef");
    const good = await rawPeer(port, Buffer.concat([GREETING, readyCommand("PUSH"), pingFrame(context)]));
    const pong = encodedFrame(FLAG_COMMAND, Buffer.concat([Buffer.of(4), Buffer.from("PONG"), context]));
    await waitFor(
      () => Buffer.concat(good.received).includes(pong),
      5000,
      () => "no PONG",
    );
    const bad = await rawPeer(
      port,
      Buffer.concat([GREETING, readyCommand("PUSH"), pingFrame(Buffer.alloc(64 * 1024 - 16))]),
    );
    await bad.closed;
    expect(problems).toEqual([
      `PING of ${64 * 1024 - 14} bytes (ZMTP 3.1: a 2-byte TTL and at most 16 bytes of context)`,
    ]);
    // What was sent back is our handshake alone: no PONG of 64 KiB.
    expect(Buffer.concat(bad.received).length).toBeLessThan(100);
    expect(good.socket.closed).toBe(false);
  });

  it("leaves PINGs unanswered while a peer has not read what it was sent, and answers again once it has", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const accepted = once(server, "connection");
    const peer = await rawPeer((server.address() as net.AddressInfo).port);
    const [socket] = (await accepted) as [net.Socket];
    closers.push(() => socket.destroy());
    const messages: string[] = [];
    const stream = new ZmtpStream(socket, {
      socketType: "PULL",
      maxFrameBytes: 1024,
      handshakeTimeoutMs: 5000,
      onMessages: (batch) => messages.push(...batch.map(String)),
      onProblem: (reason) => messages.push(`problem: ${reason}`),
      onClose: () => undefined,
    });
    await waitFor(
      () => socket.writableLength === 0,
      5000,
      () => "handshake not written",
    );
    // Corked, the socket keeps what is written, as it does for a peer that stops reading.
    socket.cork();
    const pingCount = 10_000;
    const context = Buffer.alloc(16, 0x70);
    peer.socket.write(
      Buffer.concat([
        ...new Array<Buffer>(pingCount).fill(pingFrame(context)),
        encodedFrame(0, Buffer.from("after the pings")),
      ]),
    );
    await waitFor(
      () => messages.length === 1,
      5000,
      () => "pings not read",
    );
    expect(messages).toEqual(["after the pings"]);
    const pongBytes = pongFor(Buffer.concat([Buffer.of(0, 10), context]))!.length;
    // Unbounded, this would be every PONG: pingCount * pongBytes, 230 000 bytes.
    expect(socket.writableLength).toBeLessThanOrEqual(64 * 1024 + pongBytes);
    socket.uncork();
    await waitFor(
      () => socket.writableLength === 0,
      5000,
      () => "backlog not written",
    );
    const receivedBefore = Buffer.concat(peer.received).length;
    peer.socket.write(pingFrame(context));
    await waitFor(
      () => Buffer.concat(peer.received).length === receivedBefore + pongBytes,
      5000,
      () => "no PONG once the backlog was read",
    );
    expect(stream.closed).toBe(false);
  });
});
