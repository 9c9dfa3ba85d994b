/**
 * Sessions (src/consistency/session.ts, docs/consistency.md §2.2) against the simulated
 * cluster: each of the four guarantees holds per key while the scheduler delays, doubles,
 * reorders and drops gossip, pauses and crashes replicas, and the sessions' wall clocks are
 * skewed and step back; the same workload without the guarantees shows the anomalies they
 * rule out. Then each limit and error where §3 puts it. Seeded fast-check runs (fast-check
 * prints the seed and the shrunk workload on failure); ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { compareBytes } from "../../src/lattices/lattice";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww, encodeLww, type LwwValue } from "../../src/lattices/values";
import { ConsistencyError } from "../../src/consistency/errors";
import type { SessionGuarantee, SessionOptions } from "../../src/consistency/options";
import { Session } from "../../src/consistency/session";
import type { KeyTransport, PutTuple } from "../../src/consistency/transport";
import { TransactionNumbers } from "../../src/consistency/write-id";
import { ALL_FAULTS, NO_FAULTS, REPLICA_COUNT, SimCluster, SimTransportError } from "../support/sim-cluster";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x5e55;
const RUNS = 300;
const START_MICROS = 1_700_000_000_000_000n;
/** Each session's wall clock: off by this much from the simulation's time. */
const SKEWS_MICROS = [0n, 2_000_000n, -2_000_000n];
const LWW_KEYS = ["a", "b", "c"];
const SET_KEYS = ["s", "t"];

type Operation = {
  session: number;
  kind: "putLww" | "getLww" | "addToSet" | "getSet";
  key: number;
  stepBackMicros: number;
};

const operation: fc.Arbitrary<Operation> = fc.record({
  session: fc.integer({ min: 0, max: SKEWS_MICROS.length - 1 }),
  kind: fc.constantFrom("putLww" as const, "getLww" as const, "addToSet" as const, "getSet" as const),
  key: fc.nat(),
  stepBackMicros: fc.integer({ min: 0, max: 3000 }),
});

/** LWW's version order: (timestamp, write id, value). */
function compareVersions(a: LwwValue, b: LwwValue): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareBytes(a.writeId, b.writeId) || compareBytes(a.value, b.value);
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The transport as one session sees it, telling the test each write it sends. */
function recording(inner: KeyTransport, onWrite: (put: PutTuple) => void): KeyTransport {
  return {
    getMany: (keys) => inner.getMany(keys),
    putManySettled: (puts, options) => {
      puts.forEach(onWrite);
      return inner.putManySettled(puts, options);
    },
    putToReplica: (replica, puts, options) => {
      puts.forEach(onWrite);
      return inner.putToReplica(replica, puts, options);
    },
    replicasOf: (key) => inner.replicasOf(key),
    getFromReplica: (replica, keys) => inner.getFromReplica(replica, keys),
  };
}

/** What each session has seen and done, per key, and the guarantees' violations found. */
class SessionRecord {
  readonly lastSent = new Map<string, LwwValue>();
  readonly acknowledged = new Map<string, LwwValue>();
  readonly lastRead = new Map<string, LwwValue>();
  readonly readStampMax = new Map<string, bigint>();
  readonly lastWriteStamp = new Map<string, bigint>();
  readonly elementsWritten = new Map<string, Set<string>>();
  readonly elementsRead = new Map<string, Set<string>>();

  constructor(
    readonly name: string,
    private readonly violations: string[],
  ) {}

  onWrite(put: PutTuple): void {
    if (put.type !== LatticeType.LWW) return;
    const sent = decodeLww(put.payload);
    this.lastSent.set(put.key, sent);
    const { timestamp } = sent;
    const previous = this.lastWriteStamp.get(put.key);
    if (previous !== undefined && timestamp <= previous)
      this.flag("S-MW", put.key, `stamp ${timestamp} after ${previous}`);
    const read = this.readStampMax.get(put.key);
    if (read !== undefined && timestamp <= read)
      this.flag("S-WFR", put.key, `stamp ${timestamp} not above read ${read}`);
    this.lastWriteStamp.set(put.key, timestamp);
  }

