/**
 * Scripted stand-ins for a node's two client-facing services, over real ZeroMQ sockets,
 * for tests of what a client sends and how it takes an answer: a routing service whose
 * answers the test writes, and an actor that decodes every KeyRequest with protobufjs,
 * keeps it, and answers each tuple with the error the test chooses (or not at all).
 * Tests of what a node stores go to real nodes.
 */
import {
  AnnaError,
  decodeKeyRequest,
  encodeKeyAddressResponse,
  encodeKeyResponse,
  KeyRequest,
} from "../../src/protocol/anna";
import { readAddressRequestFrame } from "../../src/protocol/key-frames";
import { RawPeer } from "./raw-socket";

/** zeromq.js's receive timeout for "wait until a frame comes or the socket closes". */
const WAIT_FOREVER = -1;

/** Hands each frame `peer` receives to `answer`, sending back what it returns, until the peer closes. */
function serve(peer: RawPeer, answer: (frame: Uint8Array) => { address: string; frame: Uint8Array } | undefined): void {
  void (async () => {
    for (;;) {
      let frame: Uint8Array;
      try {
        frame = await peer.receive(WAIT_FOREVER);
      } catch {
        return; // closed
      }
      const reply = answer(frame);
      if (reply !== undefined) await peer.send(reply.address, reply.frame).catch(() => undefined);
    }
  })();
}

export interface ReceivedRequest {
  request: KeyRequest;
  /** put_acks as it was on the wire: undefined when the field was absent. */
  putAcks: number | undefined;
}

export class ScriptedActor {
  readonly received: ReceivedRequest[] = [];

  private constructor(private readonly peer: RawPeer) {}

  /** An actor answering every tuple of a request with `tupleError(request)`; undefined: no answer at all. */
  static async start(tupleError: (request: KeyRequest) => AnnaError | undefined): Promise<ScriptedActor> {
    const actor = new ScriptedActor(await RawPeer.open());
    serve(actor.peer, (frame) => {
      const request = decodeKeyRequest(frame);
      // protobufjs sets on the message only the fields the frame had; defaults come from its prototype.
      actor.received.push({ request, putAcks: Object.hasOwn(request, "put_acks") ? request.put_acks : undefined });
      const error = tupleError(request);
      if (error === undefined) return undefined;
      const tuples = request.tuples.map(({ key, lattice_type }) => ({ key, lattice_type, error }));
      return {
        address: request.response_address,
        frame: encodeKeyResponse({ type: request.type, tuples, response_id: request.request_id }),
      };
    });
    return actor;
  }

  get address(): string {
    return this.peer.replyAddress;
  }

  /** The requests that carried `key`. */
  requestsFor(key: string): ReceivedRequest[] {
    return this.received.filter(({ request }) => request.tuples.some((tuple) => tuple.key === key));
  }

  close(): void {
    this.peer.close();
  }
}

export class ScriptedRouting {
  /** Address lookups answered so far. */
  lookups = 0;

  private constructor(private readonly peer: RawPeer) {}

  /** A routing service answering lookup number `lookup` (from 0) with `replicas(lookup)` for every key. */
  static async start(replicas: (lookup: number) => string[]): Promise<ScriptedRouting> {
    const routing = new ScriptedRouting(await RawPeer.open());
    serve(routing.peer, (frame) => {
      const request = readAddressRequestFrame(frame);
      const ips = replicas(routing.lookups++);
      const addresses = request.keys.map((key) => ({ key, ips }));
      return {
        address: request.response_address,
        frame: encodeKeyAddressResponse({ addresses, error: AnnaError.NO_ERROR, response_id: request.request_id }),
      };
    });
    return routing;
  }

  get address(): string {
    return this.peer.replyAddress;
  }

  close(): void {
    this.peer.close();
  }
}
