// The causal pair (vector clock, rest): if one clock strictly dominates, its side is the
// join whole; if the clocks are equal or concurrent, the join is the clocks' pointwise
// max with the rests joined. SINGLE_CAUSAL's rest is a set of values; MULTI_CAUSAL's is
// a dependency map followed by a set of values.
import { endOfRun } from "../codec";
import { setResult } from "./result";
import { A_AHEAD, B_AHEAD, compareClocks, joinClocks } from "./vector-clock";
import { ValueJoin } from "./key-map";

export const CLOCK_TAG: u8 = 0x0a;

/** Joins canonical causal values a and b; `out` must hold aLength + bLength + slack bytes. */
export function joinCausal(a: usize, aLength: u32, b: usize, bLength: u32, out: usize, joinRests: ValueJoin): void {
  const aEnd = a + aLength;
  const bEnd = b + bLength;
  const aClockEnd = endOfRun(a, aEnd, CLOCK_TAG);
  const bClockEnd = endOfRun(b, bEnd, CLOCK_TAG);
  const ahead = compareClocks(a, aClockEnd, b, bClockEnd);
  if (ahead == A_AHEAD) {
    setResult(a, aLength);
    return;
  }
  if (ahead == B_AHEAD) {
    setResult(b, bLength);
    return;
  }
  let pos = joinClocks(a, aClockEnd, b, bClockEnd, CLOCK_TAG, out);
  pos = joinRests(aClockEnd, aEnd, bClockEnd, bEnd, pos);
  setResult(out, <u32>(pos - out));
}
