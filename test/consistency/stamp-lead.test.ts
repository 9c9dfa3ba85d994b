/**
 * Writes that arrive late (src/consistency/stamp-lead.ts, docs/causal-stability.md §2): a
 * node refuses a stamp at or below now − the accept lag, and a client whose writes take
 * longer than the lag to arrive would be refused at every attempt if it only followed the
 * floor. The lead it learns from the first refusal brings its stamps in above the floor.
 */
import { CausalCut } from "../../src/consistency/causal-cut";
import { causalLwwVersions } from "../../src/consistency/causal-lww-versions";
import { CAUSAL_CUT_LIMITS_DEFAULT, type CausalScope } from "../../src/consistency/causal-options";
import { CausalSession } from "../../src/consistency/causal-session";
import { LEAD_HOLD_MICROS, LEAD_MAX_MICROS, StampLead } from "../../src/consistency/stamp-lead";
import type { KeyTransport, PutOutcome, PutTuple } from "../../src/consistency/transport";
import { stampedOfLwwPut } from "../../src/lattices/causal-lww";
import { stampedValuesOf } from "../../src/lattices/causal-stamp";
import { LatticeType } from "../../src/lattices/lattice-type";

describe("StampLead", () => {
  it("leads by nothing until a refusal, then by twice the lateness, for the hold after it", () => {
    const lead = new StampLead();
    expect(lead.at(1_000)).toBe(0);
    // Stamped 5 000, refused for a floor of 8 000: 3 001 µs late.
    lead.learn(5_000, 8_000, 10_000);
    expect(lead.at(10_000)).toBe(6_002);
    expect(lead.at(10_000 + LEAD_HOLD_MICROS - 1)).toBe(6_002);
    expect(lead.at(10_000 + LEAD_HOLD_MICROS)).toBe(0);
  });

  it("keeps the larger lead within the hold, and a later refusal extends the hold", () => {
    const lead = new StampLead();
    lead.learn(5_000, 8_000, 10_000);
    lead.learn(9_000, 9_500, 20_000);
    expect(lead.at(20_000 + LEAD_HOLD_MICROS - 1)).toBe(6_002);
    // Past the hold a smaller lateness sets the lead anew.
    lead.learn(1_000, 1_100, 40_000 + LEAD_HOLD_MICROS);
    expect(lead.at(40_000 + LEAD_HOLD_MICROS)).toBe(202);
  });

  it("learns nothing from a refusal whose floor is below the stamp (another epoch), and caps the lead", () => {
    const lead = new StampLead();
    lead.learn(5_000, 0, 10_000);
    expect(lead.at(10_000)).toBe(0);
    lead.learn(0, 60_000_000, 10_000);
    expect(lead.at(10_000)).toBe(LEAD_MAX_MICROS);
  });
});

const ACCEPT_LAG_MICROS = 100_000;

/**
 * One replica of every key whose accept floor is its clock − ACCEPT_LAG_MICROS, reached by
 * writes `tripMicros` after they leave (and answering as late): the shared test clock moves
 * by the trip each way. It counts the writes it is sent and those it applies, and logs when
 * each left and its stamp.
 */
function farNode(clock: { micros: number }, tripMicros: number) {
  const counts = { sent: 0, applied: 0 };
  const sends: { leftMicros: number; stampMicros: number }[] = [];
  const stampOf = (put: PutTuple) =>
    put.type === LatticeType.LWW
      ? stampedOfLwwPut(put.payload)!.stampMicros
      : Math.max(...stampedValuesOf(put.payload)!.map(({ stampMicros }) => stampMicros));
  const putTo = async (puts: readonly PutTuple[]) => {
    for (const put of puts) sends.push({ leftMicros: clock.micros, stampMicros: stampOf(put) });
    clock.micros += tripMicros;
    const floorMicros = clock.micros - ACCEPT_LAG_MICROS;
    const outcomes = new Map<string, PutOutcome>(
      puts.map((put) => {
        counts.sent++;
        if (stampOf(put) > floorMicros) {
          counts.applied++;
          return [put.key, { status: "applied" }];
        }
        const error = Object.assign(new Error(`stamp at or below the floor ${floorMicros}`), { code: "STALE_STAMP" });
        return [put.key, { status: "refused", error, acceptFloorMicros: floorMicros, replica: "far" }];
      }),
    );
    clock.micros += tripMicros;
    return outcomes;
  };
  const readsNothing = async (): Promise<never> => {
    throw new Error("this test reads nothing");
  };
  const transport: KeyTransport = {
    getMany: readsNothing,
    getFromReplica: readsNothing,
    replicasOf: async () => ["far"],
    putManySettled: putTo,
    putToReplica: (_, puts) => putTo(puts),
  };
  return { transport, counts, sends };
}

describe.each<CausalScope>(["multi-key", "multi-key-lww"])("%s sessions whose writes arrive late", (scope) => {
  function sessionsOf(tripMicros: number) {
    const clock = { micros: 1_700_000_000_000_000 };
    const { transport, counts, sends } = farNode(clock, tripMicros);
    const context = {
      transport,
      cut: new CausalCut(),
      lwwCut: new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions),
      nowMicros: () => BigInt(clock.micros),
    };
    const open = () => new CausalSession(context, { scope });
    return { clock, counts, sends, open };
  }

  it("are refused once, then stamped ahead and applied; the client's next writes lead at once", async () => {
    // 150 ms each way against a lag of 100 ms: a stamp that only follows the floor arrives 50 ms below it.
    const { clock, counts, sends, open } = sessionsOf(150_000);
    const first = open();
    await first.put("a", "1");
    expect(counts).toEqual({ sent: 2, applied: 1 });
    // 50 001 µs late: the stamp sent again leads the clock by twice that.
    expect(sends.map(({ leftMicros, stampMicros }) => stampMicros - leftMicros)).toEqual([0, 100_002]);
    await first.put("b", "2");
    // Another session of the client takes the lead its cut learned.
    await open().put("c", "3");
    expect(counts).toEqual({ sent: 4, applied: 3 });
    // Once the hold has passed the lead is gone, and the next write is refused once again.
    clock.micros += LEAD_HOLD_MICROS;
    await first.put("d", "4");
    expect(counts).toEqual({ sent: 6, applied: 4 });
  });

  it("are stamped by the clock alone while they arrive within the lag", async () => {
    const { counts, sends, open } = sessionsOf(40_000);
    const session = open();
    await session.put("a", "1");
    await session.put("b", "2");
    expect(counts).toEqual({ sent: 2, applied: 2 });
    expect(sends.map(({ leftMicros, stampMicros }) => stampMicros - leftMicros)).toEqual([0, 0]);
  });
});
