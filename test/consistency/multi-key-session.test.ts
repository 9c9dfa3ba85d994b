/**
 * Writes that arrive late (src/consistency/multi-key-session.ts, docs/causal-stability.md
 * §2): a node refuses a stamp at or below now − the accept lag, and a client whose writes
 * take longer than the lag to arrive would be refused at every attempt if it only followed
 * the floor. A write sent again is stamped ahead by twice its lateness, and arrives above it.
 */
import { CausalCut } from "../../src/consistency/causal-cut";
import { causalLwwVersions } from "../../src/consistency/causal-lww-versions";
import { CAUSAL_CUT_LIMITS_DEFAULT, type CausalScope } from "../../src/consistency/causal-options";
import { CausalSession } from "../../src/consistency/causal-session";
import type { KeyTransport, PutOutcome, PutTuple } from "../../src/consistency/transport";
import { stampedOfLwwPut } from "../../src/lattices/causal-lww";
import { stampedValuesOf } from "../../src/lattices/causal-stamp";
import { LatticeType } from "../../src/lattices/lattice-type";

const ACCEPT_LAG_MICROS = 100_000;

/**
 * One replica of every key whose accept floor is its clock − ACCEPT_LAG_MICROS, reached by
 * the n-th send `tripsMicros[n]` after it leaves (the last trip for every later one), and
 * answering as late: the shared test clock moves by the trip each way. It counts the writes
 * it is sent and those it applies, and logs when each left and its stamp.
 */
function farNode(clock: { micros: number }, tripsMicros: readonly number[]) {
  const counts = { sent: 0, applied: 0 };
  const sends: { leftMicros: number; stampMicros: number }[] = [];
  const stampOf = (put: PutTuple) =>
    put.type === LatticeType.LWW
      ? stampedOfLwwPut(put.payload)!.stampMicros
      : Math.max(...stampedValuesOf(put.payload)!.map(({ stampMicros }) => stampMicros));
  const putTo = async (puts: readonly PutTuple[]) => {
    const tripMicros = tripsMicros[Math.min(sends.length, tripsMicros.length - 1)];
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
  function sessionsOf(...tripsMicros: number[]) {
    const clock = { micros: 1_700_000_000_000_000 };
    const { transport, counts, sends } = farNode(clock, tripsMicros);
    const context = {
      transport,
      cut: new CausalCut(),
      lwwCut: new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions),
      nowMicros: () => BigInt(clock.micros),
    };
    const open = () => new CausalSession(context, { scope });
    return { clock, counts, sends, open };
  }

  it("are refused once, then stamped ahead by twice their lateness and applied, each time", async () => {
    // 150 ms each way against a lag of 100 ms: a stamp that only follows the floor arrives 50 ms below it.
    const { counts, sends, open } = sessionsOf(150_000);
    const first = open();
    await first.put("a", "1");
    expect(counts).toEqual({ sent: 2, applied: 1 });
    // 50 001 µs late: the stamp sent again leads the clock by twice that.
    expect(sends.map(({ leftMicros, stampMicros }) => stampMicros - leftMicros)).toEqual([0, 100_002]);
    // A fresh write is stamped by the clock again (a lead kept would keep every later value unstable for longer).
    await first.put("b", "2");
    await open().put("c", "3");
    expect(counts).toEqual({ sent: 6, applied: 3 });
  });

  it("are applied at the third attempt when the trip grows (a queue building at the node)", async () => {
    // 150 ms, then 250 ms each way: the second attempt, led by 100 ms, arrives 50 ms below the
    // floor, which is 150 ms past the clock it left by; the third leads by twice that.
    const { counts, sends, open } = sessionsOf(150_000, 250_000);
    await open().put("a", "1");
    expect(counts).toEqual({ sent: 3, applied: 1 });
    expect(sends.map(({ leftMicros, stampMicros }) => stampMicros - leftMicros)).toEqual([0, 100_002, 300_002]);
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
