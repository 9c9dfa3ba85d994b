// SINGLE_CAUSAL (SingleKeyCausalValue: clock entries 1, values 2) = causal pair of a
// vector clock and a byte-string set.
import { unionSets } from "./byte-set";
import { joinCausal } from "./causal-pair";
import { canonicalizeCausal, NO_FIELD } from "./causal-value";

const VALUE_FIELD: u32 = 2;

export function canonicalizeSingleCausal(ptr: usize, length: u32): u32 {
  return canonicalizeCausal(ptr, length, NO_FIELD, VALUE_FIELD);
}

export function joinSingleCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  return joinCausal(a, aLength, b, bLength, unionSets);
}
