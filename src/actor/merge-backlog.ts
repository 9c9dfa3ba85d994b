/**
 * The merges an actor owes: values from other replicas that its store refused for memory
 * (OUT_OF_MEMORY at its limit). While it owes any, the actor is a degraded replica: those
 * keys may be missing or older here than on the replicas that acknowledged them. The
 * refused records are kept (copies, at most MERGE_BACKLOG_BYTES_MAX in all) and merged
 * again when room may have freed (handlers/gossip.ts). Past that cap only the key is
 * remembered, its value dropped and left to anti-entropy (actor/anti-entropy.ts), which
 * sends every bucket whose digests differ again each period; past MERGE_BACKLOG_KEYS_MAX
 * keys not even the key is kept. Either way the drop is counted and logged.
 */
import { RECORD_HEADER_BYTES, StoreRecord } from "../core/batch";
import { mergePayloads } from "../lattices/merge";

/** Bytes of owed records held per actor (keys and values), beyond its store's own memory. */
export const MERGE_BACKLOG_BYTES_MAX = 16 * 1024 * 1024;
/** Owed keys remembered per actor, with or without their values. */
export const MERGE_BACKLOG_KEYS_MAX = 65_536;
/** Held records are merged again this often while the store does not shrink, and at once when it does. */
export const MERGE_RETRY_INTERVAL_MS = 1000;

export type OweOutcome = "held" | "value-dropped" | "key-dropped";

function recordBytes(record: StoreRecord): number {
  return RECORD_HEADER_BYTES + record.key.length + record.payload.length;
}

/** A one-to-one string for the key's bytes, so that a Map can index them. */
function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString("latin1");
}

export class MergeBacklog {
  /** Owed keys: the record still to merge, or undefined once its value was dropped. */
  private readonly owed = new Map<string, StoreRecord | undefined>();
  private heldBytes = 0;
  /** Values (with or without their keys) not kept, past the caps: left to anti-entropy. */
  valuesDropped = 0;
  private lastRetryMs = -Infinity;
  /** The store's bytes used when a merge last failed: less than that means room freed. */
  private bytesUsedAtFailure = Infinity;

  constructor(
    private readonly bytesMax: number = MERGE_BACKLOG_BYTES_MAX,
    private readonly keysMax: number = MERGE_BACKLOG_KEYS_MAX,
  ) {}

  /** Keys owed: the degraded-replica count. */
  get keyCount(): number {
    return this.owed.size;
  }

  get bytesHeld(): number {
    return this.heldBytes;
  }

  /**
   * Remembers a record the store refused for memory (its key and payload copied, as the
   * caller's are views into a frame); one already owed for the key is joined with it.
   */
  owe(record: StoreRecord, bytesUsed: number): OweOutcome {
    this.bytesUsedAtFailure = Math.min(this.bytesUsedAtFailure, bytesUsed);
    const name = keyString(record.key);
    const held = this.owed.get(name);
    if (!this.owed.has(name) && this.owed.size >= this.keysMax) {
      this.valuesDropped++;
      return "key-dropped";
    }
    const kept = held === undefined ? record : joinRecords(held, record);
    if (held !== undefined) this.heldBytes -= recordBytes(held);
    if (this.heldBytes + recordBytes(kept) > this.bytesMax) {
      this.owed.set(name, undefined);
      this.valuesDropped++;
      return "value-dropped";
    }
    // A join is the held copy, or a fresh array (mergePayloads never aliases its incoming payload).
    // new Uint8Array copies where a frame's slice() would not: a Buffer's slice is a view.
    this.owed.set(
      name,
      kept === record
        ? { type: record.type, key: new Uint8Array(record.key), payload: new Uint8Array(record.payload) }
        : kept,
    );
    this.heldBytes += recordBytes(kept);
    return "held";
  }

  /** A value of the key was merged: a key owed without its value is settled by it (a record held is merged in its turn). */
  merged(key: Uint8Array): void {
    if (this.owed.size === 0) return;
    const name = keyString(key);
    if (this.owed.has(name) && this.owed.get(name) === undefined) this.owed.delete(name);
  }

  /** Whether the held records should be merged again now: the store shrank since a merge failed, or a retry interval passed. */
  retryDue(nowMs: number, bytesUsed: number): boolean {
    if (this.heldBytes === 0) return false;
    return bytesUsed < this.bytesUsedAtFailure || nowMs - this.lastRetryMs >= MERGE_RETRY_INTERVAL_MS;
  }

  /** Takes the held records out for a retry (their keys are no longer owed until owed again). */
  takeHeld(nowMs: number): StoreRecord[] {
    this.lastRetryMs = nowMs;
    this.bytesUsedAtFailure = Infinity;
    const records: StoreRecord[] = [];
    for (const [name, record] of this.owed) {
      if (record === undefined) continue;
      records.push(record);
      this.owed.delete(name);
    }
    this.heldBytes = 0;
    return records;
  }
}

/** The join of two records of one key; the held one when their types conflict (the store would refuse the other). */
function joinRecords(held: StoreRecord, incoming: StoreRecord): StoreRecord {
  if (held.type !== incoming.type) return held;
  const payload = mergePayloads(held.type, held.payload, incoming.payload);
  return payload === null ? held : { type: held.type, key: held.key, payload };
}
