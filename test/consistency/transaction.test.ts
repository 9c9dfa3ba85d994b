/**
 * Transactions (src/consistency/transaction*.ts, docs/consistency.md §2.3–2.5) against the
 * simulated cluster: read uncommitted never lets two transactions' writes interleave (G0),
 * read committed never shows an aborted or intermediate value (G1a, G1b) and commits above
 * every stamp it read (so no G1c), item cut never reads a key twice differently (IC), under
 * the scheduler's faults and skewed clocks. Then write ids, states, limits and each error
 * where §3 puts it. Seeded fast-check runs (fast-check prints the seed and the shrunk
 * workload on failure); ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww, encodeLww } from "../../src/lattices/values";
import type { Isolation, SessionGuarantee } from "../../src/consistency/options";
import { Session } from "../../src/consistency/session";
import type { Transaction } from "../../src/consistency/transaction";
import type { KeyTransport, PutTuple } from "../../src/consistency/transport";
import { encodeWriteId, TransactionNumbers } from "../../src/consistency/write-id";
import {
  ALL_FAULTS,
  NO_FAULTS,
  REPLICA_COUNT,
  SIM_VALUE_BYTES_MAX,
  SimCluster,
  SimTransportError,
  type SimFaults,
} from "../support/sim-cluster";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x7a5c;
const RUNS = 150;
const START_MICROS = 1_700_000_000_000_000n;
const SKEWS_MICROS = [0n, 2_000_000n, -2_000_000n];
const KEYS = ["x", "y", "z"];
const SEED_ARBITRARY = fc.integer({ min: 1, max: 2 ** 31 - 1 });

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

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

/** A simulated cluster, three sessions on it with skewed wall clocks, and every LWW write sent, by value. */
function world(seed: number, faults: SimFaults, guarantees: readonly SessionGuarantee[] | "all" = []) {
  const cluster = new SimCluster(seed, faults);
  const transactionNumbers = new TransactionNumbers(() => new Uint8Array(8).fill(seed & 0xff));
  const sent = new Map<string, { stamp: bigint; writeId: string }>();
  const clock = { micros: START_MICROS };
  const sessions = SKEWS_MICROS.map(
    (skew) =>
      new Session(
        {
          transport: recording(cluster, (put) => {
            if (put.type !== LatticeType.LWW) return;
            const { timestamp, writeId, value } = decodeLww(put.payload);
            sent.set(text(value)!, { stamp: timestamp, writeId: hex(writeId) });
          }),
          transactionNumbers,
          nowMicros: () => clock.micros + skew,
        },
        { guarantees },
      ),
  );
  return { cluster, sessions, sent, clock };
}

/** Each replica's value of `keys` after healing; they must agree. */
async function healedValues(cluster: SimCluster, keys: readonly string[]) {
  cluster.heal();
  const held = await Promise.all((await cluster.replicasOf()).map((replica) => cluster.getFromReplica(replica, keys)));
  const values = new Map<string, ReturnType<typeof decodeLww> | undefined>();
  for (const key of keys) {
    const payloads = held.map((replica) => hex(replica.get(key)?.payload ?? new Uint8Array()));
    expect(new Set(payloads).size).toBe(1);
    const payload = held[0].get(key)?.payload;
    values.set(key, payload && decodeLww(payload));
  }
  return values;
}

/** Fails unless `error` is the simulated network's: a read or write that timed out, or a commit it left unknown. */
function expectTolerated(error: unknown): void {
  if (error instanceof SimTransportError && error.code === "TIMEOUT") return;
  expect(error).toMatchObject({ code: "COMMIT_UNKNOWN" });
}

