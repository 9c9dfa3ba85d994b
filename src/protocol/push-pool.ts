/**
 * Outgoing zeromq.js PUSH sockets by address (outlet-pool.ts): the requests of AnnaClient
 * and the CLI, on main threads only (actors speak ZMTP; see src/actor/actor.ts). zeromq.js
 * allows one pending send per socket, so each socket has a queue that one drain loop
 * empties in order.
 */
import * as zmq from "zeromq";
import { OutletPool } from "./outlet-pool";

export interface PushPoolOptions {
  maxSockets: number;
  idleCloseMs: number;
  /** Frames queued per address before new ones are dropped (the peer is not reading). */
  maxQueuedFrames: number;
  /** How long close() waits for queued frames to leave, in ms. */
  lingerMs: number;
}

interface SocketOutlet {
  socket: zmq.Push;
  queue: Uint8Array[];
  draining: boolean;
  lastUsedMs: number;
}

export class PushPool extends OutletPool<SocketOutlet> {
  constructor(private readonly options: PushPoolOptions) {
    super({ maxSockets: options.maxSockets, idleCloseMs: options.idleCloseMs, maxQueued: options.maxQueuedFrames });
  }

  protected connect(address: string): SocketOutlet | undefined {
    // libzmq connects over IPv4 only unless told otherwise: an IPv6 literal needs the option.
    const socket = new zmq.Push({
      linger: this.options.lingerMs,
      sendHighWaterMark: 10000,
      ipv6: address.startsWith("tcp://["),
    });
    try {
      socket.connect(address);
    } catch {
      this.sendErrors++;
      socket.close();
      return undefined;
    }
    return { socket, queue: [], draining: false, lastUsedMs: Date.now() };
  }

  protected enqueue(outlet: SocketOutlet, frame: Uint8Array, copy: boolean, tail?: Uint8Array): void {
    if (tail === undefined) outlet.queue.push(copy ? frame.slice() : frame);
    else outlet.queue.push(Buffer.concat([frame, tail]));
    if (!outlet.draining) void this.drain(outlet);
  }

  protected queued(outlet: SocketOutlet): number {
    return outlet.queue.length;
  }

  protected closeOutlet(outlet: SocketOutlet): void {
    outlet.socket.close();
  }

  private async drain(outlet: SocketOutlet): Promise<void> {
    outlet.draining = true;
    try {
      while (outlet.queue.length > 0 && !outlet.socket.closed) {
        const frame = outlet.queue[0];
        try {
          await outlet.socket.send(frame);
        } catch {
          this.sendErrors++;
        }
        outlet.queue.shift();
      }
    } finally {
      outlet.draining = false;
    }
  }
}
