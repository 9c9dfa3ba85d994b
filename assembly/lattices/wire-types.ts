// The six wire types of anna.proto and annakv's DOTTED_CAUSAL, each a composition of the
// base lattices; this file only dispatches on the type number.
import { DOTTED_CAUSAL, LWW, MULTI_CAUSAL, ORDERED_SET, PRIORITY, SET, SINGLE_CAUSAL } from "../status";
import { canonicalizeDottedCausal, joinDottedCausal } from "./dotted-causal";
import { canonicalizeMultiCausal, joinMultiCausal } from "./multi-causal";
import { canonicalizeRegister, joinRegister, LWW_REGISTER, PRIORITY_REGISTER } from "./register";
import { canonicalizeSet, joinSet } from "./set";
import { canonicalizeSingleCausal, joinSingleCausal } from "./single-causal";

/** Decodes an incoming payload of a known type into its canonical form (in the result). */
export function canonicalize(type: u32, ptr: usize, length: u32): u32 {
  switch (type) {
    case LWW:
      return canonicalizeRegister(LWW_REGISTER, ptr, length);
    case SET:
    case ORDERED_SET:
      return canonicalizeSet(ptr, length);
    case SINGLE_CAUSAL:
      return canonicalizeSingleCausal(ptr, length);
    case MULTI_CAUSAL:
      return canonicalizeMultiCausal(ptr, length);
    case DOTTED_CAUSAL:
      return canonicalizeDottedCausal(ptr, length);
    default:
      assert(type == PRIORITY);
      return canonicalizeRegister(PRIORITY_REGISTER, ptr, length);
  }
}

/** Joins two canonical values of one type into the result: OK or OUT_OF_MEMORY. */
export function join(type: u32, a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  switch (type) {
    case LWW:
      return joinRegister(LWW_REGISTER, a, aLength, b, bLength);
    case SET:
    case ORDERED_SET:
      return joinSet(a, aLength, b, bLength);
    case SINGLE_CAUSAL:
      return joinSingleCausal(a, aLength, b, bLength);
    case MULTI_CAUSAL:
      return joinMultiCausal(a, aLength, b, bLength);
    case DOTTED_CAUSAL:
      return joinDottedCausal(a, aLength, b, bLength);
    default:
      assert(type == PRIORITY);
      return joinRegister(PRIORITY_REGISTER, a, aLength, b, bLength);
  }
}
