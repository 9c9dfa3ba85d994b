/**
 * A ZeroMQ PULL socket's listening side, on Node's own sockets: any number of PUSH peers
 * (libzmq clients, zeromq.js, Anna's C++ and Python clients) connect and send; each chunk
 * of messages read is handed over at once, in the order each peer sent them. Delivery is
 * synchronous, so closing the server leaves no message read but unhandled. With `tls`, a
 * peer must first complete a mutual TLS handshake (tls.ts): one that fails is reported and
 * dropped before ZMTP reads a byte of it.
 *
 * Bounds: connections past maxConnections are refused as they come, connections silent for
 * idleTimeoutMs are closed (so that peers which connect and say nothing cannot hold every
 * slot for good), and the frames partly received on all connections together hold at most
 * PARTIAL_FRAMES_PER_LISTENER maximal frames' worth of bytes.
 */
import net from "node:net";
import tls from "node:tls";
import { Endpoint, formatEndpoint, parseEndpoint } from "./endpoint";
import { PartialFrameBudget } from "./frames";
import { ZmtpStream } from "./stream";
import { ClusterTls, tlsFailure, tlsServerOptions } from "./tls";

export interface ZmtpPullServerOptions {
  maxFrameBytes: number;
  /** The most frames handed over in one call; a bigger chunk is handed over in parts. */
  maxFramesPerBatch: number;
  /** Connections past this many are refused (closed at once) until others close. */
  maxConnections: number;
  /** For each of the TLS handshake (with `tls`) and then ZMTP's: a peer that stalls in either is disconnected. */
  handshakeTimeoutMs: number;
  /** A connection that sends nothing for this long is closed (absent or 0: never). */
  idleTimeoutMs?: number;
  /** Mutual TLS with these credentials (tcp:// only); plain ZMTP without. */
  tls?: ClusterTls;
  /** Frames as read (the array is reused after the call); must not throw. */
  onFrames(frames: Uint8Array[]): void;
  /** A peer broke the protocol (garbage, oversized frame, wrong socket type) or failed TLS (the reason starts `TLS:`) and was disconnected. */
  onBadPeer(reason: string): void;
  /** A connection was refused at maxConnections; the reason names its peer. */
  onConnectionRefused?(reason: string): void;
  /** A connection was closed for being silent idleTimeoutMs. */
  onIdleClose?(): void;
}

/**
 * Maximal frames' worth of bytes that frames partly received on all of a listener's
 * connections may hold together: one connection sending a maximal frame leaves as much
 * again to all the others, while a few peers that each trickle most of one cannot make
 * the listener hold maxConnections times maxFrameBytes.
 */
export const PARTIAL_FRAMES_PER_LISTENER = 2;

export class ZmtpPullServer {
  private readonly server: net.Server;
  private readonly streams = new Set<ZmtpStream>();
  /** A TLS server's TCP connections, those still in the handshake (not yet streams) among them: close() ends them too. */
  private readonly tlsConnections = new Set<net.Socket>();
  /** Set by close(): the handshakes it cuts short are no peer's fault. */
  private closing = false;
  private bound: string | undefined;
  private readonly partialFrameBudget: PartialFrameBudget;

  constructor(private readonly options: ZmtpPullServerOptions) {
    this.partialFrameBudget = new PartialFrameBudget(PARTIAL_FRAMES_PER_LISTENER * options.maxFrameBytes);
    this.server =
      options.tls === undefined ? net.createServer((socket) => this.accept(socket)) : this.tlsServer(options.tls);
    // Counts TCP connections, those still in the TLS handshake among them.
    this.server.maxConnections = options.maxConnections;
    this.server.on("drop", (peer?: net.DropArgument) => {
      const from =
        peer?.remoteAddress === undefined
          ? "a local peer"
          : formatEndpoint({ transport: "tcp", host: peer.remoteAddress, port: peer.remotePort ?? 0 });
      options.onConnectionRefused?.(
        `connection from ${from} refused: ${options.maxConnections} connections open, the most allowed`,
      );
    });
  }

  /** ZMTP starts on a connection once its TLS handshake succeeded ('secureConnection'). */
  private tlsServer(credentials: ClusterTls): tls.Server {
    const server = tls.createServer(tlsServerOptions(credentials, this.options.handshakeTimeoutMs), (socket) =>
      this.accept(socket),
    );
    server.on("connection", (socket: net.Socket) => {
      this.tlsConnections.add(socket);
      socket.once("close", () => this.tlsConnections.delete(socket));
    });
    server.on("tlsClientError", (error, socket) => {
      socket.destroy();
      if (!this.closing) this.options.onBadPeer(tlsFailure(error, this.options.handshakeTimeoutMs));
    });
    return server;
  }

  /** The endpoint listened on, its port resolved when bound to `*`; undefined before bind. */
  get boundAddress(): string | undefined {
    return this.bound;
  }

  get connectionCount(): number {
    return this.streams.size;
  }

  /** Bytes held by frames partly received, on all connections together. */
  get partialFrameBytes(): number {
    return this.partialFrameBudget.bytesHeld;
  }

  async bind(address: string): Promise<void> {
    const endpoint = parseEndpoint(address, true);
    if (endpoint === undefined)
      throw new Error(`cannot listen on ${JSON.stringify(address)}: not a tcp://HOST:PORT or ipc://PATH endpoint`);
    if (endpoint.transport === "ipc" && this.options.tls !== undefined)
      throw new Error(`cannot listen on ${JSON.stringify(address)} with TLS: only tcp:// endpoints take TLS`);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      const listening = () => {
        this.server.off("error", reject);
        resolve();
      };
      if (endpoint.transport === "tcp")
        this.server.listen({ host: endpoint.host, port: endpoint.port, exclusive: true }, listening);
      else this.server.listen({ path: endpoint.path, exclusive: true }, listening);
    });
    this.bound = formatEndpoint(this.actualEndpoint(endpoint));
  }

  /** Stops accepting connections and reading from open ones. */
  async close(): Promise<void> {
    this.closing = true;
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    for (const socket of this.tlsConnections) socket.destroy();
    this.tlsConnections.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private actualEndpoint(requested: Endpoint): Endpoint {
    const address = this.server.address();
    if (requested.transport === "tcp" && address !== null && typeof address === "object")
      return { ...requested, port: address.port };
    return requested;
  }

  private accept(socket: net.Socket): void {
    const stream: ZmtpStream = new ZmtpStream(socket, {
      socketType: "PULL",
      maxFrameBytes: this.options.maxFrameBytes,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      partialFrameBudget: this.partialFrameBudget,
      onMessages: (frames) => this.deliver(frames),
      onProblem: (reason) => this.options.onBadPeer(reason),
      onClose: () => this.streams.delete(stream),
      onIdleClose: () => this.options.onIdleClose?.(),
    });
    this.streams.add(stream);
  }

  private deliver(frames: Uint8Array[]): void {
    const batch = this.options.maxFramesPerBatch;
    if (frames.length <= batch) this.options.onFrames(frames);
    else
      for (let start = 0; start < frames.length; start += batch)
        this.options.onFrames(frames.slice(start, start + batch));
  }
}