describe("read uncommitted in the simulated cluster", () => {
  /** Transactions, each putting every key at least once, in its own order; the workload interleaves their puts. */
  const workload = fc.record({
    seed: SEED_ARBITRARY,
    transactions: fc.array(fc.array(fc.nat({ max: KEYS.length - 1 }), { maxLength: 5 }), {
      minLength: 2,
      maxLength: 5,
    }),
    interleaving: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  });

  it("installs every key of the last transaction in one order, the same on every key (no G0), its last put winning", async () => {
    await fc.assert(
      fc.asyncProperty(workload, async ({ seed, transactions, interleaving }) => {
        // Crashes lose writes, and a lost write can hide the order: every other fault is on.
        const { cluster, sessions, clock } = world(seed, { ...ALL_FAULTS, crash: 0 });
        const plans = transactions.map((extra) => [...KEYS.keys(), ...extra]);
        const running = plans.map((_, index) =>
          sessions[index % sessions.length].transaction({ isolation: "read-uncommitted" }),
        );
        const lastPut = running.map(() => new Map<string, string>());
        const next = plans.map(() => 0);
        for (let step = 0; next.some((done, index) => done < plans[index].length); step++) {
          clock.micros += 700n;
          const open = plans.map((_, index) => index).filter((index) => next[index] < plans[index].length);
          const index = open[interleaving[step % interleaving.length] % open.length];
          const key = KEYS[plans[index][next[index]++]];
          const value = `t${index}.${key}.${next[index]}`;
          lastPut[index].set(key, value);
          await running[index].put(key, value).catch(expectTolerated);
        }
        for (const transaction of running) await transaction.commit().catch(expectTolerated);
        const final = await healedValues(cluster, KEYS);
        // The winner of x, by its write id's transaction number (bytes 8-11).
        const winningNumber = Buffer.from(final.get("x")!.writeId).readUInt32BE(8);
        const winner = running.findIndex((transaction) => transaction.id.endsWith(`.${winningNumber}`));
        expect(winner).toBeGreaterThanOrEqual(0);
        for (const key of KEYS) expect(text(final.get(key)!.value)).toBe(lastPut[winner].get(key));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("stamps every put of a transaction alike, numbers its writes 1, 2, …, and cannot take them back on abort", async () => {
    const { cluster, sessions, sent } = world(11, NO_FAULTS);
    const transaction = sessions[0].transaction({ isolation: "read-uncommitted" });
    await transaction.put("x", "x1");
    await transaction.put("y", "y1");
    await transaction.put("x", "x2");
    const writeIds = ["x1", "y1", "x2"].map((value) => sent.get(value)!.writeId);
    const prefix = writeIds[0].slice(0, 24);
    expect(writeIds).toEqual([1, 2, 3].map((n) => prefix + n.toString(16).padStart(8, "0")));
    expect(new Set(["x1", "y1", "x2"].map((value) => sent.get(value)!.stamp)).size).toBe(1);
    // Another session sees the writes before the commit (G1b) and after the abort (G1a): read uncommitted allows both.
    const reader = sessions[1].transaction({ isolation: "read-uncommitted" });
    expect(text(await reader.get("x"))).toBe("x2");
    await transaction.abort();
    expect(transaction.state).toBe("aborted");
    expect(text((await healedValues(cluster, ["y"])).get("y")?.value)).toBe("y1");
  });

  it("rejects a put whose outcome is unknown, stays active, and its commit fails COMMIT_UNKNOWN naming the key", async () => {
    const { cluster, sessions } = world(12, { ...NO_FAULTS, resume: 0 });
    const transaction = sessions[0].transaction({ isolation: "read-uncommitted" });
    await transaction.put("x", "applied");
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(transaction.put("y", "maybe")).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(transaction.state).toBe("active");
    await expect(transaction.commit()).rejects.toMatchObject({
      code: "COMMIT_UNKNOWN",
      guarantee: "read-uncommitted",
      applied: ["x"],
      refused: [],
      unknown: ["y"],
    });
    expect(transaction.state).toBe("unknown");
  });
});

describe.each<Isolation>(["read-committed", "item-cut"])("%s in the simulated cluster", (isolation) => {
  type Step = { session: number; kind: "get" | "put" | "commit" | "abort"; key: number };
  const step: fc.Arbitrary<Step> = fc.record({
    session: fc.nat({ max: SKEWS_MICROS.length - 1 }),
    kind: fc.oneof(
      { arbitrary: fc.constant("get" as const), weight: 3 },
      { arbitrary: fc.constant("put" as const), weight: 3 },
      { arbitrary: fc.constant("commit" as const), weight: 2 },
      { arbitrary: fc.constant("abort" as const), weight: 1 },
    ),
    // Two keys: transactions meet on them often.
    key: fc.nat({ max: 1 }),
  });

  it("never shows an aborted or intermediate value, commits above every stamp read, and replicas converge", async () => {
    let commitsAfterReads = 0;
    await fc.assert(
      fc.asyncProperty(SEED_ARBITRARY, fc.array(step, { minLength: 40, maxLength: 100 }), async (seed, steps) => {
        const { cluster, sessions, sent, clock } = world(seed, ALL_FAULTS);
        const aborted = new Set<string>();
        const intermediate = new Set<string>();
        /** Per session: its open transaction, what it put, and the greatest stamp it read from others. */
        const open = sessions.map(() => ({
          transaction: undefined as Transaction | undefined,
          puts: new Map<string, string>(),
          reads: new Map<string, string | undefined>(),
          readStampMax: 0n,
        }));
        const violations: string[] = [];
        for (const [n, { session, kind, key: keyIndex }] of steps.entries()) {
          clock.micros += 1000n;
          const state = open[session];
          state.transaction ??= sessions[session].transaction({ isolation });
          const key = KEYS[keyIndex];
          try {
            if (kind === "put") {
              const value = `s${session}.${n}`;
              const previous = state.puts.get(key);
              if (previous !== undefined) intermediate.add(previous);
              await state.transaction.put(key, value);
              state.puts.set(key, value);
            } else if (kind === "get") {
              const value = text(await state.transaction.get(key));
              if (state.puts.has(key)) {
                if (value !== state.puts.get(key)) violations.push(`own write of ${key} not read`);
              } else {
                if (value !== undefined && (aborted.has(value) || intermediate.has(value)))
                  violations.push(`G1 read ${value}`);
                if (isolation === "item-cut" && state.reads.has(key) && state.reads.get(key) !== value)
                  violations.push(`IC ${key}`);
                state.reads.set(key, value);
                if (value !== undefined && sent.get(value)!.stamp > state.readStampMax)
                  state.readStampMax = sent.get(value)!.stamp;
              }
            } else {
              const ending = state.transaction;
              open[session] = { transaction: undefined, puts: new Map(), reads: new Map(), readStampMax: 0n };
              if (kind === "abort") {
                await ending.abort();
                for (const value of state.puts.values()) aborted.add(value);
              } else {
                const { stamp } = await ending
                  .commit()
                  .catch((error) => (expectTolerated(error), { stamp: undefined }));
                const written = [...state.puts.values()].map((value) => sent.get(value)?.stamp);
                if (state.readStampMax > 0n && written.some((s) => s !== undefined)) commitsAfterReads++;
                if (written.some((s) => s !== undefined && s <= state.readStampMax))
                  violations.push("G1c: commit not above a read");
                if (stamp !== undefined && written.some((s) => s !== stamp))
                  violations.push("writes of one commit differ in stamp");
              }
            }
          } catch (error) {
            expectTolerated(error);
          }
        }
        for (const state of open) {
          if (state.transaction === undefined) continue;
          await state.transaction.abort();
          for (const value of state.puts.values()) aborted.add(value);
        }
        expect(violations).toEqual([]);
        for (const value of (await healedValues(cluster, KEYS)).values()) {
          const written = text(value?.value);
          expect(written !== undefined && (aborted.has(written) || intermediate.has(written))).toBe(false);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Commits that wrote after reading others' writes: the stamp rule was put to the test.
    expect(commitsAfterReads).toBeGreaterThan(RUNS);
  });
});

describe("transactions: visibility, reads and write ids", () => {
  it("read committed: buffered puts are read back, invisible to others until the commit, all with one stamp and write id", async () => {
    const { cluster, sessions, sent } = world(21, NO_FAULTS);
    const transaction = sessions[0].transaction({ isolation: "read-committed" });
    await transaction.put("x", "x1");
    await transaction.put("y", "y1");
    await transaction.put("x", "x2");
    expect(text(await transaction.get("x"))).toBe("x2");
    const other = sessions[1].transaction({ isolation: "read-committed" });
    expect(await other.getMany(["x", "y"])).toEqual(
      new Map([
        ["x", undefined],
        ["y", undefined],
      ]),
    );
    expect(sent.size).toBe(0);
    const { stamp } = await transaction.commit();
    expect(transaction.state).toBe("committed");
    expect([...sent.keys()].sort()).toEqual(["x2", "y1"]); // only final writes leave the client
    const [x2, y1] = [sent.get("x2")!, sent.get("y1")!];
    expect(x2).toEqual(y1);
    expect(x2.stamp).toBe(stamp);
    expect(x2.writeId).toMatch(new RegExp(`^${transaction.id.split(".")[0]}[0-9a-f]{8}00000000$`));
    const final = await healedValues(cluster, ["x", "y"]);
    expect([text(final.get("x")?.value), text(final.get("y")?.value)]).toEqual(["x2", "y1"]);
  });

  it("read committed: an abort sends nothing", async () => {
    const { cluster, sessions, sent } = world(22, NO_FAULTS);
    const transaction = sessions[0].transaction({ isolation: "read-committed" });
    await transaction.put("x", "never");
    await transaction.abort();
    expect(transaction.state).toBe("aborted");
    expect(sent.size).toBe(0);
    expect((await healedValues(cluster, ["x"])).get("x")).toBeUndefined();
  });

  it("item cut: a key is read from the store once, absent included, while read committed sees another's commit", async () => {
    const { sessions } = world(23, NO_FAULTS);
    await sessions[2].putLww("x", "old");
    const cut = sessions[0].transaction({ isolation: "item-cut" });
    const committed = sessions[1].transaction({ isolation: "read-committed" });
    expect(await cut.getMany(["x", "y"])).toEqual(
      new Map([
        ["x", new TextEncoder().encode("old")],
        ["y", undefined],
      ]),
    );
    expect(text(await committed.get("x"))).toBe("old");
    await sessions[2].putLww("x", "new");
    await sessions[2].putLww("y", "new");
    expect(await cut.getMany(["x", "y"])).toEqual(
      new Map([
        ["x", new TextEncoder().encode("old")],
        ["y", undefined],
      ]),
    );
    expect(text(await committed.get("x"))).toBe("new");
    await cut.put("x", "mine");
    expect(text(await cut.get("x"))).toBe("mine");
    expect(await cut.commit()).toEqual({ stamp: expect.any(BigInt) });
  });

  it("keeps the session's guarantees: its floor serves transaction reads, and committed writes enter it", async () => {
    // Gossip never arrives: each replica holds only what was written to it.
    const { sessions } = world(24, { ...NO_FAULTS, deliver: 0 });
    const transaction = sessions[0].transaction({ isolation: "read-committed" });
    await transaction.put("x", "committed");
    await transaction.commit();
    const ryw = world(24, { ...NO_FAULTS, deliver: 0 }, ["read-your-writes"]);
    const kept = ryw.sessions[0].transaction({ isolation: "read-committed" });
    await kept.put("x", "committed");
    await kept.commit();
    const readsWithout: (string | undefined)[] = [];
    for (let round = 0; round < 12; round++) {
      expect(text((await ryw.sessions[0].getLww("x"))?.value)).toBe("committed");
      expect(text(await ryw.sessions[0].transaction({ isolation: "item-cut" }).get("x"))).toBe("committed");
      readsWithout.push(text((await sessions[0].getLww("x"))?.value));
    }
    expect(readsWithout).toContain(undefined); // without the floor, lagging replicas show
  });

  it("numbers transactions per client across its sessions, and lays write ids out big-endian", () => {
    const numbers = new TransactionNumbers(() => Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const first = numbers.next();
    expect(first).toEqual({ clientTag: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), transactionNumber: 1 });
    expect(numbers.next().transactionNumber).toBe(2);
    expect(hex(encodeWriteId({ clientTag: first.clientTag, transactionNumber: 0x01020304 }, 0xa0b0c0d0))).toBe(
      "0102030405060708" + "01020304" + "a0b0c0d0",
    );
    const { sessions } = world(25, NO_FAULTS);
    const ids = [sessions[0], sessions[1], sessions[0]].map(
      (session) => session.transaction({ isolation: "item-cut" }).id,
    );
    expect(ids).toEqual(["1919191919191919.1", "1919191919191919.2", "1919191919191919.3"]);
  });
});

describe("transactions: states, limits and errors", () => {
  it("takes one call at a time (TRANSACTION_BUSY) and none after its end (TRANSACTION_CLOSED)", async () => {
    const { sessions } = world(31, NO_FAULTS);
    const transaction = sessions[0].transaction({ isolation: "read-committed" });
    const reading = transaction.get("x");
    await expect(transaction.put("x", "v")).rejects.toMatchObject({
      code: "TRANSACTION_BUSY",
      guarantee: "read-committed",
      message: `read-committed: transaction ${transaction.id} has a call pending, and takes one at a time`,
    });
    await reading;
    const read = await transaction.commit();
    expect(read).toEqual({ stamp: undefined }); // read-only: nothing to send
    await expect(transaction.get("x")).rejects.toMatchObject({
      code: "TRANSACTION_CLOSED",
      message: `read-committed: transaction ${transaction.id} is committed`,
    });
    const aborted = sessions[0].transaction({ isolation: "read-uncommitted" });
    await aborted.abort();
    await expect(aborted.commit()).rejects.toMatchObject({
      code: "TRANSACTION_CLOSED",
      message: expect.stringMatching(/is aborted$/),
    });
  });

  it("fails TRANSACTION_LIMIT past maxKeys and maxBufferBytes (write buffer and read cache together)", async () => {
    const { sessions } = world(32, NO_FAULTS);
    const fewKeys = sessions[0].transaction({ isolation: "read-committed", maxKeys: 2 });
    await fewKeys.get("a");
    await fewKeys.put("b", "v");
    await fewKeys.put("a", "v");
    await expect(fewKeys.getMany(["b", "c"])).rejects.toMatchObject({
      code: "TRANSACTION_LIMIT",
      message: expect.stringMatching(/would touch 3 keys, over maxKeys \(2\)$/),
    });
    const fewBytes = sessions[0].transaction({ isolation: "item-cut", maxBufferBytes: 100 });
    await fewBytes.put("k", "x".repeat(90));
    await fewBytes.put("k", "x".repeat(98)); // replaces: still 2 + 98 bytes
    await expect(fewBytes.put("l", "x")).rejects.toMatchObject({ code: "TRANSACTION_LIMIT", guarantee: "item-cut" });
    await sessions[1].putLww("big", "x".repeat(200));
    const cache = sessions[0].transaction({ isolation: "item-cut", maxBufferBytes: 100 });
    await expect(cache.get("big")).rejects.toMatchObject({ code: "TRANSACTION_LIMIT" });
    expect(cache.state).toBe("active");
  });

  it("fails COMMIT_FAILED when every write is refused, and COMMIT_UNKNOWN when some may be visible", async () => {
    const { cluster, sessions } = world(33, { ...NO_FAULTS, resume: 0 });
    const tooBig = "x".repeat(SIM_VALUE_BYTES_MAX + 1);
    const refused = sessions[0].transaction({ isolation: "read-committed" });
    await refused.put("a", tooBig);
    await refused.put("b", tooBig);
    await expect(refused.commit()).rejects.toMatchObject({
      name: "CommitError",
      code: "COMMIT_FAILED",
      applied: [],
      refused: ["a", "b"],
      unknown: [],
      message: expect.stringMatching(
        /^read-committed: transaction .*'s commit made nothing visible; first cause: sim-\d refused "a"$/,
      ),
    });
    expect(refused.state).toBe("failed");
    const partly = sessions[0].transaction({ isolation: "item-cut" });
    await partly.put("a", "fits");
    await partly.put("b", tooBig);
    await expect(partly.commit()).rejects.toMatchObject({
      code: "COMMIT_UNKNOWN",
      applied: ["a"],
      refused: ["b"],
      unknown: [],
    });
    expect(partly.state).toBe("unknown");
    const silent = sessions[0].transaction({ isolation: "read-committed" });
    await silent.put("c", "maybe");
    await silent.put("d", "maybe");
    for (let index = 0; index < REPLICA_COUNT; index++) cluster.pause(index);
    await expect(silent.commit()).rejects.toMatchObject({
      code: "COMMIT_UNKNOWN",
      applied: [],
      unknown: ["c", "d"],
      message: expect.stringMatching(/applied: none; refused: none; unknown: "c", "d"\); first cause: no replica/),
    });
  });

  it("fails CLOCK_AHEAD at a commit after a read stamped too far ahead, sending nothing", async () => {
    const { cluster, sessions, sent } = world(34, NO_FAULTS);
    const farMicros = START_MICROS + 3_600_000_000n;
    await cluster.putManySettled([
      { key: "far", type: LatticeType.LWW, payload: encodeLww({ timestamp: farMicros, value: "f" }) },
    ]);
    const transaction = sessions[0].transaction({ isolation: "read-committed" });
    expect(text(await transaction.get("far"))).toBe("f");
    await transaction.put("other", "v");
    await expect(transaction.commit()).rejects.toMatchObject({ code: "CLOCK_AHEAD", guarantee: "read-committed" });
    expect(transaction.state).toBe("failed");
    expect(sent.size).toBe(0);
  });

  it("fails LATTICE on a key of another type, SESSION_CLOSED once its session closes, and refuses unknown isolation", async () => {
    const { sessions } = world(35, NO_FAULTS);
    await sessions[0].addToSet("set", ["e"]);
    const transaction = sessions[0].transaction({ isolation: "item-cut" });
    await expect(transaction.get("set")).rejects.toMatchObject({ code: "LATTICE" });
    sessions[0].close();
    await expect(transaction.get("x")).rejects.toMatchObject({ code: "SESSION_CLOSED" });
    expect(() => sessions[1].transaction({ isolation: "serializable" as Isolation })).toThrow(
      /isolation must be one of read-uncommitted, read-committed, item-cut, read-atomic, got serializable/,
    );
    expect(() => sessions[1].transaction({ isolation: "item-cut", maxKeys: 10_001 })).toThrow(RangeError);
  });
});
