// The causal pair (vector clock, rest): if one clock strictly dominates, its side is the
// join whole; if the clocks are equal or concurrent, the join is the clocks' pointwise
// max with the rests joined. SINGLE_CAUSAL's rest is a set of values; MULTI_CAUSAL's is
// a dependency map followed by a set of values.
import { scratchAlloc } from "../buffers";
import { endOfRun } from "../codec";
import { OK, OUT_OF_MEMORY } from "../status";
import { setResult, WRITE_SLACK_BYTES } from "./result";
import { A_AHEAD, B_AHEAD, compareClocks, joinClocks } from "./vector-clock";
import { ValueJoin } from "./key-map";

export const CLOCK_TAG: u8 = 0x0a;

/** Joins canonical causal values a and b into the result; OUT_OF_MEMORY leaves nothing changed. */
export function joinCausal(a: usize, aLength: u32, b: usize, bLength: u32, joinRests: ValueJoin): u32 {
  // A join is never longer than both inputs together.
  const out = scratchAlloc(<u64>aLength + <u64>bLength + WRITE_SLACK_BYTES);
  if (out == 0) return OUT_OF_MEMORY;
  const aEnd = a + aLength;
  const bEnd = b + bLength;
  const aClockEnd = endOfRun(a, aEnd, CLOCK_TAG);
  const bClockEnd = endOfRun(b, bEnd, CLOCK_TAG);
  const ahead = compareClocks(a, aClockEnd, b, bClockEnd);
  if (ahead == A_AHEAD) {
    setResult(a, aLength);
    return OK;
  }
  if (ahead == B_AHEAD) {
    setResult(b, bLength);
    return OK;
  }
  let pos = joinClocks(a, aClockEnd, b, bClockEnd, CLOCK_TAG, out);
  pos = joinRests(aClockEnd, aEnd, bClockEnd, bEnd, pos);
  setResult(out, <u32>(pos - out));
  return OK;
}
