/**
 * The built levels proved on the simulated cluster by their recorded histories
 * (docs/consistency.md §4, §5): each level's seeded run of 500 steps over 8 sessions, under
 * every fault of the simulator (gossip late, doubled, reordered and lost; replicas paused
 * and crashed; clients stopped mid-commit) and session clocks up to 2 s apart, holds no
 * anomaly the level forbids. Each deliberately broken variant
 * (test/support/consistency-broken.ts) shows the anomaly its missing piece rules out.
 * ANNAKV_SEED replays a run; a failure prints its seed and witnesses.
 */
import { BROKEN_VARIANTS } from "../support/consistency-broken";
import { forbiddenFound } from "../support/history/hand-history";
import { SKEWED_CLOCKS_MICROS } from "../support/level-workload";
import { LEVEL_ROWS } from "../support/level-workload-levels";
import { runOnSim } from "../support/level-workload-sim";
import { ALL_FAULTS } from "../support/sim-cluster";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x1e7e15;
const TRANSACTIONS = 500;
/** Faults time out some steps; most must still commit, or the run proves little. */
const OK_SHARE_MIN = 0.75;

describe("built levels on the simulated cluster", () => {
  it.each(LEVEL_ROWS.map((row) => [row.name, row] as const))("%s: no anomaly the level forbids", async (_, row) => {
    const { verdict, cluster } = await runOnSim(row, {
      seed: SEED,
      transactions: TRANSACTIONS,
      faults: ALL_FAULTS,
      clockSkewsMicros: SKEWED_CLOCKS_MICROS,
    });
    const forbidden = forbiddenFound(verdict);
    const witnesses = forbidden.map((name) => verdict.anomalies[name].witnesses[0]);
    expect({ seed: SEED, forbidden, witnesses }).toEqual({ seed: SEED, forbidden: [], witnesses: [] });
    expect(verdict.counts.ok).toBeGreaterThan(OK_SHARE_MIN * TRANSACTIONS);
    // Every kind of fault happened during the run.
    const { delivered, duplicated, dropped, pauses, crashes, timeouts } = cluster.counts;
    expect(Math.min(delivered, duplicated, dropped, pauses, crashes, timeouts)).toBeGreaterThan(0);
  });
});

describe("broken variants on the simulated cluster", () => {
  it.each(BROKEN_VARIANTS.map((variant) => [variant.row.name, variant.mustFind.join(", "), variant] as const))(
    "%s: the checker finds %s",
    async (_, __, variant) => {
      const { verdict } = await runOnSim(variant.row, {
        seed: SEED,
        transactions: TRANSACTIONS,
        faults: variant.simFaults ?? ALL_FAULTS,
        clockSkewsMicros: variant.clockSkewsMicros,
        keyCount: variant.keyCount,
        adaptCluster: variant.adaptSimCluster,
      });
      expect({ seed: SEED, found: forbiddenFound(verdict) }).toEqual({
        seed: SEED,
        found: expect.arrayContaining([...variant.mustFind]),
      });
      expect(verdict.valid).toBe(false);
    },
  );
});