  onLwwRead(key: string, value: LwwValue | undefined): void {
    const acknowledged = this.acknowledged.get(key);
    if (acknowledged && (!value || compareVersions(value, acknowledged) < 0))
      this.flag("S-RYW", key, "own write missing");
    const last = this.lastRead.get(key);
    if (last && (!value || compareVersions(value, last) < 0)) this.flag("S-MR", key, "read went back");
    if (!value) return;
    this.lastRead.set(key, value);
    if (value.timestamp > (this.readStampMax.get(key) ?? 0n)) this.readStampMax.set(key, value.timestamp);
  }

  onSetRead(key: string, elements: Set<string>): void {
    const missing = (of: Set<string> | undefined) => [...(of ?? [])].filter((element) => !elements.has(element));
    if (missing(this.elementsWritten.get(key)).length > 0) this.flag("S-RYW", key, "own element missing");
    if (missing(this.elementsRead.get(key)).length > 0) this.flag("S-MR", key, "element read before is gone");
    this.elementsRead.set(key, elements);
  }

  private flag(anomaly: string, key: string, detail: string): void {
    this.violations.push(`${anomaly} ${this.name} ${key}: ${detail}`);
  }
}

/** Runs the workload on a fresh simulated cluster; returns the violations found and the cluster. */
async function runSessions(
  seed: number,
  operations: readonly Operation[],
  guarantees: readonly SessionGuarantee[] | "all",
): Promise<{ violations: string[]; cluster: SimCluster }> {
  const cluster = new SimCluster(seed, ALL_FAULTS);
  const transactionNumbers = new TransactionNumbers(() => new Uint8Array(8).fill(seed & 0xff));
  const violations: string[] = [];
  let simulationMicros = START_MICROS;
  const stepBacks = SKEWS_MICROS.map(() => 0n);
  const records = SKEWS_MICROS.map((_, index) => new SessionRecord(`session${index}`, violations));
  const sessions = SKEWS_MICROS.map(
    (skew, index) =>
      new Session(
        {
          transport: recording(cluster, (put) => records[index].onWrite(put)),
          transactionNumbers,
          nowMicros: () => simulationMicros + skew - stepBacks[index],
        },
        { guarantees },
      ),
  );
  for (const [n, { session: index, kind, key: keyIndex, stepBackMicros }] of operations.entries()) {
    simulationMicros += 1000n;
    stepBacks[index] = BigInt(stepBackMicros);
    const session = sessions[index];
    const record = records[index];
    const value = `${index}.${n}`;
    try {
      if (kind === "putLww") {
        const key = LWW_KEYS[keyIndex % LWW_KEYS.length];
        await session.putLww(key, value);
        record.acknowledged.set(key, record.lastSent.get(key)!);
      } else if (kind === "getLww") {
        const key = LWW_KEYS[keyIndex % LWW_KEYS.length];
        record.onLwwRead(key, await session.getLww(key));
      } else if (kind === "addToSet") {
        const key = SET_KEYS[keyIndex % SET_KEYS.length];
        await session.addToSet(key, [value]);
        const written = record.elementsWritten.get(key) ?? new Set();
        record.elementsWritten.set(key, written.add(value));
      } else {
        const key = SET_KEYS[keyIndex % SET_KEYS.length];
        record.onSetRead(key, new Set((await session.getSet(key))?.map(text)));
      }
    } catch (error) {
      // The simulated network may time out (all replicas paused); nothing else may fail.
      if (!(error instanceof SimTransportError && error.code === "TIMEOUT")) throw error;
    }
  }
  return { violations, cluster };
}

