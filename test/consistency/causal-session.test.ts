/**
 * Causal sessions' API, errors and limits (src/consistency/causal-session.ts,
 * docs/consistency.md §2.7, §2.8, §3), each where §3 puts it, in the simulated cluster with
 * its faults off and values placed on chosen replicas: siblings per session, dependencies
 * fetched from the next replica, the stale but causal fallback, CAUSAL_DEPENDENCY_UNAVAILABLE,
 * a write of unknown outcome sent again before the next call that depends on it,
 * SESSION_LIMIT, bare values.
 */
import { CausalCut } from "../../src/consistency/causal-cut";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import type { CausalCutLimits, CausalScope, CausalSessionOptions } from "../../src/consistency/causal-options";
import { CausalSession } from "../../src/consistency/causal-session";
import type { GetOptions, KeyTransport, PutOutcome, PutTuple, ValueRead } from "../../src/consistency/transport";
import { encodeStamped, hasStaleStamp, stampedValuesOf } from "../../src/lattices/causal-stamp";
import { LatticeType } from "../../src/lattices/lattice-type";
import { toVectorClock } from "../../src/lattices/vector-clock";
import { decodeMultiCausal, encodeLww, encodeMultiCausal } from "../../src/lattices/values";
import { decodeDottedCausalWire } from "../../src/lattices/dotted-causal";
import { NO_FAULTS, REPLICA_COUNT, SimCluster } from "../support/sim-cluster";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const texts = (values: Uint8Array[]) => values.map(text).sort();

function session(
  transport: KeyTransport,
  options: CausalSessionOptions,
  sessionId?: string,
  cut: CausalCut = new CausalCut(),
): CausalSession {
  return new CausalSession({ transport, cut, sessionId }, options);
}

/** A MULTI_CAUSAL value of one write, its value in an envelope with the write's clock. */
function multiCausal(
  clock: Record<string, number>,
  value: string,
  dependencies: Record<string, Record<string, number>> = {},
) {
  const entries = Object.entries(clock).map(([id, counter]) => ({ key: utf8.encode(id), value: counter }));
  return {
    type: LatticeType.MULTI_CAUSAL,
    payload: encodeMultiCausal({
      vectorClock: clock,
      dependencies: Object.entries(dependencies).map(([key, vectorClock]) => ({ key, vectorClock })),
      values: [encodeEnvelope({ clock: toVectorClock(entries), value: utf8.encode(value) })],
    }),
  };
}

/** Places a value on some replicas only, as if gossip had not reached the others. */
function place(cluster: SimCluster, key: string, value: ValueRead, replicas: readonly number[]): void {
  for (const index of replicas) expect(cluster.replicas[index].merge(key, value)).toBe(true);
}

/** The cluster as a client whose first answer always comes from `replica`, and which counts its calls. */
function firstAnswerFrom(cluster: SimCluster, replica = "sim-0") {
  const calls = { getMany: 0, getFromReplica: [] as string[] };
  const transport: KeyTransport = {
    getMany: (keys) => {
      calls.getMany++;
      return cluster.getFromReplica(replica, keys);
    },
    putManySettled: (puts) => cluster.putManySettled(puts),
    putToReplica: (replica, puts) => cluster.putToReplica(replica, puts),
    replicasOf: () => cluster.replicasOf(),
    getFromReplica: (replica, keys) => {
      calls.getFromReplica.push(replica);
      return cluster.getFromReplica(replica, keys);
    },
  };
  return { transport, calls };
}

