/**
 * How the load generator and the echo floor's client talk to a server, either way over
 * ZeroMQ's wire protocol (ZMTP) on tcp://:
 * - `zmtp`: annakv's own transport on Node's sockets (src/protocol/zmtp), the leanest
 *   client Node.js has here, as redis-benchmark is a lean C client for Redis;
 * - `zeromq`: zeromq.js, i.e. libzmq, as Anna's own C++ and Python clients are built.
 * Replies come back to one bound PULL; requests leave through a pool of PUSH connections.
 */
import * as zmq from "zeromq";
import { PushPool } from "../src/protocol/push-pool";
import { ZmtpPullServer } from "../src/protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../src/protocol/zmtp/push-pool";

export type ClientTransport = "zmtp" | "zeromq";
const CLIENT_TRANSPORTS: readonly string[] = ["zmtp", "zeromq"] satisfies ClientTransport[];

/** A `--client-transport` value checked. */
export function parseClientTransport(text: string): ClientTransport {
  if (!CLIENT_TRANSPORTS.includes(text))
    throw new RangeError(`--client-transport must be one of ${CLIENT_TRANSPORTS.join(", ")}, got ${text}`);
  return text as ClientTransport;
}

export interface ClientLink {
  readonly replyAddress: string;
  send(address: string, frame: Uint8Array): void;
  /** Every reply from now on goes to `onReply`; a failure to receive, or a throw in it, to `onFailure`. */
  onReplies(onReply: (frame: Uint8Array) => void, onFailure: (error: Error) => void): void;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const SERVER_SOCKETS_MAX = 64;
/** Far above what a closed loop keeps in flight: nothing is dropped while a server is up. */
const QUEUED_FRAMES_MAX = 1_000_000;
const REPLY_BYTES_MAX = 256 * 1024 * 1024;

/** Where a link's replies go: the handlers last given to onReplies; a throw in one is a failure. */
class ReplyDispatch {
  private reply: (frame: Uint8Array) => void = () => undefined;
  private failure: (error: Error) => void = () => undefined;

  set(reply: (frame: Uint8Array) => void, failure: (error: Error) => void): void {
    this.reply = reply;
    this.failure = failure;
  }

  deliver(frame: Uint8Array): void {
    try {
      this.reply(frame);
    } catch (error) {
      this.failure(error as Error);
    }
  }

  fail(error: Error): void {
    this.failure(error);
  }
}

/** A link whose replies come to `replyBindAddress` (e.g. `tcp://127.0.0.1:*`). */
export async function openClientLink(transport: ClientTransport, replyBindAddress: string): Promise<ClientLink> {
  return transport === "zmtp" ? openZmtpLink(replyBindAddress) : openZeromqLink(replyBindAddress);
}

async function openZmtpLink(replyBindAddress: string): Promise<ClientLink> {
  const dispatch = new ReplyDispatch();
  const replies = new ZmtpPullServer({
    maxFrameBytes: REPLY_BYTES_MAX,
    maxFramesPerBatch: QUEUED_FRAMES_MAX,
    maxConnections: SERVER_SOCKETS_MAX,
    handshakeTimeoutMs: HOUR_MS,
    onFrames: (frames) => {
      for (const frame of frames) dispatch.deliver(frame);
    },
    onBadPeer: (reason) => dispatch.fail(new Error(`reply connection closed: ${reason}`)),
  });
  await replies.bind(replyBindAddress);
  const requests = new ZmtpPushPool({
    maxSockets: SERVER_SOCKETS_MAX,
    idleCloseMs: HOUR_MS,
    maxQueuedBytes: REPLY_BYTES_MAX,
    lingerMs: 0,
    handshakeTimeoutMs: HOUR_MS,
  });
  return {
    replyAddress: replies.boundAddress!,
    send: (address, frame) => requests.send(address, frame),
    onReplies: (reply, failure) => dispatch.set(reply, failure),
    close: async () => {
      requests.close();
      await replies.close();
    },
  };
}

async function openZeromqLink(replyBindAddress: string): Promise<ClientLink> {
  const pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: QUEUED_FRAMES_MAX });
  await pull.bind(replyBindAddress);
  const requests = new PushPool({
    maxSockets: SERVER_SOCKETS_MAX,
    idleCloseMs: HOUR_MS,
    maxQueuedFrames: QUEUED_FRAMES_MAX,
    lingerMs: 0,
  });
  const dispatch = new ReplyDispatch();
  void (async () => {
    for (;;) {
      let frame: Uint8Array;
      try {
        [frame] = await pull.receive();
      } catch (error) {
        // Closing the socket at the end rejects the pending receive: that is the way out.
        if (!pull.closed) dispatch.fail(error as Error);
        return;
      }
      dispatch.deliver(frame);
    }
  })();
  return {
    replyAddress: pull.lastEndpoint!,
    send: (address, frame) => requests.send(address, frame),
    onReplies: (reply, failure) => dispatch.set(reply, failure),
    close: async () => {
      requests.close();
      pull.close();
    },
  };
}