/** After healing: every replica holds the same payload for every key. */
async function expectConverged(cluster: SimCluster, keys: readonly string[]): Promise<void> {
  cluster.heal();
  const replicas = await cluster.replicasOf();
  const held = await Promise.all(replicas.map((replica) => cluster.getFromReplica(replica, keys)));
  for (const key of keys) {
    const payloads = held.map((values) => Buffer.from(values.get(key)?.payload ?? []).toString("hex"));
    expect(new Set(payloads).size).toBe(1);
  }
}

describe("session guarantees in the simulated cluster", () => {
  it("keeps all four per key under every fault, with skewed clocks that step back, and replicas converge", async () => {
    const totals = { timeouts: 0, crashes: 0, dropped: 0, duplicated: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(operation, { minLength: 30, maxLength: 100 }),
        async (seed, operations) => {
          const { violations, cluster } = await runSessions(seed, operations, "all");
          expect(violations).toEqual([]);
          await expectConverged(cluster, [...LWW_KEYS, ...SET_KEYS]);
          for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += cluster.counts[name];
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    // The faults did happen: the property is not vacuous.
    for (const count of Object.values(totals)) expect(count).toBeGreaterThan(0);
  });

  it("shows read-your-writes, monotonic-reads and writes-follow-reads violations on the same workloads without them", async () => {
    const found = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(operation, { minLength: 40, maxLength: 80 }),
        async (seed, operations) => {
          const { violations } = await runSessions(seed, operations, []);
          for (const violation of violations) found.add(violation.split(" ")[0]);
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
    expect([...found].sort()).toEqual(["S-MR", "S-RYW", "S-WFR"]);
  });
});

describe("session state, limits and errors", () => {
  const transactionNumbers = new TransactionNumbers();
  const session = (cluster: KeyTransport, options: SessionOptions, nowMicros?: () => bigint) =>
    new Session({ transport: cluster, transactionNumbers, nowMicros }, options);

  it("keeps no state without guarantees, and joins reads with the floor when it has them", async () => {
    const cluster = new SimCluster(1, NO_FAULTS);
    const eventual = session(cluster, {});
    await eventual.putLww("k", "v");
    expect(await eventual.getLww("k")).toMatchObject({ value: new TextEncoder().encode("v") });
    expect(eventual.stateSize).toEqual({ keyCount: 0, stateBytes: 0 });
    expect([...eventual.guarantees]).toEqual([]);
    const all = session(cluster, { guarantees: "all" });
    expect([...all.guarantees]).toEqual([
      "read-your-writes",
      "monotonic-reads",
      "monotonic-writes",
      "writes-follow-reads",
    ]);
    await all.addToSet("set", ["x"]);
    await all.putPriority("p", 2, "two");
    expect((await all.getSet("set"))?.map(text)).toEqual(["x"]);
    expect(await all.getPriority("p")).toMatchObject({ priority: 2 });
    expect(all.stateSize.keyCount).toBe(2);
  });

  it("leaves a write whose outcome is unknown out of the floor", async () => {
    const cluster = new SimCluster(2, { ...NO_FAULTS, resume: 0 });
    const ryw = session(cluster, { guarantees: ["read-your-writes"] });
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(ryw.putLww("k", "maybe")).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(ryw.stateSize).toEqual({ keyCount: 0, stateBytes: 0 });
    // Its outcome was unknown: the paused replicas apply it when they resume.
    cluster.heal();
    expect(text((await ryw.getLww("k"))!.value)).toBe("maybe");
  });

  it("fails SESSION_LIMIT for a new key past maxKeys, naming the guarantee that needs it, before anything is sent", async () => {
    const cluster = new SimCluster(3, NO_FAULTS);
    const limited = session(cluster, { guarantees: "all", maxKeys: 2 });
    await limited.putLww("k1", "v");
    await limited.putLww("k2", "v");
    await limited.putLww("k2", "again"); // a key it holds already takes no room
    await expect(limited.putLww("k3", "v")).rejects.toMatchObject({
      name: "ConsistencyError",
      code: "SESSION_LIMIT",
      guarantee: "read-your-writes",
      message: expect.stringMatching(/^read-your-writes: the session's state is at maxKeys \(2 keys\)/),
    });
    expect((await cluster.getFromReplica("sim-0", ["k3"])).get("k3")).toBeUndefined();
    await session(cluster, {}).putLww("k4", "by another");
    await expect(limited.getLww("k4")).rejects.toMatchObject({ code: "SESSION_LIMIT", guarantee: "monotonic-reads" });
    expect(text((await limited.getLww("k1"))!.value)).toBe("v");
  });

  it("fails SESSION_LIMIT past maxStateBytes", async () => {
    const cluster = new SimCluster(4, NO_FAULTS);
    const limited = session(cluster, { guarantees: ["read-your-writes"], maxStateBytes: 1000 });
    await limited.putLww("small", "x".repeat(100));
    await expect(limited.putLww("large", "x".repeat(1000))).rejects.toMatchObject({
      code: "SESSION_LIMIT",
      message: expect.stringMatching(/maxStateBytes \(1000 bytes; it would take \d+\)/),
    });
    expect(limited.stateSize.keyCount).toBe(1);
    expect(limited.stateSize.stateBytes).toBeLessThanOrEqual(1000);
  });

  it("fails CLOCK_AHEAD for a write after a version stamped too far ahead, and only for that key", async () => {
    const cluster = new SimCluster(5, NO_FAULTS);
    let nowMicros = START_MICROS;
    const wfr = session(cluster, { guarantees: ["writes-follow-reads"], maxClockAheadMs: 1000 }, () => nowMicros);
    const farMicros = START_MICROS + 5_000_000n;
    await cluster.putManySettled([
      { key: "far", type: LatticeType.LWW, payload: encodeLww({ timestamp: farMicros, value: "f" }) },
    ]);
    expect((await wfr.getLww("far"))?.timestamp).toBe(farMicros);
    await expect(wfr.putLww("far", "mine")).rejects.toMatchObject({
      code: "CLOCK_AHEAD",
      guarantee: "writes-follow-reads",
      message: expect.stringMatching(/^writes-follow-reads: a version read has stamp \d+ µs, 5000 ms ahead/),
    });
    await wfr.putLww("near", "fine");
    nowMicros = farMicros - 500_000n; // the wall clock catches up to within maxClockAheadMs
    await wfr.putLww("far", "mine");
    const written = await wfr.getLww("far");
    expect(text(written!.value)).toBe("mine");
    expect(written!.timestamp).toBe(farMicros + 1n);
  });

  it("fails LATTICE for a key of another type, and SESSION_CLOSED after close", async () => {
    const cluster = new SimCluster(6, NO_FAULTS);
    const all = session(cluster, { guarantees: "all" });
    await all.addToSet("set", ["x"]);
    await expect(all.getLww("set")).rejects.toMatchObject({ code: "LATTICE", guarantee: undefined });
    await expect(all.putLww("set", "v")).rejects.toMatchObject({ code: "LATTICE" });
    all.close();
    await expect(all.getSet("set")).rejects.toMatchObject({ code: "SESSION_CLOSED" });
    expect(() => all.transaction({ isolation: "read-committed" })).toThrow(ConsistencyError);
  });

  it("checks its options where the session opens", () => {
    const cluster = new SimCluster(7, NO_FAULTS);
    expect(() => session(cluster, { guarantees: ["monotonic-everything" as SessionGuarantee] })).toThrow(
      /unknown session guarantee "monotonic-everything"/,
    );
    expect(() => session(cluster, { maxKeys: 2_000_000 })).toThrow(/maxKeys must be an integer from 1 to 1000000/);
    expect(() => session(cluster, { maxStateBytes: 0 })).toThrow(RangeError);
    expect(() => session(cluster, { maxClockAheadMs: -1 })).toThrow(RangeError);
  });
});