describe.each<CausalScope>(["single-key", "multi-key"])("causal sessions, %s", (scope) => {
  it("keeps concurrent writes of one client's sessions as siblings, and a write over what was read supersedes them", async () => {
    const cluster = new SimCluster(1, NO_FAULTS);
    const cut = new CausalCut();
    await session(cluster, { scope }, "s1", cut).put("k", "one");
    await session(cluster, { scope }, "s2", cut).put("k", "two");
    const reader = session(cluster, { scope }, "s3", cut);
    expect(texts(await reader.get("k"))).toEqual(["one", "two"]);
    await reader.put("k", "three");
    expect(texts(await session(cluster, { scope }, "s4").get("k"))).toEqual(["three"]);
    const stored = cluster.replicas[0].values.get("k")!;
    if (scope === "single-key") {
      // Versions named by the replicas that took them (dots), never by the sessions that wrote them.
      const replicaIds = cluster.replicas.map((replica) => text(replica.dots.currentId));
      const named = decodeDottedCausalWire(stored.payload).context.vector.map(({ key }) => text(key));
      expect(named.length).toBeGreaterThan(0);
      expect(named.filter((id) => !replicaIds.includes(id))).toEqual([]);
    } else {
      expect(Object.fromEntries(decodeMultiCausal(stored.payload).vectorClock)).toEqual({ s1: 1, s2: 1, s3: 1 });
    }
    expect(await reader.get("absent")).toEqual([]);
    expect(reader.stateSize.keyCount).toBeGreaterThan(0);
  });

  it("runs a session's calls one at a time, in call order", async () => {
    const cluster = new SimCluster(2, NO_FAULTS);
    const writer = session(cluster, { scope }, "w");
    const calls = [writer.put("k", "first"), writer.put("k", "second"), writer.get("k")];
    expect(texts((await Promise.all(calls))[2] as Uint8Array[])).toEqual(["second"]);
  });

  it("fails LATTICE for a key of another type, SESSION_CLOSED after close, and checks its options", async () => {
    const cluster = new SimCluster(4, NO_FAULTS);
    await cluster.putManySettled([
      { key: "lww", type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) },
    ]);
    const causal = session(cluster, { scope });
    await expect(causal.get("lww")).rejects.toMatchObject({ name: "ConsistencyError", code: "LATTICE" });
    await expect(causal.put("lww", "v")).rejects.toMatchObject({ code: "LATTICE" });
    const written = causal.put("k", "before close");
    causal.close();
    await written;
    await expect(causal.get("k")).rejects.toMatchObject({ code: "SESSION_CLOSED" });
    expect(() => session(cluster, { scope: "cross-key" as CausalScope })).toThrow(
      /scope must be one of single-key, multi-key/,
    );
    expect(() => session(cluster, { scope, maxDependencies: -1 })).toThrow(/maxDependencies must be an integer from 0/);
    expect(() => session(cluster, { scope, dependencyWaitMs: 1.5 })).toThrow(RangeError);
    expect(() => session(cluster, { scope, maxKeys: 2_000_000 })).toThrow(RangeError);
    expect(() => session(cluster, { scope, envelope: "yes" as unknown as boolean })).toThrow(TypeError);
  });

  it("fails SESSION_LIMIT past maxKeys before anything is sent", async () => {
    const cluster = new SimCluster(5, NO_FAULTS);
    const limited = session(cluster, { scope, maxKeys: 1 });
    await limited.put("k1", "v");
    await expect(limited.put("k2", "v")).rejects.toMatchObject({ code: "SESSION_LIMIT", guarantee: `causal-${scope}` });
    expect(cluster.replicas.some((replica) => replica.values.has("k2"))).toBe(false);
  });
});

