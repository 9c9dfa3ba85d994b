/**
 * The routing service (Anna's routing thread): answers KeyAddressRequests with the
 * request addresses of the actors that serve each key, on every node of the cluster,
 * pushed to the request's response_address.
 */
import { keyBytes } from "../core/key";
import { LISTENER_LIMITS, REPLY_POOL_OPTIONS } from "../protocol/zmtp/socket-limits";
import { ZmtpPullServer } from "../protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { readAddressRequestFrame } from "../protocol/key-frames";
import {
  AnnaError,
  encodeKeyAddressResponse,
  isUsableResponseAddress,
  KeyAddressRequest,
  KeyAddressResponse,
} from "../protocol/anna";
import type { ClusterPlacement } from "../routing/cluster-placement";

/** Keys one KeyAddressRequest may ask about. */
export const MAX_KEYS_PER_ADDRESS_REQUEST = 10_000;
/** Address requests handed over at once; each is answered on its own. */
const MAX_FRAMES_PER_BATCH = 256;

export interface RoutingServiceOptions {
  bindAddress: string;
  /** The current placement (it changes with the cluster's layout): it answers for the whole cluster. */
  placement(): ClusterPlacement;
  maxFrameBytes: number;
  onBadFrame(reason: string): void;
}

export class RoutingService {
  private readonly server: ZmtpPullServer;
  private readonly replies = new ZmtpPushPool(REPLY_POOL_OPTIONS);
  requestsAnswered = 0;
  badFrames = 0;

  constructor(private readonly options: RoutingServiceOptions) {
    this.server = new ZmtpPullServer({
      maxFrameBytes: options.maxFrameBytes,
      ...LISTENER_LIMITS,
      maxFramesPerBatch: MAX_FRAMES_PER_BATCH,
      onFrames: (frames) => {
        for (const frame of frames) this.handle(frame);
      },
      onBadPeer: (reason) => this.refuse(`client connection closed: ${reason}`),
    });
  }

  /** The address actually bound (resolves a `*` port). */
  get boundAddress(): string | undefined {
    return this.server.boundAddress;
  }

  async start(): Promise<void> {
    await this.server.bind(this.options.bindAddress);
  }

  /** The answer to a request of at most MAX_KEYS_PER_ADDRESS_REQUEST keys. */
  private answer(request: KeyAddressRequest): KeyAddressResponse {
    const placement = this.options.placement();
    const addresses = request.keys.map((key) => ({
      key,
      ips: placement.servingReplicas(keyBytes(key), key).map((actor) => placement.requestAddress(actor)),
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
      request = readAddressRequestFrame(frame, MAX_KEYS_PER_ADDRESS_REQUEST);
    } catch (error) {
      this.refuse((error as Error).message);
      return;
    }
    if (!isUsableResponseAddress(request.response_address)) {
      this.refuse("KeyAddressRequest without a usable response_address");
      return;
    }
    // More keys than allowed: refused whole, the keys past the bound unread.
    const response: KeyAddressResponse =
      request.keyCount <= MAX_KEYS_PER_ADDRESS_REQUEST ? this.answer(request) : { addresses: [], error: AnnaError.LATTICE, response_id: request.request_id };
    this.replies.send(request.response_address, encodeKeyAddressResponse(response));
    this.requestsAnswered++;
  }
}
