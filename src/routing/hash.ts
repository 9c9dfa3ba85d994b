/**
 * xxHash64 (seed 0) of key bytes, the same function as the Wasm core's `hashKey`, so that
 * clients, routing and actors agree on where a key lives.
 *
 * JavaScript has no fast u64, and BigInt allocates on every operation, so the 64-bit
 * state is kept as 32-bit halves, held as signed int32 values: V8 then keeps every step in
 * 32-bit integer registers (an unsigned half of 2^31 or more would be a double). Each
 * helper leaves its result in the module's `result` pair, which spares an object per
 * operation on this hot path. Only the exported hash is unsigned.
 */

export interface Hash64 {
  /** Bits 63..32, unsigned. */
  high: number;
  /** Bits 31..0, unsigned. */
  low: number;
}

const STRIPE_BYTES = 32;

// The five xxHash64 primes, as (high, low) halves.
const PRIME1_HIGH = 0x9e3779b1 | 0;
const PRIME1_LOW = 0x85ebca87 | 0;
const PRIME2_HIGH = 0xc2b2ae3d | 0;
const PRIME2_LOW = 0x27d4eb4f | 0;
const PRIME3_HIGH = 0x165667b1 | 0;
const PRIME3_LOW = 0x9e3779f9 | 0;
const PRIME4_HIGH = 0x85ebca77 | 0;
const PRIME4_LOW = 0xc2b2ae63 | 0;
const PRIME5_HIGH = 0x27d4eb2f | 0;
const PRIME5_LOW = 0x165667c5 | 0;

/**
 * Each helper's result, (high, low). A typed array rather than two module variables: a
 * module variable holding a number outside the small-integer range is a heap number,
 * allocated on every write in Node 20's V8, which made hashing several times slower.
 */
const result = new Int32Array(2);
const HIGH = 0;
const LOW = 1;

function add(aHigh: number, aLow: number, bHigh: number, bLow: number): void {
  const low = (aLow + bLow) | 0;
  const carry = low >>> 0 < aLow >>> 0 ? 1 : 0;
  result[LOW] = low;
  result[HIGH] = (aHigh + bHigh + carry) | 0;
}

/**
 * The low 64 bits of a product. The high half of the low halves' 64-bit product comes from
 * four 16-bit partial products (each exact in 32 bits, so Math.imul keeps it whole); the
 * cross terms only reach the high half, where Math.imul's low 32 bits are all that count.
 */
function multiply(aHigh: number, aLow: number, bHigh: number, bLow: number): void {
  const a0 = aLow & 0xffff;
  const a1 = aLow >>> 16;
  const b0 = bLow & 0xffff;
  const b1 = bLow >>> 16;
  const p00 = Math.imul(a0, b0);
  const p01 = Math.imul(a0, b1);
  const p10 = Math.imul(a1, b0);
  const p11 = Math.imul(a1, b1);
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  result[LOW] = Math.imul(aLow, bLow);
  result[HIGH] =
    (p11 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16) + Math.imul(aHigh, bLow) + Math.imul(aLow, bHigh)) | 0;
}

/** Rotates left by 1..31 bits (all that xxHash64 uses). */
function rotateLeft(high: number, low: number, bits: number): void {
  result[HIGH] = (high << bits) | (low >>> (32 - bits));
  result[LOW] = (low << bits) | (high >>> (32 - bits));
}

/** Four little-endian bytes as an int32. */
function readInt32(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24);
}

/** xxHash64's round: rotl(acc + input * PRIME2, 31) * PRIME1. */
function round(accHigh: number, accLow: number, inputHigh: number, inputLow: number): void {
  multiply(inputHigh, inputLow, PRIME2_HIGH, PRIME2_LOW);
  add(accHigh, accLow, result[HIGH], result[LOW]);
  rotateLeft(result[HIGH], result[LOW], 31);
  multiply(result[HIGH], result[LOW], PRIME1_HIGH, PRIME1_LOW);
}

/** Folds one lane into the hash: (hash ^ round(0, lane)) * PRIME1 + PRIME4. */
function mergeLane(hashHigh: number, hashLow: number, laneHigh: number, laneLow: number): void {
  round(0, 0, laneHigh, laneLow);
  multiply(hashHigh ^ result[HIGH], hashLow ^ result[LOW], PRIME1_HIGH, PRIME1_LOW);
  add(result[HIGH], result[LOW], PRIME4_HIGH, PRIME4_LOW);
}

