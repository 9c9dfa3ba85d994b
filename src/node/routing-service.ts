/**
 * The routing service (Anna's routing thread): answers KeyAddressRequests with the
 * request addresses of the actors that serve each key, on every node of the cluster,
 * pushed to the request's response_address. A request over a limit (keys, key length) is
 * answered LATTICE with no addresses, as the actors answer a key over the limit (Anna's
 * error enum has no code for limits), and counted as a bad frame.
 */
import { keyBytes } from "../wire/key";
import { LISTENER_LIMITS, REPLY_POOL_OPTIONS } from "../protocol/zmtp/socket-limits";
import { ZmtpPullServer } from "../protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { AddressRequestFrame, readAddressRequestFrame } from "../protocol/key-frames";
import {
  AnnaError,
  encodeKeyAddressResponse,
  isUsableResponseAddress,
  KeyAddressRequest,
  KeyAddressResponse,
} from "../protocol/anna";
import type { ClusterPlacement } from "../routing/cluster-placement";
import type { RoutingCounters } from "./metrics";

/** Keys one KeyAddressRequest may ask about. */
export const KEYS_PER_ADDRESS_REQUEST_MAX = 10_000;
/** Address requests handed over at once; each is answered on its own. */
const FRAMES_PER_BATCH_MAX = 256;

export interface RoutingServiceOptions {
  bindAddress: string;
  /** The current placement (it changes with the cluster's layout): it answers for the whole cluster. */
  placement(): ClusterPlacement;
  maxFrameBytes: number;
  /** Longest key answered: the store's limit (--max-key-bytes), past which no actor takes the key. */
  maxKeyBytes: number;
  /** Client connections at once (--max-connections), and how long one may stay silent (--idle-timeout-ms; 0: forever). */
  maxConnections: number;
  idleTimeoutMs: number;
  onBadFrame(reason: string): void;
  /** A connection was refused at maxConnections; the reason names its peer. */
  onConnectionRefused(reason: string): void;
}

export class RoutingService {
  private readonly server: ZmtpPullServer;
  private readonly replies = new ZmtpPushPool(REPLY_POOL_OPTIONS);
  requestsAnswered = 0;
  badFrames = 0;
  connectionsRefused = 0;
  connectionsIdleClosed = 0;

  constructor(private readonly options: RoutingServiceOptions) {
    this.server = new ZmtpPullServer({
      maxFrameBytes: options.maxFrameBytes,
      ...LISTENER_LIMITS,
      maxConnections: options.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs,
      maxFramesPerBatch: FRAMES_PER_BATCH_MAX,
      onFrames: (frames) => {
        for (const frame of frames) this.handle(frame);
      },
      onBadPeer: (reason) => this.refuse(`client connection closed: ${reason}`),
      onConnectionRefused: (reason) => {
        this.connectionsRefused++;
        options.onConnectionRefused(reason);
      },
      onIdleClose: () => this.connectionsIdleClosed++,
    });
  }

  counters(): RoutingCounters {
    const { requestsAnswered, badFrames, connectionsRefused, connectionsIdleClosed } = this;
    return { requestsAnswered, badFrames, connectionsRefused, connectionsIdleClosed };
  }

  /** The address actually bound (resolves a `*` port). */
  get boundAddress(): string | undefined {
    return this.server.boundAddress;
  }

  async start(): Promise<void> {
    await this.server.bind(this.options.bindAddress);
  }

  /** The answer to a request, or its refusal when over a limit (counted as a bad frame). */
  private respond(request: AddressRequestFrame): KeyAddressResponse {
    const refused: KeyAddressResponse = { addresses: [], error: AnnaError.LATTICE, response_id: request.request_id };
    if (request.keyCount > KEYS_PER_ADDRESS_REQUEST_MAX) {
      this.refuse(`KeyAddressRequest of ${request.keyCount} keys (at most ${KEYS_PER_ADDRESS_REQUEST_MAX})`);
      return refused;
    }
    const keys = request.keys.map(keyBytes);
    const longestKeyBytes = keys.reduce((longest, key) => Math.max(longest, key.length), 0);
    if (longestKeyBytes > this.options.maxKeyBytes) {
      this.refuse(`KeyAddressRequest with a key of ${longestKeyBytes} bytes (at most ${this.options.maxKeyBytes})`);
      return refused;
    }
    return this.answer(request, keys);
  }

  /** The answer to a request within the limits, its keys' bytes in `keys`. */
  private answer(request: KeyAddressRequest, keys: Uint8Array[]): KeyAddressResponse {
    const placement = this.options.placement();
    const addresses = request.keys.map((key, i) => ({
      key,
      ips: placement.servingReplicas(keys[i], key).map((actor) => placement.requestAddress(actor)),
    }));
    if (addresses.some(({ ips }) => ips.length === 0)) {
      // No node serves (every one joining, leaving or dead): say so rather than hand out nothing.
      return { addresses: [], error: AnnaError.NO_SERVERS, response_id: request.request_id };
    }
    return { addresses, error: AnnaError.NO_ERROR, response_id: request.request_id };
  }

  async stop(deadlineMs: number): Promise<void> {
    await this.server.close();
    await this.replies.flush(deadlineMs);
    this.replies.close();
  }

  private refuse(reason: string): void {
    this.badFrames++;
    this.options.onBadFrame(reason);
  }

  private handle(frame: Uint8Array): void {
    let request: ReturnType<typeof readAddressRequestFrame>;
    try {
      request = readAddressRequestFrame(frame, KEYS_PER_ADDRESS_REQUEST_MAX);
    } catch (error) {
      this.refuse((error as Error).message);
      return;
    }
    if (!isUsableResponseAddress(request.response_address)) {
      this.refuse("KeyAddressRequest without a usable response_address");
      return;
    }
    this.replies.send(request.response_address, encodeKeyAddressResponse(this.respond(request)));
    this.requestsAnswered++;
  }
}