describe("causal sessions, single-key", () => {
  /**
   * A cluster whose accept floor follows a clock 10 ms behind (what settles a write of unknown
   * outcome), the clock moving 1 ms each time a session stamps a write, and by `passTime`.
   */
  function clockedCluster(seed: number, faults = NO_FAULTS) {
    let nowMicros = 1_000_000n;
    const clock = () => (nowMicros += 1000n);
    const cluster = new SimCluster(seed, faults, "held", {
      nowMicros: () => Number(nowMicros),
      acceptLagMicros: 10_000,
    });
    return { cluster, clock, passTime: (micros: bigint) => (nowMicros += micros) };
  }

  /** A session that wrote a0 to "a", then a1 while every replica was paused: a1's outcome is unknown. */
  async function unknownWrite(seed: number) {
    const { cluster, clock, passTime } = clockedCluster(seed, { ...NO_FAULTS, resume: 0 });
    const writer = new CausalSession(
      { transport: cluster, cut: new CausalCut(), nowMicros: clock },
      { scope: "single-key", dependencyWaitMs: 100 },
    );
    await writer.put("a", "a0");
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(writer.put("a", "a1")).rejects.toMatchObject({ code: "TIMEOUT" });
    return { cluster, writer, passTime };
  }

  it("settles a write of unknown outcome before the session's next call on its key, and fails while it cannot", async () => {
    const { cluster, writer } = await unknownWrite(12);
    // Sent once only: one replica holds the request, to apply when it resumes if its stamp is still above the floor.
    expect(cluster.replicas.filter((replica) => replica.inbox.length > 0)).toHaveLength(1);
    await expect(writer.get("a")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      guarantee: "causal-single-key",
      message: expect.stringMatching(/the session's write of "a" may have happened, and every later call on the key/),
    });
    // It resumes in time: the write happens, the stable time passes it, and the floor takes it.
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.resume(index);
    expect(texts(await writer.get("a"))).toEqual(["a1"]);
    await writer.put("a", "a2");
    expect(texts(await session(cluster, { scope: "single-key" }).get("a"))).toEqual(["a2"]);
  });

  it("drops a write of unknown outcome that arrived after the stable time passed it, and goes on", async () => {
    const { cluster, writer, passTime } = await unknownWrite(13);
    passTime(1_000_000n);
    // The replica that holds the request resumes only now: the floor has passed its stamp, so it is refused.
    cluster.heal();
    expect(texts(await writer.get("a"))).toEqual(["a0"]);
    await writer.put("a", "a2");
    expect(texts(await session(cluster, { scope: "single-key" }).get("a"))).toEqual(["a2"]);
    expect(cluster.counts.staleStamps).toBeGreaterThan(0);
  });

  it("writes bare SINGLE_CAUSAL values with envelope: false, which a session of replica-named versions refuses clearly", async () => {
    const cluster = new SimCluster(3, NO_FAULTS);
    await session(cluster, { scope: "single-key", envelope: false }, "bare").put("k", "plain");
    await session(cluster, { scope: "single-key", envelope: false }, "other").put("k", "also plain");
    expect(cluster.replicas[1].values.get("k")!.type).toBe(LatticeType.SINGLE_CAUSAL);
    expect(texts(await session(cluster, { scope: "single-key", envelope: false }).get("k"))).toEqual([
      "also plain",
      "plain",
    ]);
    await expect(session(cluster, { scope: "single-key" }).get("k")).rejects.toMatchObject({
      code: "LATTICE",
      message: expect.stringMatching(/"k" holds a SINGLE_CAUSAL value, not DOTTED_CAUSAL/),
    });
  });
});

describe("causal sessions, multi-key", () => {
  it("sends a write of unknown outcome again before the session reads its key, and fails while it cannot", async () => {
    // Gossip held back: a replica holds only what was sent to it.
    const cluster = new SimCluster(12, { ...NO_FAULTS, deliver: 0, resume: 0 });
    const writer = session(firstAnswerFrom(cluster, "sim-1").transport, { scope: "multi-key" });
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(writer.put("a", "a1")).rejects.toMatchObject({ code: "TIMEOUT" });
    await expect(writer.get("a")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(/the session's write of "a" may not have happened/),
    });
    // The write happened on replica 0 alone; the session reads from replica 1, which never got it.
    cluster.crash(1);
    cluster.crash(2);
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.resume(index);
    expect(cluster.replicas[0].values.has("a") && !cluster.replicas[1].values.has("a")).toBe(true);
    expect(texts(await writer.get("a"))).toEqual(["a1"]);
  });

  it("writes bare values with envelope: false, which other sessions show as they are", async () => {
    const cluster = new SimCluster(3, NO_FAULTS);
    await session(cluster, { scope: "multi-key", envelope: false }, "bare").put("k", "plain");
    await session(cluster, { scope: "multi-key" }, "wrapped").put("k", "enveloped");
    const stored = cluster.replicas[1].values.get("k")!;
    expect(decodeMultiCausal(stored.payload).values.map(text)).toContain("plain");
    expect(texts(await session(cluster, { scope: "multi-key" }).get("k"))).toEqual(["enveloped", "plain"]);
  });
});

