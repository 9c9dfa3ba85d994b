/**
 * Stamped writes refused for a stale stamp (src/consistency/stamped-writes.ts): a write
 * sent again is stamped ahead by twice its lateness (`retryLeadMicros`). The sending loop
 * itself is tested through the sessions that use it (multi-key-session.test.ts,
 * causal-session.test.ts).
 */
import { retryLeadMicros } from "../../src/consistency/stamped-writes";

describe("retryLeadMicros", () => {
  it("is twice the lateness of a stamp at or below the floor, at most 10 s", () => {
    // Stamped 5 000 when sent at 5 000, refused for a floor of 8 000: 3 001 µs late.
    expect(retryLeadMicros(5_000, 5_000, 8_000)).toBe(6_002);
    expect(retryLeadMicros(8_000, 8_000, 8_000)).toBe(2);
    expect(retryLeadMicros(0, 0, 60_000_000)).toBe(10_000_000);
  });

  it("counts a stamp already led by an earlier refusal late from the clock it was sent by", () => {
    // Sent at 5 000 with a lead of 3 000: the floor 8 000 is 3 001 µs past the clock.
    expect(retryLeadMicros(8_000, 5_000, 8_000)).toBe(6_002);
    // A stamp below the clock at sending (stamped earlier, sent again later) is late from the stamp.
    expect(retryLeadMicros(4_000, 5_000, 8_000)).toBe(8_002);
  });

  it("is 0 for a refusal whose floor is below the stamp (another epoch's)", () => {
    expect(retryLeadMicros(5_000, 5_000, 0)).toBe(0);
  });
});
