// xxHash64 with seed 0 over raw key bytes: the same hash src/routing uses to place keys,
// so the table and the ring agree. u64 arithmetic is native in Wasm.
const PRIME64_1: u64 = 0x9e3779b185ebca87;
const PRIME64_2: u64 = 0xc2b2ae3d27d4eb4f;
const PRIME64_3: u64 = 0x165667b19e3779f9;
const PRIME64_4: u64 = 0x85ebca77c2b2ae63;
const PRIME64_5: u64 = 0x27d4eb2f165667c5;

// @ts-ignore: decorator
@inline
function round(accumulator: u64, input: u64): u64 {
  return rotl<u64>(accumulator + input * PRIME64_2, 31) * PRIME64_1;
}

// @ts-ignore: decorator
@inline
function mergeRound(accumulator: u64, lane: u64): u64 {
  return (accumulator ^ round(0, lane)) * PRIME64_1 + PRIME64_4;
}

function hashLongInput(ptr: usize, end: usize): u64 {
  let lane1: u64 = PRIME64_1 + PRIME64_2;
  let lane2: u64 = PRIME64_2;
  let lane3: u64 = 0;
  let lane4: u64 = 0 - PRIME64_1;
  const limit = end - 32;
  do {
    lane1 = round(lane1, load<u64>(ptr));
    lane2 = round(lane2, load<u64>(ptr, 8));
    lane3 = round(lane3, load<u64>(ptr, 16));
    lane4 = round(lane4, load<u64>(ptr, 24));
    ptr += 32;
  } while (ptr <= limit);
  let hash = rotl<u64>(lane1, 1) + rotl<u64>(lane2, 7) + rotl<u64>(lane3, 12) + rotl<u64>(lane4, 18);
  hash = mergeRound(hash, lane1);
  hash = mergeRound(hash, lane2);
  hash = mergeRound(hash, lane3);
  return mergeRound(hash, lane4);
}

export function xxh64(ptr: usize, length: usize): u64 {
  const end = ptr + length;
  let hash: u64 = PRIME64_5;
  if (length >= 32) {
    hash = hashLongInput(ptr, end);
    ptr += length & ~31;
  }
  hash += <u64>length;
  while (ptr + 8 <= end) {
    hash = rotl<u64>(hash ^ round(0, load<u64>(ptr)), 27) * PRIME64_1 + PRIME64_4;
    ptr += 8;
  }
  if (ptr + 4 <= end) {
    hash = rotl<u64>(hash ^ (<u64>load<u32>(ptr) * PRIME64_1), 23) * PRIME64_2 + PRIME64_3;
    ptr += 4;
  }
  while (ptr < end) {
    hash = rotl<u64>(hash ^ (<u64>load<u8>(ptr) * PRIME64_5), 11) * PRIME64_1;
    ptr++;
  }
  hash ^= hash >> 33;
  hash *= PRIME64_2;
  hash ^= hash >> 29;
  hash *= PRIME64_3;
  return hash ^ (hash >> 32);
}
