/**
 * Clients whose reply socket reads slowly or not at all, asking for a 1 MiB value several
 * times a second: the node's replies to them pile up until its per-client bound (64 MiB,
 * src/protocol/zmtp/socket-limits.ts REPLY_POOL_OPTIONS), past which it drops them and
 * counts each (repliesDropped), while every other client is still answered. Raw sockets
 * (libzmq), not AnnaClients: a client that never reads has no use for time-outs and retries.
 * Their reply sockets buffer one message, so the backlog stays on the node's side.
 */
import * as zmq from "zeromq";
import {
  decodeKeyAddressResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  RequestType,
} from "../../src/protocol/anna";
import { RawPeer } from "../../test/support/raw-socket";

const ROUTING_TIMEOUT_MS = 5000;

export interface SlowReaderOptions {
  /** The actor holding `key` (routing's answer, see ownerOf). */
  actorAddress: string;
  key: string;
  requestsPerSecond: number;
  /** Replies read per second; 0: never read. */
  readsPerSecond: number;
}

/** The request address of the actor routing names first for `key`. */
export async function ownerOf(routingAddress: string, key: string): Promise<string> {
  const peer = await RawPeer.open();
  try {
    await peer.send(
      routingAddress,
      encodeKeyAddressRequest({ response_address: peer.replyAddress, keys: [key], request_id: "soak-owner" }),
    );
    const response = decodeKeyAddressResponse(await peer.receive(ROUTING_TIMEOUT_MS));
    const address = response.addresses[0]?.ips[0];
    if (address === undefined) throw new Error(`routing named no actor for ${key} (error ${response.error})`);
    return address;
  } finally {
    peer.close();
  }
}

export class SlowReader {
  private readonly replies = new zmq.Pull({ linger: 0, receiveHighWaterMark: 1 });
  private readonly requests = new zmq.Push({ linger: 0, sendTimeout: 0 });
  private timers: NodeJS.Timeout[] = [];
  private requestCount = 0;
  requestsSent = 0;
  repliesRead = 0;

  constructor(readonly options: SlowReaderOptions) {}

  async start(): Promise<void> {
    await this.replies.bind("tcp://127.0.0.1:*");
    this.requests.connect(this.options.actorAddress);
    this.timers.push(setInterval(() => this.request(), 1000 / this.options.requestsPerSecond));
    if (this.options.readsPerSecond > 0)
      this.timers.push(setInterval(() => void this.read(), 1000 / this.options.readsPerSecond));
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.replies.close();
    this.requests.close();
  }

  private request(): void {
    const frame = encodeKeyRequest({
      type: RequestType.GET,
      tuples: [{ key: this.options.key }],
      response_address: this.replies.lastEndpoint!,
      request_id: `slow-${++this.requestCount}`,
    });
    // sendTimeout 0: a request that cannot be queued at once is skipped (libzmq's queue to the actor is full).
    this.requests.send(frame).then(
      () => this.requestsSent++,
      () => undefined,
    );
  }

  private async read(): Promise<void> {
    this.replies.receiveTimeout = 0;
    try {
      await this.replies.receive();
      this.repliesRead++;
    } catch {
      // Nothing waiting: the node's replies have not reached us yet.
    }
  }
}
