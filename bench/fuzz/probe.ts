/**
 * Valid requests between the fuzzer's batches, each timed: a KeyRequest to every actor's
 * request port and a KeyAddressRequest to routing (raw, over libzmq, so that no client
 * retry hides a stall), and for the listeners that answer nothing (gossip, membership) a
 * ZMTP greeting read back. Unanswered within the deadline, a probe counts as a crash.
 */
import net from "node:net";
import {
  decodeKeyAddressResponse,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  RequestType,
} from "../../src/protocol/anna";
import { GREETING_BYTES } from "../../src/protocol/zmtp/frames";
import { RawPeer } from "../../test/support/raw-socket";

export type SocketKind = "routing" | "request" | "gossip" | "membership";

export interface SocketTarget {
  /** routing, request-<tid>, gossip-<tid>, membership */
  name: string;
  kind: SocketKind;
  port: number;
}

export class Prober {
  private requestCount = 0;

  private constructor(
    private readonly peer: RawPeer,
    private readonly host: string,
  ) {}

  static async open(host: string): Promise<Prober> {
    return new Prober(await RawPeer.open(), host);
  }

  /** Milliseconds until the socket answered, or undefined past `deadlineMs`. */
  async probe(target: SocketTarget, deadlineMs: number): Promise<number | undefined> {
    const startedMs = performance.now();
    if (target.kind === "gossip" || target.kind === "membership")
      return this.greeting(target.port, deadlineMs).then((ok) => (ok ? performance.now() - startedMs : undefined));
    const requestId = `probe-${++this.requestCount}`;
    const response_address = this.peer.replyAddress;
    const frame =
      target.kind === "routing"
        ? encodeKeyAddressRequest({ response_address, keys: ["probe"], request_id: requestId })
        : encodeKeyRequest({
            type: RequestType.GET,
            tuples: [{ key: "probe" }],
            response_address,
            request_id: requestId,
          });
    try {
      await this.peer.send(`tcp://${this.host}:${target.port}`, frame);
      // A late answer to an earlier probe may come first: read on until ours.
      for (;;) {
        const remainingMs = deadlineMs - (performance.now() - startedMs);
        if (remainingMs <= 0) return undefined;
        const reply = await this.peer.receive(Math.ceil(remainingMs));
        if (responseId(target.kind, reply) === requestId) return performance.now() - startedMs;
      }
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.peer.close();
  }

  /** True when the port sends its 64-byte greeting in time. */
  private greeting(port: number, deadlineMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.host, port });
      let received = 0;
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), deadlineMs);
      socket.on("error", () => done(false));
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= GREETING_BYTES) done(true);
      });
    });
  }
}

function responseId(kind: SocketKind, reply: Uint8Array): string | undefined {
  try {
    return kind === "routing" ? decodeKeyAddressResponse(reply).response_id : decodeKeyResponse(reply).response_id;
  } catch {
    return undefined;
  }
}
