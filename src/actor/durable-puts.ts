/**
 * Acknowledged writes (docs/cluster.md, "Acknowledged writes"): a PUT that asks for N
 * replica nodes (KeyRequest `put_acks`, or the node's --put-acks) is answered only once
 * N − 1 other nodes serving the key hold its merged value. The actor sends each key's
 * merged record at once, as a HANDOFF, to the primary actor of every other serving-replica
 * node, and holds the KeyResponse until enough have acknowledged. Past the timeout, or
 * when the key has fewer other replica nodes than asked, its tuple is answered TIMEOUT:
 * the value stays and gossips, and the client knows it is not yet that durable.
 */
import { keyName } from "../wire/key";
import { AnnaError, decodeKeyResponse, encodeKeyResponse } from "../protocol/anna";
import type { CopyingFrameSink } from "../protocol/outlet-pool";
import { currentRecord, GossipContext } from "./gossip-context";
import { cancelHandoff, sendHandoff } from "./handlers/replication";

/** PUTs waiting for acknowledgements at once, at most; past it, new ones are answered TIMEOUT at once. */
const WAITING_PUTS_MAX = 10_000;

export interface DurablePutOptions {
  /** Replica nodes a PUT must reach when its request does not say (--put-acks). */
  defaultPutAcks: number;
  timeoutMs: number;
}

interface WaitingPut {
  responseAddress: string;
  response: Uint8Array;
  /** Per key of the request that still waits: acknowledgements still needed. */
  needed: Map<string, number>;
  /** Keys answered TIMEOUT already (too few replica nodes). */
  shortKeys: Set<string>;
  handoffIds: number[];
  timer: NodeJS.Timeout;
}

export class DurablePuts {
  private readonly waiting = new Set<WaitingPut>();

  constructor(
    private readonly options: DurablePutOptions,
    private readonly gossip: () => GossipContext,
    private readonly replies: CopyingFrameSink,
  ) {}

  /** The replica nodes a PUT request asks for: its own `put_acks`, or the node's default. */
  acksWanted(requestPutAcks: number): number {
    return requestPutAcks > 0 ? requestPutAcks : this.options.defaultPutAcks;
  }

  /**
   * Holds `response` (copied) until each of `keys`, already merged here, is held by
   * `acks` − 1 other replica nodes, then sends it, with TIMEOUT on the tuples of keys that
   * fell short.
   */
  defer(responseAddress: string, response: Uint8Array, keys: readonly Uint8Array[], acks: number): void {
    const context = this.gossip();
    const entry: WaitingPut = {
      responseAddress,
      response: response.slice(),
      needed: new Map(),
      shortKeys: new Set(),
      handoffIds: [],
      timer: undefined!,
    };
    const partsByAddress = new Map<string, { parts: Uint8Array[]; names: string[] }>();
    for (const key of keys) {
      const name = keyName(key);
      const destinations = context.placement.otherReplicaNodePrimaries(key, name);
      const record = currentRecord(context.store, key);
      if (destinations.length < acks - 1 || record === undefined || this.waiting.size >= WAITING_PUTS_MAX) {
        entry.shortKeys.add(name);
        continue;
      }
      entry.needed.set(name, acks - 1);
      for (const actor of destinations) {
        const address = context.gossipAddress(actor);
        let batch = partsByAddress.get(address);
        if (batch === undefined) partsByAddress.set(address, (batch = { parts: [], names: [] }));
        batch.parts.push(record);
        batch.names.push(name);
      }
    }
    if (entry.needed.size === 0) {
      this.finish(entry);
      return;
    }
    this.waiting.add(entry);
    entry.timer = setTimeout(() => this.finish(entry), this.options.timeoutMs);
    for (const [address, batch] of partsByAddress) {
      entry.handoffIds.push(
        sendHandoff(context, batch.parts, [address], undefined, () => this.acknowledged(entry, batch.names)),
      );
    }
  }

  /** Answers every waiting PUT as it stands (TIMEOUT where short): at shutdown. */
  finishAll(): void {
    for (const entry of [...this.waiting]) this.finish(entry);
  }

  private acknowledged(entry: WaitingPut, names: readonly string[]): void {
    for (const name of names) {
      const left = entry.needed.get(name);
      if (left === undefined) continue;
      if (left <= 1) entry.needed.delete(name);
      else entry.needed.set(name, left - 1);
    }
    if (entry.needed.size === 0) this.finish(entry);
  }

  private finish(entry: WaitingPut): void {
    if (this.waiting.has(entry)) {
      this.waiting.delete(entry);
      clearTimeout(entry.timer);
      const context = this.gossip();
      for (const id of entry.handoffIds) cancelHandoff(context, id);
    }
    const short = new Set([...entry.shortKeys, ...entry.needed.keys()]);
    this.replies.sendCopy(
      entry.responseAddress,
      short.size === 0 ? entry.response : withTimeouts(entry.response, short),
    );
  }
}

/** The response with TIMEOUT on the tuples of the keys named. */
function withTimeouts(response: Uint8Array, keys: ReadonlySet<string>): Uint8Array {
  const decoded = decodeKeyResponse(response);
  for (const tuple of decoded.tuples) if (keys.has(tuple.key)) tuple.error = AnnaError.TIMEOUT;
  return encodeKeyResponse(decoded);
}
