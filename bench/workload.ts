/**
 * Seeded workloads shared by the benchmarks: keys, LWW payloads, uniform and Zipf key
 * choice. Everything here runs before timing starts, so the timed code only replays it.
 */

import { Random } from "../test/support/random";

/**
 * The test suite's seeded PRNG (mulberry32): every run replays the same operations. A
 * constant, not `export { Random as Prng } from ...`: in the CommonJS the benches run as,
 * that re-export is a getter on this module's exports object, and V8 then stopped
 * inlining calls to its other exports; writeTimestamp in the scaling bench's batch loop
 * cost ~12 ns an op more (a batch's JavaScript: ~32 instead of ~20 ns an op on the 2-core VM).
 */
export const Prng = Random;
export type Prng = Random;

/**
 * Picks key indexes 0..keyCount-1, rank i with weight 1/(i+1)^skew (skew 0 = uniform),
 * by binary search over the cumulative weights.
 */
export class KeyChooser {
  private readonly cumulative: Float64Array | undefined;

  constructor(
    readonly keyCount: number,
    readonly skew: number,
  ) {
    if (!Number.isInteger(keyCount) || keyCount < 1) throw new RangeError(`keyCount must be positive, got ${keyCount}`);
    if (!(skew >= 0)) throw new RangeError(`skew must be >= 0, got ${skew}`);
    if (skew === 0) return;
    const cumulative = new Float64Array(keyCount);
    let total = 0;
    for (let rank = 0; rank < keyCount; rank++) {
      total += 1 / Math.pow(rank + 1, skew);
      cumulative[rank] = total;
    }
    for (let rank = 0; rank < keyCount; rank++) cumulative[rank] /= total;
    this.cumulative = cumulative;
  }

  choose(random: Prng): number {
    const cumulative = this.cumulative;
    if (cumulative === undefined) return random.int(this.keyCount);
    const target = random.next();
    let low = 0;
    let high = this.keyCount - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Fixed-width ASCII keys ("k" then zero-padded decimal: k000000000000042), all in one buffer. */
export class KeySpace {
  readonly bytes: Uint8Array;

  constructor(
    readonly keyCount: number,
    readonly keyBytes: number,
  ) {
    if (keyBytes < String(keyCount - 1).length + 1)
      throw new RangeError(`keyBytes ${keyBytes} cannot number ${keyCount} keys`);
    this.bytes = new Uint8Array(keyCount * keyBytes);
    for (let index = 0; index < keyCount; index++) {
      const text = "k" + String(index).padStart(keyBytes - 1, "0");
      for (let i = 0; i < keyBytes; i++) this.bytes[index * keyBytes + i] = text.charCodeAt(i);
    }
  }

  key(index: number): Uint8Array {
    return this.bytes.subarray(index * this.keyBytes, (index + 1) * this.keyBytes);
  }

  keyString(index: number): string {
    return String.fromCharCode.apply(null, this.key(index) as unknown as number[]);
  }
}

/**
 * LWW timestamps start at 2^32 so that their varint is always 5 bytes (up to 2^35): a
 * rewrite keeps every payload's length, and values never grow during a run.
 */
export const TIMESTAMP_BASE = 2 ** 32;
const TIMESTAMP_LIMIT = 2 ** 35;
const TIMESTAMP_VARINT_BYTES = 5;

/** Bytes of an LWWValue `08 <5-byte varint timestamp> 12 <len> <value>` (value < 128 bytes). */
export function lwwPayloadBytes(valueBytes: number): number {
  if (valueBytes > 127) throw new RangeError("values above 127 bytes need a longer length varint");
  return 1 + TIMESTAMP_VARINT_BYTES + 2 + valueBytes;
}

/** Writes protobuf `LWWValue { timestamp = 1; value = 2 }` by hand at `offset`. */
export function writeLwwPayload(out: Uint8Array, offset: number, timestamp: number, value: Uint8Array): void {
  out[offset] = 0x08;
  writeTimestamp(out, offset + 1, timestamp);
  out[offset + 1 + TIMESTAMP_VARINT_BYTES] = 0x12;
  out[offset + 2 + TIMESTAMP_VARINT_BYTES] = value.length;
  out.set(value, offset + 3 + TIMESTAMP_VARINT_BYTES);
}

/** A fresh LWW payload stamped TIMESTAMP_BASE, holding `valueBytes` random bytes. */
export function randomLwwPayload(valueBytes: number, random: Prng): Uint8Array {
  const payload = new Uint8Array(lwwPayloadBytes(valueBytes));
  writeLwwPayload(payload, 0, TIMESTAMP_BASE, random.fill(new Uint8Array(valueBytes)));
  return payload;
}

/** Kept out of writeTimestamp, whose inlined body would otherwise carry the message's string building. */
function throwOutOfRange(timestamp: number): never {
  throw new RangeError(`timestamp ${timestamp} out of the 5-byte range`);
}

/** Rewrites the timestamp of a payload written by writeLwwPayload; bit operations keep it cheap in timed loops. */
export function writeTimestamp(out: Uint8Array, offset: number, timestamp: number): void {
  if (timestamp < TIMESTAMP_BASE || timestamp >= TIMESTAMP_LIMIT) throwOutOfRange(timestamp);
  const low = timestamp >>> 0;
  const high = (timestamp - low) / TIMESTAMP_BASE;
  out[offset] = (low & 0x7f) | 0x80;
  out[offset + 1] = ((low >>> 7) & 0x7f) | 0x80;
  out[offset + 2] = ((low >>> 14) & 0x7f) | 0x80;
  out[offset + 3] = ((low >>> 21) & 0x7f) | 0x80;
  out[offset + 4] = (low >>> 28) | (high << 4);
}

/** Offset of the timestamp varint inside an LWW payload. */
export const LWW_TIMESTAMP_OFFSET = 1;
