/**
 * One ZMTP 3 connection over a Node.js socket: the handshake (greeting, NULL mechanism
 * READY with the socket types checked), then frames both ways. Incoming messages are read
 * straight out of the chunks the socket delivers, a chunk's worth at a time; outgoing
 * frames written in one tick leave in one system call.
 *
 * Why not zeromq.js here: it costs two native calls and a promise per message, plus a
 * hop through libzmq's I/O thread; on the client-facing request path that was most of an
 * actor's time (docs/performance.md). Speaking the protocol ourselves on Node's own
 * sockets keeps real ZeroMQ clients working unchanged at a third of the CPU per message.
 */
import type { Socket } from "node:net";
import {
  errorCommand,
  FLAG_COMMAND,
  FLAG_MORE,
  FrameError,
  frameHeaderBytes,
  FrameReader,
  GREETING,
  GREETING_BYTES,
  greetingProblem,
  parseCommand,
  parseProperties,
  PartialFrameBudget,
  PING_CONTEXT_BYTES_MAX,
  pongFor,
  readyCommand,
  writeFrameHeader,
} from "./frames";

export type ZmtpSocketType = "PUSH" | "PULL";

/** The one peer type each of ours talks to (libzmq's compatibility table, restricted to ours). */
const PEER_TYPE: Record<ZmtpSocketType, string> = { PUSH: "PULL", PULL: "PUSH" };
/** Commands are small (READY's metadata, PING): a bigger one is an attack or a bug. */
const COMMAND_BYTES_MAX = 64 * 1024;
/** How long a peer refused with an ERROR command gets to read it. */
const GOODBYE_LINGER_MS = 1000;
/** Frames up to this size are copied behind their header into one buffer: one write, not two. */
const COPY_FRAME_MAX_BYTES = 4096;
/**
 * Past this many bytes unwritten to a peer, its PINGs go unanswered: a peer that pings and
 * never reads must not grow our buffer. One that reads what it is sent hears from us anyway,
 * and libzmq takes any frame received, not only PONG, as a sign of life.
 */
const PONG_BACKLOG_BYTES_MAX = 64 * 1024;

export interface ZmtpStreamOptions {
  socketType: ZmtpSocketType;
  /** Larger message frames are a protocol error: the connection is closed (as libzmq's maxMessageSize). */
  maxFrameBytes: number;
  /** A peer that has not completed the handshake by then is disconnected. */
  handshakeTimeoutMs: number;
  /**
   * A connection with nothing read or written for this long is closed (absent or 0: never).
   * A PULL side writes only its handshake and PONGs, so this is the peer's silence.
   */
  idleTimeoutMs?: number;
  /** Shared with the other connections of a listener: what frames partly received may hold together. */
  partialFrameBudget?: PartialFrameBudget;
  /** The first frame of each message received, a chunk's worth at a time; the array is reused after the call. Must not throw. */
  onMessages(frames: Uint8Array[]): void;
  /** The peer broke the protocol; the connection is being closed. */
  onProblem(reason: string): void;
  onClose(hadError: boolean): void;
  /** The connection was closed for being idle (idleTimeoutMs); onClose follows. */
  onIdleClose?(): void;
}

const enum Stage {
  GREETING,
  READY,
  TRAFFIC,
  CLOSED,
}

