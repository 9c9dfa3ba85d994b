/**
 * The built levels proved on real nodes by their recorded histories (docs/consistency.md
 * §5, short form): three node processes on 127.0.0.1–3, 2 actors each, global and local
 * replication 2, gossip 20 ms and anti-entropy 1 s. For each level, 8 sessions over 4
 * AnnaClients (time-out 300 ms), their clocks up to 2 s apart, run for 1.5 s while records
 * between the nodes are dropped for 0.3 s (the fault file's `drop-remote-records`), then all
 * their gossip for 0.3 s (`drop-remote-gossip`: handoffs too), and one node is stopped with
 * SIGSTOP for 1 s. Then the faults end, the replicas are left to
 * agree, every replica's value is read, and the checker must find no anomaly the level
 * forbids. The workload is seeded (the sessions' steps, the node stopped); real timing is
 * not, so a failure prints its seed and witnesses rather than promising a replay.
 */
import { forbiddenFound } from "../support/history/hand-history";
import { SKEWED_CLOCKS_MICROS } from "../support/level-workload";
import { runOnCluster, startConsistencyCluster, type ConsistencyCluster } from "../support/level-workload-cluster";
import { LEVEL_ROWS } from "../support/level-workload-levels";
import { PORT_OFFSETS } from "../support/ports";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x5eed;
const RUN_MS = 1500;
/** Steps over all 8 sessions, at most: a bound on the history, far above what 1.5 s holds, so the time ends the run. */
const TRANSACTIONS_MAX = 20_000;
/** Time-outs fail some steps; far fewer commits than this would prove little. */
const OK_COUNT_MIN = 50;
const LEVEL_TIMEOUT_MS = 40_000;

describe("built levels on three real nodes under dropped gossip and a stopped node", () => {
  let cluster: ConsistencyCluster;

  beforeAll(async () => {
    cluster = await startConsistencyCluster(PORT_OFFSETS.consistencyCluster);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(LEVEL_ROWS.map((row, index) => [row.name, row, index] as const))(
    "%s: no anomaly the level forbids",
    async (_, row, index) => {
      const { verdict } = await runOnCluster(cluster, row, {
        seed: SEED + index,
        durationMs: RUN_MS,
        transactionsMax: TRANSACTIONS_MAX,
        clockSkewsMicros: SKEWED_CLOCKS_MICROS,
        keyPrefix: `${row.name}.`,
      });
      const forbidden = forbiddenFound(verdict);
      const witnesses = forbidden.map((name) => verdict.anomalies[name].witnesses[0]);
      expect({ seed: SEED + index, forbidden, witnesses }).toEqual({
        seed: SEED + index,
        forbidden: [],
        witnesses: [],
      });
      // The faults happened while sessions ran, and the sessions got work done.
      expect(verdict.faults.map(({ phase, fault }) => `${phase} ${fault}`).sort()).toEqual([
        "end drop-remote-gossip",
        "end drop-remote-records",
        "end sigstop",
        "start drop-remote-gossip",
        "start drop-remote-records",
        "start sigstop",
      ]);
      expect(verdict.counts.ok).toBeGreaterThan(OK_COUNT_MIN);
    },
    LEVEL_TIMEOUT_MS,
  );
});
