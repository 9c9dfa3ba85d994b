/**
 * Read atomic's writes (docs/consistency.md §2.6): buffered and stamped as read committed's
 * (BufferedWrites), then committed in two steps. The prepare puts every version in its
 * key's window, invisible; only once every prepare is acknowledged does the commit make
 * them visible. So a reader that finds one key of the transaction committed can count on
 * the version of every other key being in some replica's window (RAMP-Fast).
 */
import { WRITE_SET_KEY_BYTES_MAX, WRITE_SET_KEYS_MAX } from "../lattices/lww";
import type { LwwVersionValue } from "../lattices/values";
import { CommitError, ConsistencyError } from "./errors";
import { commitPut, preparePut } from "./read-atomic";
import type { TransactionContext, TransactionWrites, WritesCommitted } from "./transaction";
import { BufferedWrites } from "./transaction-writes";
import type { KeyTransport, PutOutcome, PutTuple } from "./transport";

/** How long an unknown commit is resent in the background; readers repair what it misses. */
export const COMMIT_RESEND_MS_MAX = 30_000;
const RESEND_DELAY_MS_MIN = 20;
const RESEND_DELAY_MS_MAX = 2_000;

const encoder = new TextEncoder();

/** A transaction's versions, one per key written. */
type Versions = ReadonlyMap<string, LwwVersionValue>;

export class AtomicWrites implements TransactionWrites {
  private readonly buffer: BufferedWrites;

  constructor(
    protected readonly context: TransactionContext,
    private readonly prepareAcks: number,
  ) {
    this.buffer = new BufferedWrites(context);
  }

  pending(key: string): Uint8Array | undefined {
    return this.buffer.pending(key);
  }

  /** TRANSACTION_LIMIT past 64 keys or a key of over 1024 bytes: every value carries the write set. */
  async put(key: string, value: Uint8Array): Promise<void> {
    const { isolation, id } = this.context;
    if (this.buffer.pending(key) === undefined && this.buffer.keyCount === WRITE_SET_KEYS_MAX) {
      throw new ConsistencyError(
        "TRANSACTION_LIMIT",
        isolation,
        `${isolation}: transaction ${id} writes ${WRITE_SET_KEYS_MAX} keys already, as many as a write set holds`,
      );
    }
    const keyBytes = encoder.encode(key).length;
    if (keyBytes > WRITE_SET_KEY_BYTES_MAX) {
      throw new ConsistencyError(
        "TRANSACTION_LIMIT",
        isolation,
        `${isolation}: a write-set key is at most ${WRITE_SET_KEY_BYTES_MAX} bytes, and ${JSON.stringify(key.slice(0, 32))}… has ${keyBytes}`,
      );
    }
    await this.buffer.put(key, value);
  }

  abort(): void {
    this.buffer.abort();
  }

  /** Rejects COMMIT_FAILED when a prepare was not acknowledged: then nothing became visible. */
  async commit(readStampMax: bigint): Promise<WritesCommitted> {
    const stamped = this.buffer.stamped(readStampMax);
    if (stamped === undefined) return { stamp: undefined, outcomes: new Map() };
    const { stamp, writeId, writes } = stamped;
    const writeSet = [...writes.keys()];
    const versions = new Map<string, LwwVersionValue>();
    for (const [key, value] of writes)
      versions.set(key, { timestamp: stamp, writeId, value, writeSet, committed: true });
    await this.prepare(versions);
    const commits = [...versions].map(([key, version]) => commitPut(key, version));
    const outcomes = await this.context.core.write(commits);
    const unknown = commits.filter(({ key }) => outcomes.get(key)!.status === "unknown");
    if (unknown.length > 0) resendInBackground(this.context.core.context.transport, unknown);
    return { stamp, outcomes, unknownNote: `resent in the background for up to ${COMMIT_RESEND_MS_MAX} ms` };
  }

  /** Puts every version in its key's window, not committed; COMMIT_FAILED unless each is acknowledged. */
  protected async prepare(versions: Versions): Promise<void> {
    const { core, isolation, id } = this.context;
    const prepares = [...versions].map(([key, version]) => preparePut(key, version));
    const outcomes = await core.write(prepares, { acks: this.prepareAcks });
    const failed = [...outcomes].filter(([, outcome]) => outcome.status !== "applied");
    if (failed.length === 0) return;
    const [firstKey, firstOutcome] = failed[0] as [string, Exclude<PutOutcome, { status: "applied" }>];
    // Prepared versions are invisible: nothing is visible, and what was prepared ages out of the windows.
    throw new CommitError(
      "COMMIT_FAILED",
      isolation,
      `${isolation}: transaction ${id} made nothing visible: ${failed.length} of ${versions.size} prepares ` +
        `were not acknowledged; first, ${JSON.stringify(firstKey)}: ${firstOutcome.error.message}`,
      [],
      [...versions.keys()],
      [],
    );
  }
}

/**
 * Resends commits whose outcome is unknown until each is applied or refused, for at most
 * COMMIT_RESEND_MS_MAX; a commit is a join, so a second copy changes nothing. Timers are
 * unref'd: a resend never keeps a process alive.
 */
function resendInBackground(transport: KeyTransport, commits: readonly PutTuple[]): void {
  const deadline = Date.now() + COMMIT_RESEND_MS_MAX;
  let remaining = commits;
  let delayMs = RESEND_DELAY_MS_MIN;
  const attempt = async (): Promise<void> => {
    const outcomes = await transport.putManySettled(remaining).catch(() => undefined);
    remaining = remaining.filter(({ key }) => (outcomes?.get(key)?.status ?? "unknown") === "unknown");
    if (remaining.length === 0 || Date.now() + delayMs > deadline) return;
    schedule();
  };
  const schedule = () => {
    setTimeout(() => void attempt(), delayMs).unref();
    delayMs = Math.min(2 * delayMs, RESEND_DELAY_MS_MAX);
  };
  schedule();
}
