/**
 * Write ids (docs/consistency.md §2.0): 16 bytes, big-endian: an 8-byte client tag (random
 * per AnnaClient), a u32 transaction number, a u32 write number. They break ties between
 * equal LWW stamps before the value bytes do, so every key orders two transactions alike
 * and every version is unique.
 */
import { randomBytes } from "node:crypto";

const WRITE_ID_BYTES = 16;
const CLIENT_TAG_BYTES = 8;
const U32_MAX = 0xffffffff;

/** Which transaction of which client: the first 12 bytes of its write ids. */
export interface TransactionTag {
  readonly clientTag: Uint8Array;
  readonly transactionNumber: number;
}

export function encodeWriteId(tag: TransactionTag, writeNumber: number): Uint8Array {
  if (tag.clientTag.length !== CLIENT_TAG_BYTES)
    throw new Error(`invariant: client tag of ${tag.clientTag.length} bytes`);
  if (!(Number.isInteger(writeNumber) && writeNumber >= 0 && writeNumber <= U32_MAX))
    throw new Error(`invariant: write number ${writeNumber} is not a u32`);
  const bytes = new Uint8Array(WRITE_ID_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(tag.clientTag, 0);
  view.setUint32(CLIENT_TAG_BYTES, tag.transactionNumber);
  view.setUint32(CLIENT_TAG_BYTES + 4, writeNumber);
  return bytes;
}

/** "tag-in-hex.number": how a transaction names itself (Transaction.id). */
export function transactionIdOf(tag: TransactionTag): string {
  return `${Buffer.from(tag.clientTag).toString("hex")}.${tag.transactionNumber}`;
}

/** One per AnnaClient: the client's tag and its transactions' numbers 1, 2, … */
export class TransactionNumbers {
  private clientTag: Uint8Array;
  private lastNumber = 0;

  constructor(private readonly randomTag: () => Uint8Array = () => randomBytes(CLIENT_TAG_BYTES)) {
    this.clientTag = randomTag();
  }

  next(): TransactionTag {
    // Numbers are u32: past the last, a fresh random tag keeps ids unique (with 2^-64 odds against).
    if (this.lastNumber === U32_MAX) {
      this.clientTag = this.randomTag();
      this.lastNumber = 0;
    }
    return { clientTag: this.clientTag, transactionNumber: ++this.lastNumber };
  }
}
