/** Unsigned 64-bit integers as two unsigned 32-bit halves, as the protobuf wire carries timestamps. */

/** An unsigned 64-bit integer as unsigned 32-bit halves: BigInt would allocate per compare. */
export interface U64 {
  readonly high: number;
  readonly low: number;
}

export const U64_ZERO: U64 = Object.freeze({ high: 0, low: 0 });

export function compareU64(a: U64, b: U64): number {
  return a.high - b.high || a.low - b.low;
}
