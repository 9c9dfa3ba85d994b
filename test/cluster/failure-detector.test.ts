/** The failure detector: silence earns suspicion, then death; a node whose own ticks ran late judges no one. */
import { FailureDetector } from "../../src/cluster/failure-detector";
import { Lifecycle, MemberEntry, Suspicion } from "../../src/cluster/member";

const TIMEOUT_MS = 4000;
const member = (heartbeat: number, suspicion = Suspicion.NONE, incarnation = 1): MemberEntry => ({
  id: "peer:1",
  incarnation,
  lifecycle: Lifecycle.ALIVE,
  suspicion,
  heartbeat,
  data: {
    host: "peer",
    portOffset: 0,
    threads: 1,
    localReplication: 1,
    keyCount: 0,
    synced: {},
    factors: { version: 0, factors: [] },
    stability: { heldMicros: 0, epoch: 0 },
  },
});

describe("FailureDetector", () => {
  it("suspects a member silent for half the timeout and declares it dead at the timeout", () => {
    const detector = new FailureDetector(TIMEOUT_MS, 1000);
    detector.observe(member(1), 0);
    expect(detector.judge([member(1)], 1999, 0)).toEqual([]);
    expect(detector.judge([member(1)], 2000, 0)).toEqual([{ id: "peer:1", suspicion: Suspicion.SUSPECT }]);
    expect(detector.judge([member(1, Suspicion.SUSPECT)], 3999, 0)).toEqual([]);
    expect(detector.judge([member(1, Suspicion.SUSPECT)], 4000, 0)).toEqual([
      { id: "peer:1", suspicion: Suspicion.DEAD },
    ]);
  });

  it("starts the clock anew on a higher heartbeat or a new incarnation, not on a repeat", () => {
    const detector = new FailureDetector(TIMEOUT_MS, 1000);
    detector.observe(member(1), 0);
    detector.observe(member(1), 3000);
    expect(detector.silenceMs("peer:1", 3500)).toBe(3500);
    detector.observe(member(2), 3500);
    expect(detector.silenceMs("peer:1", 3600)).toBe(100);
    detector.observe(member(0, Suspicion.NONE, 2), 5000);
    expect(detector.judge([member(0, Suspicion.NONE, 2)], 6000, 0)).toEqual([]);
  });

  it("forgives everyone for a tick that ran late (this node was paused), and starts their clocks anew", () => {
    const detector = new FailureDetector(TIMEOUT_MS, 1000);
    detector.observe(member(1), 0);
    expect(detector.judge([member(1)], 60_000, 59_000)).toEqual([]);
    expect(detector.judge([member(1)], 61_000, 0)).toEqual([]);
    expect(detector.judge([member(1)], 64_000, 0)).toEqual([{ id: "peer:1", suspicion: Suspicion.DEAD }]);
  });
});
