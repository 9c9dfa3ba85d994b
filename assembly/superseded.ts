// Writes the next write of a batch supersedes (issue #16). An update-heavy stream on hot
// keys often writes one key in several operations in a row (at Zipf 2 two operations in
// five, at Zipf 4 six in seven). When a plain LWW PUT is followed at once by a plain LWW
// PUT of the same key with a newer timestamp, the later value wins the join of the two
// whatever the stored value is (join is associative: stored ⊔ a ⊔ b = stored ⊔ b when
// a ⊑ b), so the earlier one is not merged: its hash, its lookup and its copy into the
// store are skipped, and it is answered with the status of the write that superseded it. Both write
// the same key with payloads that pass the same checks, so they meet the same stored value
// and type: OK for both, LATTICE for both (a key of another type), and OUT_OF_MEMORY for
// both when the later one cannot be stored, so that no write is acknowledged and then lost.
//
// Only the next operation is looked at. Planning a whole warm group (every later operation
// on the key, through a small set of the group's keys) caught more at Zipf 2 (68% of
// operations against 40%) but its unpredictable branches cost ~26 ns an operation there,
// as much as it saved (measured with bench/scaling/op-cost.ts --baseline-wasm).
import { bytesEqual } from "./codec";
import { plainLwwTimestamp } from "./lattices/register";
import { maxKeyBytes, maxValueBytes } from "./store";

/** Writes superseded since the instance started (the store's stats). */
export let supersededWriteCount: u64 = 0;

/**
 * A client's LWW PUT's timestamp if its payload is plain and within the store's value limit,
 * else 0. With the key limit, checked once for both writes, these are the limits putValue
 * checks before it looks the key up, so that a write it would refuse never supersedes nor is
 * superseded: it runs and is refused.
 */
function plainPutTimestamp(payloadPtr: usize, payloadLength: u32): u64 {
  return payloadLength > maxValueBytes ? 0 : plainLwwTimestamp(payloadPtr, payloadLength);
}

/**
 * Whether a client's LWW PUT (key at `keyPtr`, payload at `payloadPtr`) is superseded by the
 * write that follows it, a client's LWW PUT of key `nextKeyPtr` and payload `nextPayloadPtr`:
 * the same key, both payloads plain, the next one's timestamp newer.
 */
export function isSuperseded(
  keyPtr: usize, keyLength: u32, payloadPtr: usize, payloadLength: u32,
  nextKeyPtr: usize, nextKeyLength: u32, nextPayloadPtr: usize, nextPayloadLength: u32,
): bool {
  if (keyLength > maxKeyBytes || nextKeyLength != keyLength || !bytesEqual(keyPtr, nextKeyPtr, keyLength)) return false;
  const timestamp = plainPutTimestamp(payloadPtr, payloadLength);
  if (timestamp == 0 || plainPutTimestamp(nextPayloadPtr, nextPayloadLength) <= timestamp) return false;
  supersededWriteCount++;
  return true;
}
