/** The bytes a transaction holds in its write buffer and read cache together, within `maxBufferBytes`. */
import { ConsistencyError } from "./errors";
import type { Isolation } from "./options";

/** What an entry of key and value costs: the key's UTF-16 and the value's bytes. */
export function bufferEntryBytes(key: string, valueBytes: number): number {
  return 2 * key.length + valueBytes;
}

export class BufferBudget {
  private usedBytes = 0;

  constructor(
    private readonly maxBufferBytes: number,
    private readonly isolation: Isolation,
    private readonly transactionId: string,
  ) {}

  /** Takes `bytes` for `key` (a negative number gives some back); TRANSACTION_LIMIT, taking nothing, past the limit. */
  charge(key: string, bytes: number): void {
    const total = this.usedBytes + bytes;
    if (total > this.maxBufferBytes) {
      throw new ConsistencyError(
        "TRANSACTION_LIMIT",
        this.isolation,
        `${this.isolation}: transaction ${this.transactionId} would hold ${total} bytes with ${JSON.stringify(key)}, over maxBufferBytes (${this.maxBufferBytes})`,
      );
    }
    if (total < 0) throw new Error(`invariant: a transaction's buffer of ${total} bytes`);
    this.usedBytes = total;
  }
}
