/**
 * How an annakv worker's routed requests reach its core (issue #16): each batch of the
 * timed loop is written into the store's input region by one of two feeds.
 *
 * - `copied`: every op is written whole, its 1 KiB payload copied from the worker's value
 *   pool into the input region; the core then copies it again, into the store.
 * - `resident`: the requests' bytes stay in the input region, as a server reading its
 *   sockets straight into the core would leave them; each batch writes only what changes
 *   from request to request (op header, key, timestamp), and the core's copy into the store
 *   is the value's only one, as the shared table's is. The node does not read sockets into
 *   the core today (docs/performance.md): this feed is the model of a server that would.
 *
 * A resident payload stays valid while every op of a batch lies where it lay in the last
 * one: in an update-only stream every batch has the same layout. A GET shifts the ops after
 * it, so from the first GET on (and after anything else wrote the input region, such as
 * gossip) payloads are copied again, as the copied feed does.
 */
import { BATCH_HEADER_BYTES, Opcode, opBytes, writeBatchHeader, writeOpHeader } from "../../src/core/batch";
import type { Store } from "../../src/core/store";
import { LatticeType } from "../../src/lattices/lattice-type";
import { copyBytes } from "../../src/wire/protobuf";
import { KeySpace, writeTimestamp } from "../workload";
import { GET_FLAG, KEY_INDEX_MASK, LWW_TIMESTAMP_OFFSET, VALUE_POOL_SIZE } from "./requests";

export const REQUEST_FEEDS = ["copied", "resident"] as const;
export type RequestFeedName = (typeof REQUEST_FEEDS)[number];

export class RequestFeed {
  private readonly batchBytes: number;
  private readonly payloadBytes: number;
  /** Requests written so far; the next batch starts at requests[next]. */
  private next = 0;
  /** Whether the last batch left every op's payload where the next batch's PUTs put theirs. */
  private payloadsInPlace = false;
  /** Where the last batch lay in the store's memory (it moves if the input region is reallocated). */
  private lastRegionOffset = -1;
  /** PUTs in the last batch written. */
  putCount = 0;

  /**
   * `payloads[i % VALUE_POOL_SIZE]` is the i-th op's payload in every batch (an LWW value
   * whose timestamp the feed stamps), whichever feed writes it.
   */
  constructor(
    readonly name: RequestFeedName,
    private readonly store: Store,
    private readonly keys: KeySpace,
    private readonly payloads: readonly Uint8Array[],
    private readonly requests: Uint32Array,
    private readonly batchOps: number,
  ) {
    if (requests.length === 0) throw new RangeError("a feed needs requests");
    this.payloadBytes = payloads[0].length;
    if (!payloads.every((payload) => payload.length === this.payloadBytes))
      throw new RangeError("a feed's payloads must be of one length");
    this.batchBytes = BATCH_HEADER_BYTES + batchOps * opBytes(keys.keyBytes, this.payloadBytes);
  }

  /** Something else wrote the input region (gossip merges, reads): payloads are copied again. */
  forget(): void {
    this.payloadsInPlace = false;
  }

  /**
   * Writes the next `batchOps` requests as one batch into the store's input region, the k-th
   * PUT stamped `firstTimestamp + k * timestampStep`; returns the batch's length in bytes
   * (for executeBatchInPlace) and leaves the PUTs written in `putCount`.
   */
  writeBatch(firstTimestamp: number, timestampStep: number): number {
    const bytes = this.store.batchBuffer(this.batchBytes);
    if (bytes.byteOffset !== this.lastRegionOffset) this.payloadsInPlace = false;
    this.lastRegionOffset = bytes.byteOffset;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { requests, payloads, payloadBytes } = this;
    const keyBytes = this.keys.keyBytes;
    const keySource = this.keys.bytes;
    let inPlace = this.payloadsInPlace;
    let next = this.next;
    let offset = BATCH_HEADER_BYTES;
    let puts = 0;
    for (let i = 0; i < this.batchOps; i++) {
      const entry = requests[next];
      next = next + 1 === requests.length ? 0 : next + 1;
      const isGet = (entry & GET_FLAG) !== 0;
      const keyAt = writeOpHeader(
        view,
        offset,
        isGet ? Opcode.GET : Opcode.PUT,
        LatticeType.LWW,
        keyBytes,
        isGet ? 0 : payloadBytes,
      );
      const keyStart = (entry & KEY_INDEX_MASK) * keyBytes;
      copyBytes(keySource, keyStart, keyBytes, bytes, keyAt);
      offset = keyAt + keyBytes;
      if (isGet) {
        inPlace = false;
        continue;
      }
      if (!inPlace) bytes.set(payloads[i % VALUE_POOL_SIZE], offset);
      writeTimestamp(bytes, offset + LWW_TIMESTAMP_OFFSET, firstTimestamp + puts++ * timestampStep);
      offset += payloadBytes;
    }
    writeBatchHeader(view, this.batchOps);
    this.next = next;
    this.putCount = puts;
    // Only a batch of PUTs alone leaves each op's payload where the same op of the next lies.
    this.payloadsInPlace = this.name === "resident" && puts === this.batchOps;
    return offset;
  }

  /** The request the next batch starts with (an index into `requests`). */
  get nextRequest(): number {
    return this.next;
  }
}