/** Consumes the 32-byte stripes and leaves the combined lanes in the result pair. */
function hashStripes(bytes: Uint8Array, start: number, stripesEnd: number): void {
  // Lanes start at seed + P1 + P2, seed + P2, seed, seed - P1 (seed 0).
  add(PRIME1_HIGH, PRIME1_LOW, PRIME2_HIGH, PRIME2_LOW);
  let v1High = result[HIGH];
  let v1Low = result[LOW];
  let v2High = PRIME2_HIGH;
  let v2Low = PRIME2_LOW;
  let v3High = 0;
  let v3Low = 0;
  add(~PRIME1_HIGH, ~PRIME1_LOW, 0, 1);
  let v4High = result[HIGH];
  let v4Low = result[LOW];
  for (let offset = start; offset < stripesEnd; offset += STRIPE_BYTES) {
    round(v1High, v1Low, readInt32(bytes, offset + 4), readInt32(bytes, offset));
    v1High = result[HIGH];
    v1Low = result[LOW];
    round(v2High, v2Low, readInt32(bytes, offset + 12), readInt32(bytes, offset + 8));
    v2High = result[HIGH];
    v2Low = result[LOW];
    round(v3High, v3Low, readInt32(bytes, offset + 20), readInt32(bytes, offset + 16));
    v3High = result[HIGH];
    v3Low = result[LOW];
    round(v4High, v4Low, readInt32(bytes, offset + 28), readInt32(bytes, offset + 24));
    v4High = result[HIGH];
    v4Low = result[LOW];
  }
  rotateLeft(v1High, v1Low, 1);
  let hashHigh = result[HIGH];
  let hashLow = result[LOW];
  rotateLeft(v2High, v2Low, 7);
  add(hashHigh, hashLow, result[HIGH], result[LOW]);
  hashHigh = result[HIGH];
  hashLow = result[LOW];
  rotateLeft(v3High, v3Low, 12);
  add(hashHigh, hashLow, result[HIGH], result[LOW]);
  hashHigh = result[HIGH];
  hashLow = result[LOW];
  rotateLeft(v4High, v4Low, 18);
  add(hashHigh, hashLow, result[HIGH], result[LOW]);
  mergeLane(result[HIGH], result[LOW], v1High, v1Low);
  mergeLane(result[HIGH], result[LOW], v2High, v2Low);
  mergeLane(result[HIGH], result[LOW], v3High, v3Low);
  mergeLane(result[HIGH], result[LOW], v4High, v4Low);
}

/** Mixes in the bytes from `start` to `end` after the stripes: 8 at a time, then 4, then one by one. */
function hashTail(bytes: Uint8Array, start: number, end: number, hashHigh: number, hashLow: number): void {
  let offset = start;
  for (; offset + 8 <= end; offset += 8) {
    round(0, 0, readInt32(bytes, offset + 4), readInt32(bytes, offset));
    rotateLeft(hashHigh ^ result[HIGH], hashLow ^ result[LOW], 27);
    multiply(result[HIGH], result[LOW], PRIME1_HIGH, PRIME1_LOW);
    add(result[HIGH], result[LOW], PRIME4_HIGH, PRIME4_LOW);
    hashHigh = result[HIGH];
    hashLow = result[LOW];
  }
  if (offset + 4 <= end) {
    multiply(0, readInt32(bytes, offset), PRIME1_HIGH, PRIME1_LOW);
    rotateLeft(hashHigh ^ result[HIGH], hashLow ^ result[LOW], 23);
    multiply(result[HIGH], result[LOW], PRIME2_HIGH, PRIME2_LOW);
    add(result[HIGH], result[LOW], PRIME3_HIGH, PRIME3_LOW);
    hashHigh = result[HIGH];
    hashLow = result[LOW];
    offset += 4;
  }
  for (; offset < end; offset++) {
    multiply(0, bytes[offset], PRIME5_HIGH, PRIME5_LOW);
    rotateLeft(hashHigh ^ result[HIGH], hashLow ^ result[LOW], 11);
    multiply(result[HIGH], result[LOW], PRIME1_HIGH, PRIME1_LOW);
    hashHigh = result[HIGH];
    hashLow = result[LOW];
  }
  result[HIGH] = hashHigh;
  result[LOW] = hashLow;
}

/** The final avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32. */
function avalanche(high: number, low: number): void {
  low ^= high >>> 1;
  multiply(high, low, PRIME2_HIGH, PRIME2_LOW);
  high = result[HIGH];
  low = result[LOW] ^ ((result[LOW] >>> 29) | (result[HIGH] << 3));
  high ^= high >>> 29;
  multiply(high, low, PRIME3_HIGH, PRIME3_LOW);
  result[LOW] ^= result[HIGH];
}

/**
 * xxHash64 with seed 0 of `length` bytes of `bytes` from `start` (all of them by default:
 * a key inside a request frame is hashed where it lies), as unsigned 32-bit halves.
 */
export function xxhash64(bytes: Uint8Array, start = 0, length = bytes.length - start): Hash64 {
  const stripesEnd = start + length - (length % STRIPE_BYTES);
  if (length >= STRIPE_BYTES) hashStripes(bytes, start, stripesEnd);
  else {
    result[HIGH] = PRIME5_HIGH;
    result[LOW] = PRIME5_LOW;
  }
  // The length is added as a u64; keys are far below 2^32 bytes.
  add(result[HIGH], result[LOW], 0, length | 0);
  hashTail(bytes, stripesEnd, start + length, result[HIGH], result[LOW]);
  avalanche(result[HIGH], result[LOW]);
  return { high: result[HIGH] >>> 0, low: result[LOW] >>> 0 };
}

/** xxHash64 of `bytes` with seed 0, as 8 little-endian bytes (the Wasm `hashKey` output). */
export function xxhash64Bytes(bytes: Uint8Array): Uint8Array {
  const { high, low } = xxhash64(bytes);
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, low, true);
  view.setUint32(4, high, true);
  return out;
}
