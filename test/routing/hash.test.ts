import fc from "fast-check";
import { xxhash64, xxhash64Bytes } from "../../src/routing/hash";

const SEED = 0x5eed_0001;
const MASK_64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

// An independent, obviously-correct reference: the xxHash64 spec in BigInt.
function rotl(value: bigint, bits: bigint): bigint {
  return ((value << bits) | (value >> (64n - bits))) & MASK_64;
}
function read64(bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]);
  return value;
}
function read32(bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  for (let i = 3; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]);
  return value;
}
function round(acc: bigint, input: bigint): bigint {
  return (rotl((acc + input * P2) & MASK_64, 31n) * P1) & MASK_64;
}
function referenceXxhash64(bytes: Uint8Array): bigint {
  let offset = 0;
  let hash: bigint;
  if (bytes.length >= 32) {
    const lanes = [(P1 + P2) & MASK_64, P2, 0n, -P1 & MASK_64];
    for (; offset + 32 <= bytes.length; offset += 32) {
      for (let lane = 0; lane < 4; lane++) lanes[lane] = round(lanes[lane], read64(bytes, offset + lane * 8));
    }
    hash = (rotl(lanes[0], 1n) + rotl(lanes[1], 7n) + rotl(lanes[2], 12n) + rotl(lanes[3], 18n)) & MASK_64;
    for (const lane of lanes) hash = ((hash ^ round(0n, lane)) * P1 + P4) & MASK_64;
  } else {
    hash = P5;
  }
  hash = (hash + BigInt(bytes.length)) & MASK_64;
  for (; offset + 8 <= bytes.length; offset += 8) {
    hash = (rotl(hash ^ round(0n, read64(bytes, offset)), 27n) * P1 + P4) & MASK_64;
  }
  if (offset + 4 <= bytes.length) {
    hash = (rotl(hash ^ ((read32(bytes, offset) * P1) & MASK_64), 23n) * P2 + P3) & MASK_64;
    offset += 4;
  }
  for (; offset < bytes.length; offset++) {
    hash = (rotl(hash ^ ((BigInt(bytes[offset]) * P5) & MASK_64), 11n) * P1) & MASK_64;
  }
  hash ^= hash >> 33n;
  hash = (hash * P2) & MASK_64;
  hash ^= hash >> 29n;
  hash = (hash * P3) & MASK_64;
  hash ^= hash >> 32n;
  return hash;
}

function asBigInt(hash: { high: number; low: number }): bigint {
  return (BigInt(hash.high) << 32n) | BigInt(hash.low);
}

const encoder = new TextEncoder();

describe("xxhash64", () => {
  it.each([
    ["", 0xef46db3751d8e999n],
    ["a", 0xd24ec4f1a98c6e5bn],
    ["abc", 0x44bc2cf5ad770999n],
  ])("hashes %j to the published value", (text, expected) => {
    expect(asBigInt(xxhash64(encoder.encode(text)))).toBe(expected);
    expect(referenceXxhash64(encoder.encode(text))).toBe(expected);
  });

  it("returns unsigned 32-bit halves", () => {
    const hash = xxhash64(encoder.encode("a"));
    expect(hash.high).toBe(0xd24ec4f1);
    expect(hash.low).toBe(0xa98c6e5b);
  });

  it("writes the hash as 8 little-endian bytes", () => {
    expect(Array.from(xxhash64Bytes(new Uint8Array(0)))).toEqual([0x99, 0xe9, 0xd8, 0x51, 0x37, 0xdb, 0x46, 0xef]);
  });

  it("hashes a view by its own bytes only", () => {
    const backing = encoder.encode("xxabcxx");
    expect(asBigInt(xxhash64(backing.subarray(2, 5)))).toBe(0x44bc2cf5ad770999n);
  });

  it("hashes a span of a larger buffer as those bytes alone, across the stripe and tail paths", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        (key, before, after) => {
          const backing = Uint8Array.from([...before, ...key, ...after]);
          expect(asBigInt(xxhash64(backing, before.length, key.length))).toBe(referenceXxhash64(key));
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("agrees with the BigInt reference on every length 0..100", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }).chain((length) => fc.uint8Array({ minLength: length, maxLength: length })),
        (bytes) => {
          expect(asBigInt(xxhash64(bytes))).toBe(referenceXxhash64(bytes));
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
    for (let length = 0; length <= 100; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + length * 7 + 255) & 0xff);
      expect(asBigInt(xxhash64(bytes))).toBe(referenceXxhash64(bytes));
    }
  });
});
