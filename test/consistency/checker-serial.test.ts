/**
 * No false positives (docs/consistency.md §4.3 (a)): histories of the serial reference
 * executor, whose transactions run one at a time with invoke/ok spans in real-time order,
 * hold no anomaly of any class at any level; and the checker keeps up with 20 000
 * transactions. Seeded fast-check runs: a failure prints its seed and the shrunk workload;
 * ANNAKV_SEED replays it.
 */
import fc from "fast-check";
import { checkHistory } from "../support/history/checker";
import type { HistoryEvent } from "../support/history/events";
import { classesFound } from "../support/history/hand-history";
import { LEVELS } from "../support/history/levels";
import { SerialExecutor } from "../support/history/serial-executor";
import { Random, testSeed } from "../support/random";
import { runSerial, workloadArbitrary } from "../support/history/workload-arbitraries";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x5e41a1;
const RUNS = 200;
const STEPS_MAX = 60;

describe("checker on serial histories", () => {
  it("finds no anomaly of any class at any level", () => {
    fc.assert(
      fc.property(workloadArbitrary(STEPS_MAX), fc.constantFrom(...LEVELS), (workload, level) => {
        const { events, initial } = runSerial(workload);
        const verdict = checkHistory(events, { level, initial });
        expect(classesFound(verdict)).toEqual([]);
        expect(verdict.valid).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe("checker at scale", () => {
  const TRANSACTIONS = 20_000;
  const PROCESSES = 16;
  /** A quadratic step would take minutes here; linear ones take about a second on 2 busy cores. */
  const CHECK_MS_MAX = 15_000;
  const keys = [
    ...Array.from({ length: 200 }, (_, i) => `x${i}`),
    ...Array.from({ length: 50 }, (_, i) => `c${i}`),
    ...Array.from({ length: 5 }, (_, i) => `s${i}`),
  ];
  const seed = testSeed();
  let events: readonly HistoryEvent[] = [];

  beforeAll(() => {
    const random = new Random(seed);
    const executor = new SerialExecutor({}, keys);
    for (let i = 0; i < TRANSACTIONS; i++) {
      const ops = Array.from({ length: 1 + random.int(4) }, () => ({
        write: random.chance(0.5),
        key: random.pick(keys),
      }));
      const outcome = random.chance(0.9) ? "ok" : random.pick(["fail", "info-applied", "info-lost"] as const);
      executor.runStep({ process: random.int(PROCESSES), outcome, ops }, "serial");
    }
    executor.finish();
    events = executor.recorder.events();
  });

  it.each(["causal-multi-key", "causal-single-key"] as const)("checks 20 000 transactions at %s", (level) => {
    const started = process.hrtime.bigint();
    const verdict = checkHistory(events, { level });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect({ seed, found: classesFound(verdict), slow: elapsedMs > CHECK_MS_MAX }).toEqual({
      seed,
      found: [],
      slow: false,
    });
    expect(verdict.counts.ok + verdict.counts.fail + verdict.counts.info).toBe(TRANSACTIONS);
  });
});
