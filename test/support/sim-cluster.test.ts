/**
 * The simulated cluster's stable time for causal-multi-key-lww's values (sim-cluster.ts,
 * docs/causal-stability.md §9): a stamped LWW write is judged by the accept floor and
 * counted in the stable time as a stamped MULTI_CAUSAL one is, so that the sessions tested
 * on it meet the refusals and the stable time a node would give them. A plain LWW write is
 * neither.
 */
import { encodeCausalLww } from "../../src/lattices/causal-lww";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeLww } from "../../src/lattices/values";
import type { PutTuple } from "../../src/consistency/transport";
import { NO_FAULTS, SimCluster } from "./sim-cluster";

const utf8 = new TextEncoder();
/** The simulated cluster's first epoch. */
const EPOCH = 1;

function stampedLwwPut(key: string, stampMicros: number, epoch = EPOCH): PutTuple {
  const payload = encodeCausalLww({
    stampMicros,
    baseMicros: 0,
    writer: utf8.encode("w"),
    dependencyStamps: [],
    value: utf8.encode("v"),
    epoch,
    baseEpoch: 0,
  });
  return { key, type: LatticeType.LWW, payload };
}

describe("the simulated cluster's stable time, with stamped LWW writes", () => {
  it("raises the floor with them, refuses stale ones, and holds the stable time below them until every replica has them", async () => {
    const cluster = new SimCluster(1, NO_FAULTS, "held");
    // Only sim-0 holds it yet: the stable time stays below its stamp.
    const applied = await cluster.putToReplica("sim-0", [stampedLwwPut("a", 1_000)]);
    expect(applied.get("a")).toEqual({ status: "applied", stableMicros: 999, stableEpoch: EPOCH });
    // The floor is now the largest stamp taken: at it, or in another epoch, a write is refused.
    const stale = await cluster.putToReplica("sim-1", [stampedLwwPut("b", 1_000), stampedLwwPut("c", 1_001, 2)]);
    for (const key of ["b", "c"])
      expect(stale.get(key)).toMatchObject({
        status: "refused",
        error: { code: "STALE_STAMP" },
        acceptFloorMicros: 1_000,
        epoch: EPOCH,
      });
    // A plain LWW write as old is taken, and counts for nothing.
    const plain = await cluster.putToReplica("sim-1", [
      { key: "d", type: LatticeType.LWW, payload: encodeLww({ timestamp: 5, value: "x" }) },
    ]);
    expect(plain.get("d")).toMatchObject({ status: "applied" });
    expect(cluster.counts).toMatchObject({ stampedWrites: 1, staleStamps: 2, multiCausalWrites: 0 });
    // Gossip has delivered "a" everywhere: a replica reporting afresh says it is stable.
    const read = await cluster.getFromReplica("sim-2", ["a", "b"]);
    expect(read.get("a")).toMatchObject({ type: LatticeType.LWW, stableMicros: 1_000, stableEpoch: EPOCH });
    expect(read.get("b")).toBeUndefined();
  });
});