describe("causal sessions, multi-key: dependencies", () => {
  const x1 = multiCausal({ w: 1 }, "x1");
  const y2 = multiCausal({ w: 2 }, "y2", { x: { w: 1 } });

  it("fetches a dependency found behind from the key's next replicas, and the cut then holds it", async () => {
    const cluster = new SimCluster(6, NO_FAULTS);
    place(cluster, "x", x1, [2]);
    place(cluster, "y", y2, [0, 1, 2]);
    const { transport, calls } = firstAnswerFrom(cluster);
    const reader = session(transport, { scope: "multi-key" });
    expect(texts(await reader.get("y"))).toEqual(["y2"]);
    expect(calls.getFromReplica).toEqual(["sim-0", "sim-1", "sim-2"]);
    // Replica 0 still lacks x: the cut answers, so the read does not go back in time.
    expect(texts(await reader.get("x"))).toEqual(["x1"]);
    const tooFewRounds = session(transport, { scope: "multi-key", maxDependencyRounds: 3 });
    await expect(tooFewRounds.get("y")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      guarantee: "causal-multi-key",
      message: expect.stringMatching(
        /"y" depends on "x", which no replica asked held at the version needed \{[^}]+: \d+\} \(3 rounds/,
      ),
    });
    await expect(session(transport, { scope: "multi-key", dependencyWaitMs: 0 }).get("y")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
    });
  });

  it("answers from the cut's older value when a newer one's dependency cannot be reached", async () => {
    const cluster = new SimCluster(7, NO_FAULTS);
    place(cluster, "x", x1, [0, 1, 2]);
    place(cluster, "y", y2, [0, 1, 2]);
    const reader = session(cluster, { scope: "multi-key" });
    expect(texts(await reader.get("y"))).toEqual(["y2"]);
    place(cluster, "y", multiCausal({ w: 3 }, "y3", { z: { v: 1 } }), [0, 1, 2]);
    expect(texts(await reader.get("y"))).toEqual(["y2"]);
    await expect(session(cluster, { scope: "multi-key" }).get("y")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(/depends on "z"/),
    });
    place(cluster, "z", multiCausal({ v: 1 }, "z1"), [0, 1, 2]);
    expect(
      texts(await reader.getMany(["y", "z"]).then((values) => [...values.get("y")!, ...values.get("z")!])),
    ).toEqual(["y3", "z1"]);
  });

  it("gives up on a replica that does not answer once dependencyWaitMs has passed", async () => {
    const cluster = new SimCluster(8, NO_FAULTS);
    place(cluster, "y", y2, [0, 1, 2]);
    const silent: KeyTransport = { ...firstAnswerFrom(cluster).transport, getFromReplica: () => new Promise(() => {}) };
    const startMs = Date.now();
    await expect(session(silent, { scope: "multi-key", dependencyWaitMs: 50 }).get("y")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
    });
    expect(Date.now() - startMs).toBeLessThan(1000);
  });

  it("depends on what it read and on its own last write, and carries what they depended on", async () => {
    const cluster = new SimCluster(9, NO_FAULTS);
    place(cluster, "x", x1, [0, 1, 2]);
    place(cluster, "y", y2, [0, 1, 2]);
    const writer = session(cluster, { scope: "multi-key" }, "s");
    await writer.get("y");
    await writer.put("a", "a1");
    await writer.put("b", "b1");
    const dependencies = (key: string) =>
      Object.fromEntries(
        decodeMultiCausal(cluster.replicas[0].values.get(key)!.payload).dependencies.map((d) => [
          d.key,
          Object.fromEntries(d.vectorClock),
        ]),
      );
    expect(dependencies("a")).toEqual({ x: { w: 1 }, y: { w: 2 } });
    expect(dependencies("b")).toEqual({ a: { s: 1 }, x: { w: 1 }, y: { w: 2 } });
  });

  it("sends a write of unknown outcome again before the next, which fails CAUSAL_DEPENDENCY_UNAVAILABLE while it cannot", async () => {
    const cluster = new SimCluster(10, { ...NO_FAULTS, resume: 0 });
    const writer = session(cluster, { scope: "multi-key" });
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(writer.put("a", "a1")).rejects.toMatchObject({ code: "TIMEOUT" });
    await expect(writer.put("b", "b1")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(/the session's write of "a" may not have happened/),
    });
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.resume(index);
    await writer.put("b", "b1");
    const reader = session(cluster, { scope: "multi-key" });
    expect(texts(await reader.get("b"))).toEqual(["b1"]);
    expect(texts(await reader.get("a"))).toEqual(["a1"]);
  });

  it("fails SESSION_LIMIT past maxDependencies, and past the cut's limits", async () => {
    const cluster = new SimCluster(11, NO_FAULTS);
    for (const key of ["a", "b", "c"]) await session(cluster, { scope: "multi-key" }).put(key, key);
    const limited = session(cluster, { scope: "multi-key", maxDependencies: 2 });
    await limited.getMany(["a", "b", "c"]);
    await expect(limited.put("d", "d")).rejects.toMatchObject({
      code: "SESSION_LIMIT",
      message: expect.stringMatching(/would depend on 3 keys, more than maxDependencies \(2\)/),
    });
    await limited.put("a", "a again");
    const small: CausalCutLimits = { maxCutKeys: 2, maxCutBytes: 1 << 20 };
    const cut = new CausalCut(small);
    const reader = session(cluster, { scope: "multi-key" }, undefined, cut);
    await expect(reader.getMany(["a", "b", "c"])).rejects.toMatchObject({
      code: "SESSION_LIMIT",
      message: expect.stringMatching(/causal cut is at its limit \(maxCutKeys 2, .*\), so it cannot take "a"/),
    });
    await reader.getMany(["b", "c"]);
    await expect(reader.put("e", "e")).rejects.toMatchObject({ code: "SESSION_LIMIT" });
    expect(cluster.replicas.some((replica) => replica.values.has("e"))).toBe(false);
    expect(cut.keyCount).toBe(2);
  });
});

