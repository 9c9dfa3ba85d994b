/**
 * Where a transaction's writes go: to the store at once (read uncommitted), or into a
 * buffer that the commit sends in one call (read committed, item cut).
 */
import { LatticeType } from "../lattices/lattice-type";
import { encodeLww } from "../lattices/values";
import { bufferEntryBytes } from "./buffer-budget";
import { ConsistencyError } from "./errors";
import type { TransactionContext, TransactionWrites, WritesCommitted } from "./transaction";
import type { PutOutcome, PutTuple } from "./transport";
import { encodeWriteId } from "./write-id";

const WRITE_NUMBER_MAX = 0xffffffff;

/**
 * Read uncommitted (docs/consistency.md §2.3): each put is sent at once, all with the one
 * stamp taken at the first put, so that every key orders two transactions alike (no G0).
 * Write numbers 1, 2, … make a key's last put in the transaction win over its earlier ones.
 */
export class ImmediateWrites implements TransactionWrites {
  private stamp: bigint | undefined;
  private lastWriteNumber = 0;
  /** Per key, the outcome of its last put: that write outranks the key's earlier ones, so it decides the key. */
  private readonly outcomes = new Map<string, PutOutcome>();

  constructor(private readonly context: TransactionContext) {}

  pending(): undefined {
    return undefined;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const { core, isolation, tag, id } = this.context;
    if (this.lastWriteNumber === WRITE_NUMBER_MAX) {
      throw new ConsistencyError(
        "TRANSACTION_LIMIT",
        isolation,
        `${isolation}: transaction ${id} has made ${WRITE_NUMBER_MAX} writes, as many as write numbers count`,
      );
    }
    this.stamp ??= core.stampFor([key], 0n, isolation);
    core.checkFollowsReads(key, this.stamp);
    const writeId = encodeWriteId(tag, this.lastWriteNumber + 1);
    const put = { key, type: LatticeType.LWW, payload: encodeLww({ timestamp: this.stamp, value, writeId }) };
    this.lastWriteNumber += 1;
    const outcome = (await core.write([put])).get(key)!;
    this.outcomes.set(key, outcome);
    if (outcome.status !== "applied") throw outcome.error;
  }

  async commit(): Promise<WritesCommitted> {
    return { stamp: this.outcomes.size === 0 ? undefined : this.stamp, outcomes: this.outcomes };
  }

  abort(): void {
    // What was sent stays: read uncommitted cannot take a write back (G1a).
  }
}

/** A buffer's writes as a commit sends them: one stamp and one write id for all. */
export interface StampedWrites {
  stamp: bigint;
  writeId: Uint8Array;
  writes: ReadonlyMap<string, Uint8Array>;
}

/**
 * Read committed and item cut (docs/consistency.md §2.4): puts wait in a buffer, the last
 * put to a key winning, and the commit sends them all with one stamp above every stamp the
 * transaction read. Only final writes ever leave the client (no G1b), and an abort sends
 * nothing (no G1a). Read atomic's writes (read-atomic-writes.ts) buffer and stamp here too.
 */
export class BufferedWrites implements TransactionWrites {
  private readonly buffer = new Map<string, Uint8Array>();

  constructor(private readonly context: TransactionContext) {}

  pending(key: string): Uint8Array | undefined {
    return this.buffer.get(key);
  }

  get keyCount(): number {
    return this.buffer.size;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const previous = this.buffer.get(key);
    const growth = bufferEntryBytes(key, value.length) - (previous ? bufferEntryBytes(key, previous.length) : 0);
    this.context.budget.charge(key, growth);
    this.buffer.set(key, value);
  }

  /** The buffer with the commit's stamp, above every stamp read; undefined when it is empty. */
  stamped(readStampMax: bigint): StampedWrites | undefined {
    if (this.buffer.size === 0) return undefined;
    const { core, isolation, tag } = this.context;
    // Above every stamp read, every wr edge raises the stamp as every ww edge does: no cycle of them (no G1c).
    const stamp = core.stampFor(this.buffer.keys(), readStampMax, isolation);
    return { stamp, writeId: encodeWriteId(tag, 0), writes: this.buffer };
  }

  async commit(readStampMax: bigint): Promise<WritesCommitted> {
    const stamped = this.stamped(readStampMax);
    if (stamped === undefined) return { stamp: undefined, outcomes: new Map() };
    const { stamp, writeId, writes } = stamped;
    const puts: PutTuple[] = [];
    for (const [key, value] of writes) {
      puts.push({ key, type: LatticeType.LWW, payload: encodeLww({ timestamp: stamp, value, writeId }) });
    }
    return { stamp, outcomes: await this.context.core.write(puts) };
  }

  abort(): void {
    this.buffer.clear();
  }
}
