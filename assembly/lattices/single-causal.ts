// SINGLE_CAUSAL (SingleKeyCausalValue: clock entries 1, values 2) = causal pair of a
// vector clock and a byte-string set.
import { scratchAlloc } from "../buffers";
import { OK, OUT_OF_MEMORY } from "../status";
import { unionSets } from "./byte-set";
import { joinCausal } from "./causal-pair";
import { canonicalizeCausal, NO_FIELD } from "./causal-value";
import { WRITE_SLACK_BYTES } from "./result";

const VALUE_FIELD: u32 = 2;

export function canonicalizeSingleCausal(ptr: usize, length: u32): u32 {
  return canonicalizeCausal(ptr, length, NO_FIELD, VALUE_FIELD);
}
function joinValueSets(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  return unionSets(a, aEnd, b, bEnd, out);
}

export function joinSingleCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  const out = scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  joinCausal(a, aLength, b, bLength, out, joinValueSets);
  return OK;
}
