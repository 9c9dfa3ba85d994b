/**
 * The routing service (Anna's routing thread): answers KeyAddressRequests with the
 * request addresses of the actors that hold each key, pushed to the request's
 * response_address.
 */
import * as zmq from "zeromq";
import { PushPool } from "../protocol/push-pool";
import {
  AnnaError,
  decodeKeyAddressRequest,
  encodeKeyAddressResponse,
  isUsableResponseAddress,
  KeyAddressRequest,
  KeyAddressResponse,
} from "../protocol/anna";
import type { LocalPlacement } from "../routing/placement";

const textEncoder = new TextEncoder();
/** Keys one KeyAddressRequest may ask about. */
export const MAX_KEYS_PER_ADDRESS_REQUEST = 10_000;

export interface RoutingServiceOptions {
  bindAddress: string;
  placement: LocalPlacement;
  /** Request address of each actor, by thread id. */
  actorAddresses: readonly string[];
  maxFrameBytes: number;
  onBadFrame(reason: string): void;
}

export class RoutingService {
  private readonly socket: zmq.Pull;
  private readonly replies = new PushPool({ maxSockets: 1024, idleCloseMs: 30_000, maxQueuedFrames: 10_000, lingerMs: 1000 });
  requestsAnswered = 0;
  badFrames = 0;

  constructor(private readonly options: RoutingServiceOptions) {
    this.socket = new zmq.Pull({ linger: 0, maxMessageSize: options.maxFrameBytes });
  }

  /** The address actually bound (resolves a `*` port). */
  get boundAddress(): string | null {
    return this.socket.lastEndpoint;
  }

  async start(): Promise<void> {
    await this.socket.bind(this.options.bindAddress);
    void this.serve();
  }

  answer(request: KeyAddressRequest): KeyAddressResponse {
    const { placement, actorAddresses } = this.options;
    if (actorAddresses.length === 0) {
      return { addresses: [], error: AnnaError.NO_SERVERS, response_id: request.request_id };
    }
    if (request.keys.length > MAX_KEYS_PER_ADDRESS_REQUEST) {
      return { addresses: [], error: AnnaError.LATTICE, response_id: request.request_id };
    }
    const addresses = request.keys.map((key) => ({
      key,
      ips: placement.replicas(textEncoder.encode(key), key).map((tid) => actorAddresses[tid]),
    }));
    return { addresses, error: AnnaError.NO_ERROR, response_id: request.request_id };
  }

  async stop(deadlineMs: number): Promise<void> {
    this.socket.close();
    await this.replies.flush(deadlineMs);
    this.replies.close();
  }

  private async serve(): Promise<void> {
    for (;;) {
      let frame: Uint8Array;
      try {
        [frame] = await this.socket.receive();
      } catch {
        if (this.socket.closed) return;
        continue;
      }
      this.handle(frame);
    }
  }

  private handle(frame: Uint8Array): void {
    let request: KeyAddressRequest;
    try {
      request = decodeKeyAddressRequest(frame);
    } catch (error) {
      this.badFrames++;
      this.options.onBadFrame((error as Error).message);
      return;
    }
    if (!isUsableResponseAddress(request.response_address)) {
      this.badFrames++;
      this.options.onBadFrame("KeyAddressRequest without a usable response_address");
      return;
    }
    this.replies.send(request.response_address, encodeKeyAddressResponse(this.answer(request)));
    this.requestsAnswered++;
  }
}