export class ZmtpStream {
  private stage = Stage.GREETING;
  private readonly greeting = Buffer.alloc(GREETING_BYTES);
  private greetingFilled = 0;
  private readonly reader: FrameReader;
  /** Messages of the chunk being read, handed over at its end; the array is reused. */
  private readonly received: Uint8Array[] = [];
  /** Inside a multi-part message, past its first frame: the rest are skipped. */
  private inMessage = false;
  /** Frames sent this tick, written together at its end (one socket write, however many). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Frames sent before the peer's READY, written once it has come. */
  private beforeHandshake: Uint8Array[] = [];
  private beforeHandshakeBytes = 0;
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: ZmtpStreamOptions,
  ) {
    this.reader = new FrameReader(
      (flags) => ((flags & FLAG_COMMAND) !== 0 ? COMMAND_BYTES_MAX : options.maxFrameBytes),
      options.partialFrameBudget,
    );
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    // 'close' follows every error; the error itself needs a listener or it would throw.
    socket.on("error", () => undefined);
    socket.on("close", (hadError: boolean) => {
      this.stage = Stage.CLOSED;
      clearTimeout(this.handshakeTimer);
      this.reader.discard();
      options.onClose(hadError);
    });
    if (options.idleTimeoutMs !== undefined && options.idleTimeoutMs > 0) {
      // Node's own idle timer: re-armed by every read and write at no cost per chunk.
      socket.setTimeout(options.idleTimeoutMs, () => this.closeIdle());
    }
    this.handshakeTimer = setTimeout(
      () => this.fail(`no ZMTP handshake within ${options.handshakeTimeoutMs} ms`),
      options.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref();
    socket.write(Buffer.concat([GREETING, readyCommand(options.socketType)]));
  }

  get closed(): boolean {
    return this.stage === Stage.CLOSED;
  }

  /** Bytes sent but not yet taken by the operating system (all of them until the handshake is done). */
  get queuedBytes(): number {
    return this.beforeHandshakeBytes + this.pendingBytes + this.socket.writableLength;
  }

  /**
   * Sends one single-frame message. Frames sent in one tick leave together; frames sent
   * before the handshake is done wait for it (libzmq drops a peer whose first message
   * arrives before it has sent its own READY). Without `copy`, a large frame is kept as it
   * is until written; with it, the caller may reuse the frame's bytes once this returns.
   * `tail` (always copied) ends the same frame: a few bytes appended without copying
   * `frame` twice (the actors' response extensions).
   */
  send(frame: Uint8Array, copy = false, tail?: Uint8Array): void {
    if (this.stage === Stage.CLOSED) return;
    const bodyBytes = frame.length + (tail?.length ?? 0);
    const headerBytes = frameHeaderBytes(bodyBytes);
    if (copy || tail !== undefined || frame.length <= COPY_FRAME_MAX_BYTES) {
      const out = Buffer.allocUnsafe(headerBytes + bodyBytes);
      writeFrameHeader(out, 0, 0, bodyBytes);
      out.set(frame, headerBytes);
      if (tail !== undefined) out.set(tail, headerBytes + frame.length);
      this.write(out);
    } else {
      const header = Buffer.allocUnsafe(headerBytes);
      writeFrameHeader(header, 0, 0, frame.length);
      this.write(header);
      this.write(frame);
    }
  }

  /**
   * Sends what is written, then closes; gives up and drops the rest after `lingerMs`.
   * Frames still waiting for the handshake are dropped.
   */
  end(lingerMs: number): void {
    if (this.stage === Stage.CLOSED) return;
    this.flush();
    this.stage = Stage.CLOSED;
    this.endThenDestroy(lingerMs);
  }

  destroy(): void {
    this.stage = Stage.CLOSED;
    this.socket.destroy();
  }

  private write(bytes: Uint8Array): void {
    if (this.stage !== Stage.TRAFFIC) {
      this.beforeHandshake.push(bytes);
      this.beforeHandshakeBytes += bytes.length;
      return;
    }
    // One socket write per tick: each write costs the stream machinery more than a copy.
    if (this.pending.length === 0) process.nextTick(this.flush);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /** Writes what this tick sent, as one buffer. */
  private readonly flush = (): void => {
    const pending = this.pending;
    if (pending.length === 0) return;
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.stage === Stage.TRAFFIC) this.socket.write(bytes);
  };

  private fail(reason: string, goodbye?: Buffer): void {
    if (this.stage === Stage.CLOSED) return;
    this.stage = Stage.CLOSED;
    clearTimeout(this.handshakeTimer);
    this.options.onProblem(reason);
    if (goodbye === undefined) this.socket.destroy();
    else this.endThenDestroy(GOODBYE_LINGER_MS, goodbye);
  }

  /** Closes a connection silent for idleTimeoutMs: no protocol error, only its slot given back. */
  private closeIdle(): void {
    if (this.stage === Stage.CLOSED) return;
    this.stage = Stage.CLOSED;
    clearTimeout(this.handshakeTimer);
    this.options.onIdleClose?.();
    this.socket.destroy();
  }

  /** Ends the socket after what is written (and `last`), destroying it if that takes over `lingerMs`. */
  private endThenDestroy(lingerMs: number, last?: Buffer): void {
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
    setTimeout(() => this.socket.destroy(), lingerMs).unref();
  }

  private receive(chunk: Buffer): void {
    let offset = 0;
    if (this.stage === Stage.GREETING) offset = this.readGreeting(chunk);
    if (this.stage !== Stage.CLOSED && offset < chunk.length) {
      try {
        this.reader.read(chunk, offset, this.frame);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.fail(error.message);
      }
    }
    // Messages read before a protocol error were whole and valid: they are still handled.
    if (this.received.length > 0) {
      try {
        this.options.onMessages(this.received);
      } finally {
        this.received.length = 0;
      }
    }
  }

  /** Takes the greeting's bytes from the chunk's start; returns where the chunk's frames begin. */
  private readGreeting(chunk: Buffer): number {
    const take = Math.min(GREETING_BYTES - this.greetingFilled, chunk.length);
    chunk.copy(this.greeting, this.greetingFilled, 0, take);
    this.greetingFilled += take;
    const problem = greetingProblem(this.greeting.subarray(0, this.greetingFilled));
    if (problem !== undefined) this.fail(problem);
    else if (this.greetingFilled === GREETING_BYTES) this.stage = Stage.READY;
    return take;
  }

  /** One whole frame; returns whether to read on. Bound once: it runs for every frame read. */
  private readonly frame = (flags: number, body: Uint8Array): boolean => {
    if ((flags & FLAG_COMMAND) !== 0) this.command(body);
    else if (this.stage !== Stage.TRAFFIC) this.fail("message before the handshake's READY");
    else {
      // Anna's messages are single frames; of a multi-part message only the first is kept.
      if (!this.inMessage && this.options.socketType === "PULL") this.received.push(body);
      this.inMessage = (flags & FLAG_MORE) !== 0;
    }
    return this.stage !== Stage.CLOSED;
  };

  private command(body: Uint8Array): void {
    const command = parseCommand(body);
    if (command === undefined) {
      this.fail("malformed command frame");
      return;
    }
    if (command.name === "ERROR") {
      const reason = Buffer.from(command.data.subarray(1, 1 + (command.data[0] ?? 0))).toString("latin1");
      this.fail(`peer sent ERROR: ${reason}`);
    } else if (this.stage === Stage.READY) {
      this.ready(command.name, command.data);
    } else if (command.name === "PING") {
      this.pong(command.data);
    }
    // Anything else (PONG, SUBSCRIBE, ...) means nothing to a PUSH/PULL pair.
  }

  private pong(pingData: Uint8Array): void {
    const pong = pongFor(pingData);
    if (pong === undefined)
      this.fail(
        `PING of ${pingData.length} bytes (ZMTP 3.1: a 2-byte TTL and at most ${PING_CONTEXT_BYTES_MAX} bytes of context)`,
      );
    else if (this.socket.writableLength <= PONG_BACKLOG_BYTES_MAX) this.socket.write(pong);
  }

  private ready(name: string, data: Uint8Array): void {
    if (name !== "READY") {
      this.fail(`expected READY, got ${JSON.stringify(name)}`);
      return;
    }
    const peerType = parseProperties(data)?.get("socket-type")?.toString("latin1");
    const expected = PEER_TYPE[this.options.socketType];
    if (peerType !== expected) {
      const reason = `peer socket type ${peerType ?? "(none)"}, expected ${expected}`;
      this.fail(reason, errorCommand(`Invalid socket type: ${reason}`));
      return;
    }
    this.stage = Stage.TRAFFIC;
    clearTimeout(this.handshakeTimer);
    for (const bytes of this.beforeHandshake) this.write(bytes);
    this.beforeHandshake = [];
    this.beforeHandshakeBytes = 0;
  }
}
