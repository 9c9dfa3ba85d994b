/**
 * The checker finds what is planted (docs/consistency.md §4.3 (c)): one anomaly of class
 * X planted into a serial history (a read redirected to an aborted value, two stamps
 * swapped, a dependency dropped, ...) yields X, with the planted transactions and keys in
 * one of X's witnesses, and fails the level that forbids X. Seeded fast-check runs (a
 * failure prints its seed and the shrunk history); ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { checkHistory } from "../support/history/checker";
import { PLANTS } from "../support/history/plants";
import { plantArbitrary, runSerial, workloadArbitrary } from "../support/history/workload-arbitraries";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x91a47;
const RUNS_PER_PLANT = 40;
const STEPS_MAX = 40;

describe("checker on histories with one planted anomaly", () => {
  it.each(Object.keys(PLANTS))("%s", (name) => {
    const { anomalyClass, level } = PLANTS[name];
    fc.assert(
      fc.property(workloadArbitrary(STEPS_MAX), plantArbitrary, (workload, spec) => {
        const { events, initial, planted } = runSerial(workload, { ...spec, name });
        const verdict = checkHistory(events, { level, initial });
        const report = verdict.anomalies[anomalyClass];
        expect(report.count).toBeGreaterThan(0);
        const witnessed = report.witnesses.some(
          (witness) =>
            planted!.txns.every((txn) => witness.txns.includes(txn)) &&
            planted!.keys.every((key) => witness.keys.includes(key)),
        );
        expect({ witnessed, planted, witnesses: report.witnesses }).toMatchObject({ witnessed: true });
        // A forbidden class fails the run; a write skew (G2, forbidden nowhere) leaves it valid.
        expect(verdict.valid).toBe(!report.forbidden);
      }),
      { seed: SEED, numRuns: RUNS_PER_PLANT },
    );
  });
});
