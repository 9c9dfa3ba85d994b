/** Raw ZeroMQ access for protocol tests: send any bytes to a node, read its replies. */
import * as zmq from "zeromq";
import { decodeKeyResponse, encodeKeyRequest, KeyResponse, KeyTuple, RequestType } from "../../src/protocol/anna";

export class RawPeer {
  private readonly replies = new zmq.Pull({ linger: 0 });
  private readonly outlets = new Map<string, zmq.Push>();
  private requestCounter = 0;

  static async open(): Promise<RawPeer> {
    const peer = new RawPeer();
    await peer.replies.bind("tcp://127.0.0.1:*");
    return peer;
  }

  get replyAddress(): string {
    return this.replies.lastEndpoint!;
  }

  /** Rejects (EAGAIN) if the frame cannot be queued within 2 s, e.g. once the node is gone. */
  async send(address: string, frame: Uint8Array): Promise<void> {
    let socket = this.outlets.get(address);
    if (socket === undefined) {
      socket = new zmq.Push({ linger: 0, sendTimeout: 2000 });
      socket.connect(address);
      this.outlets.set(address, socket);
    }
    await socket.send(frame);
  }

  /** The next reply frame, or an error after `timeoutMs`. */
  async receive(timeoutMs = 5000): Promise<Uint8Array> {
    this.replies.receiveTimeout = timeoutMs;
    const [frame] = await this.replies.receive();
    return frame;
  }

  /**
   * Sends one KeyRequest of `tuples` to an actor and resolves with its response, skipping
   * replies to earlier requests (one caller at a time: replies share this peer's socket).
   */
  async request(address: string, type: RequestType, tuples: KeyTuple[]): Promise<KeyResponse> {
    const requestId = `raw-${++this.requestCounter}`;
    await this.send(
      address,
      encodeKeyRequest({ type, tuples, response_address: this.replyAddress, request_id: requestId }),
    );
    for (;;) {
      const response = decodeKeyResponse(await this.receive());
      if (response.response_id === requestId) return response;
    }
  }

  close(): void {
    this.replies.close();
    for (const socket of this.outlets.values()) socket.close();
  }
}