describe("causal sessions, multi-key: a stable time", () => {
  async function writesNothing(): Promise<never> {
    throw new Error("this test writes nothing");
  }

  /**
   * A stamped write of `value` by session `writer` (its `counter`-th write), listing
   * `dependencies` with their stamps, on `base` (none by default).
   */
  function stampedWrite(
    writer: string,
    counter: number,
    value: string,
    stampMicros: number,
    dependencies: Array<[key: string, counter: number, stampMicros: number]> = [],
    base = { micros: 0, epoch: 0 },
  ): ValueRead {
    const clock = toVectorClock([{ key: utf8.encode(writer), value: counter }]);
    const stamped = encodeStamped({
      stampMicros,
      baseMicros: base.micros,
      baseEpoch: base.epoch,
      writer: utf8.encode(writer),
      dependencyStamps: dependencies.map(([key, , micros]) => ({
        key: utf8.encode(key),
        stampMicros: micros,
        epoch: 0,
      })),
      value: utf8.encode(value),
      epoch: 0,
    });
    return {
      type: LatticeType.MULTI_CAUSAL,
      payload: encodeMultiCausal({
        vectorClock: { [writer]: counter },
        dependencies: dependencies.map(([key, dependencyCounter]) => ({
          key,
          vectorClock: { [writer]: dependencyCounter },
        })),
        values: [encodeEnvelope({ clock, value: stamped })],
      }),
    };
  }

  /** A replica that holds `values`, every one reported with `stableMicros` in `stableEpoch` (absent keys too, when asked). */
  function replicaHolding(values: Record<string, ValueRead>, stableMicros: number, stableEpoch?: number): KeyTransport {
    const report = stableEpoch === undefined ? { stableMicros } : { stableMicros, stableEpoch };
    const answer = (keys: readonly string[], options?: GetOptions) =>
      new Map(
        keys.map((key) => {
          const value = values[key];
          if (value !== undefined) return [key, { ...value, ...report }];
          return [
            key,
            options?.absentAsValues ? { type: LatticeType.NONE, payload: new Uint8Array(0), ...report } : undefined,
          ];
        }),
      );
    return {
      getMany: async (keys, options) => answer(keys, options),
      getFromReplica: async (_, keys, options) => answer(keys, options),
      replicasOf: async () => ["r0"],
      putManySettled: writesNothing,
      putToReplica: writesNothing,
    };
  }

  it("makes a session served a cut entry require the stamp it relied on the stable time for", async () => {
    const c = stampedWrite("w", 1, "c1", 1_000);
    const a = stampedWrite("w", 2, "a2", 2_000, [["c", 1, 1_000]]);
    const cut = new CausalCut();
    // A replica that holds everything up to 3000 µs: c is stable there, so a closes without fetching it.
    const first = session(replicaHolding({ a, c }, 3_000), { scope: "multi-key" }, "s1", cut);
    expect(texts(await first.get("a"))).toEqual(["a2"]);
    // Another session of the same client meets only a replica that lost everything (stable time 500 µs):
    // the cut's a is causal only with c (stamped 1000 µs), so the read must not show a beside an absent c.
    const second = session(replicaHolding({}, 500), { scope: "multi-key", dependencyWaitMs: 100 }, "s2", cut);
    await expect(second.getMany(["c", "a"])).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(
        /no replica of "c" asked reported a stable time at or above the session's \(1000 µs/,
      ),
    });
    // Where c is held, the same read shows both.
    const third = session(replicaHolding({ c }, 3_000), { scope: "multi-key" }, "s3", cut);
    const both = await third.getMany(["c", "a"]);
    expect([texts(both.get("c")!), texts(both.get("a")!)]).toEqual([["c1"], ["a2"]]);
  });

  it("takes a stable time heard from any replica of an epoch for every replica answering in it, and no other", async () => {
    const c = stampedWrite("w", 1, "c1", 1_000);
    const a = stampedWrite("w", 2, "a2", 2_000, [["c", 1, 1_000]]);
    const cut = new CausalCut();
    // Epoch 7's stable time passes c: a closes without fetching it, and the client has heard 3000 µs of epoch 7.
    const first = session(replicaHolding({ a, c }, 3_000, 7), { scope: "multi-key" }, "s1", cut);
    expect(texts(await first.get("a"))).toEqual(["a2"]);
    // A replica of another epoch proves nothing of epoch 7: its own 500 µs is below what the entry relies on.
    const other = session(replicaHolding({}, 500, 8), { scope: "multi-key", dependencyWaitMs: 100 }, "s3", cut);
    await expect(other.getMany(["c", "a"])).rejects.toMatchObject({ code: "CAUSAL_DEPENDENCY_UNAVAILABLE" });
    // A replica of epoch 7 whose own report lags (500 µs) still holds what every member acknowledged up to 3000 µs.
    const lagging = session(replicaHolding({ c }, 500, 7), { scope: "multi-key" }, "s2", cut);
    const both = await lagging.getMany(["c", "a"]);
    expect([texts(both.get("c")!), texts(both.get("a")!)]).toEqual([["c1"], ["a2"]]);
  });

  it("takes a writer's base that names its epoch as that epoch's stable time, and one that names none as it is", async () => {
    // Written on a base of 5000 µs that some node reported in epoch 7, above anything this client heard.
    const named = stampedWrite("w", 1, "a1", 6_000, [], { micros: 5_000, epoch: 7 });
    const reader = session(replicaHolding({ a: named }, 500, 7), { scope: "multi-key" });
    expect(texts(await reader.get("a"))).toEqual(["a1"]);
    // The same base naming no epoch proves nothing of epoch 7: a replica reporting 500 µs may lack what it relies on.
    const unnamed = stampedWrite("w", 1, "a1", 6_000, [], { micros: 5_000, epoch: 0 });
    const cautious = session(replicaHolding({ a: unnamed }, 500, 7), { scope: "multi-key", dependencyWaitMs: 100 });
    await expect(cautious.get("a")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(/stable time at or above the session's \(5000 µs/),
    });
  });

  it("counts for an answer no stable time heard with it, only what was heard before its request went out", async () => {
    const c = stampedWrite("w", 1, "c1", 1_000);
    const x = stampedWrite("w", 2, "x2", 2_000, [["c", 1, 1_000]]);
    const report = { stableEpoch: 7 };
    // x's replica reports 3000 µs of epoch 7, which makes c stable; c's replica, asked in the same round, reports
    // 500 and has not got c yet. Its answer may predate the fact that 3000 µs states: asked again, it has c.
    const asked: string[] = [];
    const answer = (key: string) => {
      asked.push(key);
      if (key === "x") return { ...x, ...report, stableMicros: 3_000 };
      const held = asked.filter((name) => name === "c").length > 1;
      return held
        ? { ...c, ...report, stableMicros: 500 }
        : { type: LatticeType.NONE, payload: new Uint8Array(0), ...report, stableMicros: 500 };
    };
    const transport: KeyTransport = {
      getMany: async (keys) => new Map(keys.map((key) => [key, answer(key)])),
      getFromReplica: async (_, keys) => new Map(keys.map((key) => [key, answer(key)])),
      replicasOf: async () => ["r0"],
      putManySettled: writesNothing,
      putToReplica: writesNothing,
    };
    const reader = session(transport, { scope: "multi-key" });
    const both = await reader.getMany(["x", "c"]);
    expect([texts(both.get("x")!), texts(both.get("c")!)]).toEqual([["x2"], ["c1"]]);
    expect(asked.filter((name) => name === "c")).toHaveLength(2);
  });

  it("reads its own write from a replica that has not got it, when that replica proves nothing older is missing", async () => {
    const report = { stableMicros: 3_000, stableEpoch: 7 };
    const applied = async (puts: readonly PutTuple[]) =>
      new Map(puts.map(({ key }) => [key, { status: "applied" as const, ...report }]));
    // Every write applies on one replica, reporting 3000 µs; every read meets another that has nothing yet.
    const transport: KeyTransport = {
      getMany: async (keys) =>
        new Map(keys.map((key) => [key, { type: LatticeType.NONE, payload: new Uint8Array(0), ...report }])),
      getFromReplica: async (_, keys) =>
        new Map(keys.map((key) => [key, { type: LatticeType.NONE, payload: new Uint8Array(0), ...report }])),
      replicasOf: async () => ["r0"],
      putManySettled: applied,
      putToReplica: (_, puts) => applied(puts),
    };
    const writer = session(transport, { scope: "multi-key" });
    await writer.put("x", "mine");
    // The session requires 3000 µs of what it reads; the absent answer holds every version of x stamped at or
    // below it (none), so the cut's entry, the session's own write, misses nothing it must show.
    expect(texts(await writer.get("x"))).toEqual(["mine"]);
  });
});

