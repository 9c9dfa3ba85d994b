/**
 * A ZeroMQ PULL socket's listening side, on Node's own sockets: any number of PUSH peers
 * (libzmq clients, zeromq.js, Anna's C++ and Python clients) connect and send; each chunk
 * of messages read is handed over at once, in the order each peer sent them. Delivery is
 * synchronous, so closing the server leaves no message read but unhandled.
 */
import net from "node:net";
import { Endpoint, formatEndpoint, parseEndpoint } from "./endpoint";
import { ZmtpStream } from "./stream";

export interface ZmtpPullServerOptions {
  maxFrameBytes: number;
  /** The most frames handed over in one call; a bigger chunk is handed over in parts. */
  maxFramesPerBatch: number;
  /** Connections past this many are refused (closed at once) until others close. */
  maxConnections: number;
  handshakeTimeoutMs: number;
  /** Frames as read (the array is reused after the call); must not throw. */
  onFrames(frames: Uint8Array[]): void;
  /** A peer broke the protocol (garbage, oversized frame, wrong socket type) and was disconnected. */
  onBadPeer(reason: string): void;
}

export class ZmtpPullServer {
  private readonly server: net.Server;
  private readonly streams = new Set<ZmtpStream>();
  private bound: string | undefined;

  constructor(private readonly options: ZmtpPullServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = options.maxConnections;
  }

  /** The endpoint listened on, its port resolved when bound to `*`; undefined before bind. */
  get boundAddress(): string | undefined {
    return this.bound;
  }

  get connectionCount(): number {
    return this.streams.size;
  }

  async bind(address: string): Promise<void> {
    const endpoint = parseEndpoint(address, true);
    if (endpoint === undefined) throw new Error(`cannot listen on ${JSON.stringify(address)}: not a tcp://HOST:PORT or ipc://PATH endpoint`);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      const listening = () => {
        this.server.off("error", reject);
        resolve();
      };
      if (endpoint.transport === "tcp") this.server.listen({ host: endpoint.host, port: endpoint.port, exclusive: true }, listening);
      else this.server.listen({ path: endpoint.path, exclusive: true }, listening);
    });
    this.bound = formatEndpoint(this.actualEndpoint(endpoint));
  }

  /** Stops accepting connections and reading from open ones. */
  async close(): Promise<void> {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private actualEndpoint(requested: Endpoint): Endpoint {
    const address = this.server.address();
    if (requested.transport === "tcp" && address !== null && typeof address === "object") return { ...requested, port: address.port };
    return requested;
  }

  private accept(socket: net.Socket): void {
    const stream: ZmtpStream = new ZmtpStream(socket, {
      socketType: "PULL",
      maxFrameBytes: this.options.maxFrameBytes,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      onMessages: (frames) => this.deliver(frames),
      onProblem: (reason) => this.options.onBadPeer(reason),
      onClose: () => this.streams.delete(stream),
    });
    this.streams.add(stream);
  }

  private deliver(frames: Uint8Array[]): void {
    const batch = this.options.maxFramesPerBatch;
    if (frames.length <= batch) this.options.onFrames(frames);
    else for (let start = 0; start < frames.length; start += batch) this.options.onFrames(frames.slice(start, start + batch));
  }
}
