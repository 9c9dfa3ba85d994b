// SINGLE_CAUSAL (SingleKeyCausalValue: clock entries 1, values 2) = causal pair of a
// vector clock and a byte-string set kept to its maximal siblings.
import { unionSets } from "./byte-set";
import { joinCausal } from "./causal-pair";
import { canonicalizeCausal, NO_FIELD } from "./causal-value";
import { keepMaximalSiblings } from "./siblings";

const VALUE_FIELD: u32 = 2;

export function canonicalizeSingleCausal(ptr: usize, length: u32): u32 {
  return canonicalizeCausal(ptr, length, NO_FIELD, VALUE_FIELD);
}

function joinSiblings(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  return keepMaximalSiblings(out, unionSets(a, aEnd, b, bEnd, out));
}

export function joinSingleCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  return joinCausal(a, aLength, b, bLength, joinSiblings);
}