describe("causal sessions, multi-key: a membership change", () => {
  /**
   * Two replicas of every key mid-change, "r7" in epoch 7 and "r8" in epoch 8: each refuses
   * a stamp of any other epoch STALE_STAMP (naming itself where `namesRefuser`), and
   * routing sends each call to the other replica than the last.
   */
  function epochsApart(namesRefuser: boolean) {
    const epochs = new Map([
      ["r7", 7],
      ["r8", 8],
    ]);
    const applied = new Map<string, PutTuple[]>([
      ["r7", []],
      ["r8", []],
    ]);
    const sent: string[] = [];
    const putTo = async (replica: string, puts: readonly PutTuple[]) => {
      sent.push(replica);
      const epoch = epochs.get(replica)!;
      return new Map<string, PutOutcome>(
        puts.map((put) => {
          if (!hasStaleStamp(put.payload, 0, epoch)) {
            applied.get(replica)!.push(put);
            return [put.key, { status: "applied", stableEpoch: epoch }];
          }
          const error = Object.assign(new Error(`${replica} refused a stamp of another epoch`), {
            code: "STALE_STAMP",
          });
          const refused = { status: "refused", error, acceptFloorMicros: 0, epoch } as const;
          return [put.key, namesRefuser ? { ...refused, replica } : refused];
        }),
      );
    };
    const readsNothing = async (): Promise<never> => {
      throw new Error("this test reads nothing");
    };
    const transport: KeyTransport = {
      getMany: readsNothing,
      getFromReplica: readsNothing,
      replicasOf: async () => [...epochs.keys()],
      putManySettled: (puts) => putTo(sent.length % 2 === 0 ? "r7" : "r8", puts),
      putToReplica: putTo,
    };
    return { transport, sent, applied };
  }

  it("sends a write refused for its epoch again to the replica that refused it, which applies it", async () => {
    const { transport, sent, applied } = epochsApart(true);
    // The session has heard of no epoch yet: its first stamp names none, and r7 refuses it naming epoch 7.
    await session(transport, { scope: "multi-key" }).put("k", "v");
    // Routed again, the stamp of epoch 7 would meet r8, which would refuse it naming 8, and so on.
    expect(sent).toEqual(["r7", "r7"]);
    expect(applied.get("r8")).toEqual([]);
    const [written] = applied.get("r7")!;
    expect(stampedValuesOf(written.payload)!.map(({ epoch }) => epoch)).toEqual([7]);
  });

  it("sends it by routing again where the replica that refused it no longer holds the key", async () => {
    // r7 refuses the first stamp for its epoch, then loses the key to r9 (of the same epoch) before the retry.
    const sent: string[] = [];
    const applied: PutTuple[] = [];
    const refusal = (replica: string, error: string, detail: object) =>
      ({
        status: "refused",
        error: Object.assign(new Error(`${replica}: ${error}`), { code: error }),
        replica,
        ...detail,
      }) as const;
    const transport: KeyTransport = {
      getMany: async () => {
        throw new Error("this test reads nothing");
      },
      getFromReplica: async () => {
        throw new Error("this test reads nothing");
      },
      replicasOf: async () => (sent.length === 0 ? ["r7"] : ["r9"]),
      putManySettled: async (puts) => {
        const replica = sent.length === 0 ? "r7" : "r9";
        sent.push(replica);
        return new Map<string, PutOutcome>(
          puts.map((put) => {
            if (hasStaleStamp(put.payload, 0, 7))
              return [put.key, refusal(replica, "STALE_STAMP", { acceptFloorMicros: 0, epoch: 7 })];
            applied.push(put);
            return [put.key, { status: "applied", stableEpoch: 7 }];
          }),
        );
      },
      putToReplica: async (replica, puts) => {
        sent.push(replica);
        return new Map<string, PutOutcome>(
          puts.map((put) => [put.key, refusal(replica, "WRONG_THREAD", { notHeld: true })]),
        );
      },
    };
    await session(transport, { scope: "multi-key" }).put("k", "v");
    expect(sent).toEqual(["r7", "r7", "r9"]);
    expect(applied.map((put) => stampedValuesOf(put.payload)!.map(({ epoch }) => epoch))).toEqual([[7]]);
  });

  it("sends it again by routing where the refusal names no replica, and fails STALE_STAMP once every attempt was refused", async () => {
    const { transport, sent, applied } = epochsApart(false);
    await expect(session(transport, { scope: "multi-key" }).put("k", "v")).rejects.toMatchObject({
      code: "STALE_STAMP",
    });
    expect(sent).toEqual(["r7", "r8", "r7"]);
    expect([...applied.values()].flat()).toEqual([]);
  });
});
