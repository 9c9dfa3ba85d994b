// MULTI_CAUSAL (MultiKeyCausalValue: clock entries 1, dependencies 2, values 3) = causal
// pair of a vector clock and (dependency map, byte-string set kept to its maximal siblings).
import { endOfRun } from "../codec";
import { unionSets } from "./byte-set";
import { joinCausal } from "./causal-pair";
import { canonicalizeCausal } from "./causal-value";
import { joinDependencies } from "./dependencies";
import { keepMaximalSiblings } from "./siblings";

const DEPENDENCY_FIELD: u32 = 2;
const VALUE_FIELD: u32 = 3;
const DEPENDENCY_TAG: u8 = 0x12;

export function canonicalizeMultiCausal(ptr: usize, length: u32): u32 {
  return canonicalizeCausal(ptr, length, DEPENDENCY_FIELD, VALUE_FIELD);
}

function joinDependenciesAndValues(a: usize, aEnd: usize, b: usize, bEnd: usize, out: usize): usize {
  const aDependenciesEnd = endOfRun(a, aEnd, DEPENDENCY_TAG);
  const bDependenciesEnd = endOfRun(b, bEnd, DEPENDENCY_TAG);
  const written = joinDependencies(a, aDependenciesEnd, b, bDependenciesEnd, DEPENDENCY_TAG, out);
  return keepMaximalSiblings(written, unionSets(aDependenciesEnd, aEnd, bDependenciesEnd, bEnd, written));
}

export function joinMultiCausal(a: usize, aLength: u32, b: usize, bLength: u32): u32 {
  return joinCausal(a, aLength, b, bLength, joinDependenciesAndValues);
}
