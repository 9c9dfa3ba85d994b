/**
 * Read atomic (src/consistency/read-atomic*.ts, docs/consistency.md §2.6) against the
 * simulated cluster, whose replicas merge with the store's own LWW lattice (window and all).
 * Properties under the scheduler's faults: no fractured read (if T reads x from Ti and Ti
 * wrote y, T's read of y is Ti's or newer), no prepared-only version ever seen, replicas
 * converge. Then the commit's two messages, a commit stopped halfway (prepared versions
 * invisible, readers repair), each error code, the limits, and the mutation checks: without
 * the lower-bound round fractured reads are found; without the prepare a half-done commit
 * leaves versions no reader can find. Seeded fast-check runs; ANNAKV_SEED replays one.
 */
import fc from "fast-check";
import { BufferBudget } from "../../src/consistency/buffer-budget";
import { resolveSessionOptions, resolveTransactionOptions, type SessionGuarantee } from "../../src/consistency/options";
import { compareVersions } from "../../src/consistency/read-atomic";
import { AtomicReads } from "../../src/consistency/read-atomic-reads";
import { AtomicWrites } from "../../src/consistency/read-atomic-writes";
import { Session, SessionCore } from "../../src/consistency/session";
import { Transaction, type TransactionContext } from "../../src/consistency/transaction";
import type { KeyTransport, PutOptions, PutOutcome, PutTuple } from "../../src/consistency/transport";
import { TransactionNumbers, transactionIdOf } from "../../src/consistency/write-id";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww, type LwwValue } from "../../src/lattices/values";
import { ALL_FAULTS, NO_FAULTS, SIM_VALUE_BYTES_MAX, SimCluster, type SimFaults } from "../support/sim-cluster";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x7a70;
const RUNS = 100;
const START_MICROS = 1_700_000_000_000_000n;
const SKEWS_MICROS = [0n, 1_000_000n, -1_000_000n];
const KEYS = ["a", "b", "c", "d"];
/** A property run must not sleep: a timer would let background resends interleave with the seeded scheduler. */
const NO_WAIT = { versionWaitMs: 0 };

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? null : new TextDecoder().decode(bytes));

/** What a transport wrapper may do to a write: send it, or pretend (a replica acked, then lost it, or never answered). */
type PutFate = "send" | "ack-and-lose" | "unknown";

/** `inner` with every write told to `onWrite` first, which decides its fate. */
function intercepted(inner: KeyTransport, onWrite: (put: PutTuple, options?: PutOptions) => PutFate): KeyTransport {
  /** The writes `onWrite` lets through sent by `send`; the others' outcomes as their fates say. */
  const settle = async (
    puts: readonly PutTuple[],
    options: PutOptions | undefined,
    send: (sent: readonly PutTuple[]) => Promise<Map<string, PutOutcome>>,
  ) => {
    const fates = puts.map((put) => onWrite(put, options));
    const outcomes = await send(puts.filter((_, index) => fates[index] === "send"));
    puts.forEach((put, index) => {
      if (fates[index] === "ack-and-lose") outcomes.set(put.key, { status: "applied" });
      if (fates[index] === "unknown") outcomes.set(put.key, unknownOutcome(put.key));
    });
    return outcomes;
  };
  return {
    getMany: (keys) => inner.getMany(keys),
    putManySettled: (puts, options) => settle(puts, options, (sent) => inner.putManySettled(sent, options)),
    putToReplica: (replica, puts, options) =>
      settle(puts, options, (sent) => inner.putToReplica(replica, sent, options)),
    replicasOf: (key) => inner.replicasOf(key),
    getFromReplica: (replica, keys) => inner.getFromReplica(replica, keys),
  };
}

function unknownOutcome(key: string): PutOutcome {
  return { status: "unknown", error: Object.assign(new Error(`no answer for ${key}`), { code: "TIMEOUT" }) };
}

/** Whether a write is a prepare (a version alone in the window) or a commit (a committed part). */
function phaseOf(put: PutTuple): "prepare" | "commit" | "plain" {
  if (put.type !== LatticeType.LWW) return "plain";
  const value = decodeLww(put.payload);
  if (value.versions.length === 0) return "plain";
  return value.timestamp === 0n ? "prepare" : "commit";
}

interface World {
  cluster: SimCluster;
  sessions: Session[];
  /** Each value written, by its text: its version (stamp, write id, write set). */
  written: Map<string, LwwValue>;
  /** Values whose transaction sent at least one commit: only those may ever be read. */
  committing: Set<string>;
  contexts: { transport: KeyTransport; transactionNumbers: TransactionNumbers; nowMicros: () => bigint }[];
  clock: { micros: bigint };
}

/** A simulated cluster and three sessions on it with skewed clocks; `fate` decides each write's fate by session (default: send). */
function world(
  seed: number,
  faults: SimFaults,
  options: { guarantees?: readonly SessionGuarantee[]; fate?: (put: PutTuple, session: number) => PutFate } = {},
): World {
  const cluster = new SimCluster(seed, faults);
  const transactionNumbers = new TransactionNumbers(() => new Uint8Array(8).fill(seed & 0xff));
  const written = new Map<string, LwwValue>();
  const committing = new Set<string>();
  const clock = { micros: START_MICROS };
  const record = (put: PutTuple) => {
    if (put.type !== LatticeType.LWW) return;
    const value = decodeLww(put.payload);
    const phase = phaseOf(put);
    const version = phase === "prepare" ? value.versions[0] : value;
    written.set(text(version.value)!, { ...value, ...version, versions: [] });
    if (phase === "commit") committing.add(text(value.value)!);
  };
  const contexts = SKEWS_MICROS.map((skew, session) => ({
    transport: intercepted(cluster, (put) => (record(put), options.fate?.(put, session) ?? "send")),
    transactionNumbers,
    nowMicros: () => clock.micros + skew,
  }));
  const sessions = contexts.map((context) => new Session(context, { guarantees: options.guarantees ?? [] }));
  return { cluster, sessions, written, committing, contexts, clock };
}

/** Writes each key's first value as a plain LWW write (no window): what a non-transactional client left. */
async function preload({ sessions, clock }: World, keys: readonly string[] = KEYS): Promise<void> {
  for (const key of keys) {
    clock.micros += 10n;
    await sessions[0].putLww(key, `init:${key}`).catch(expectTolerated);
  }
}

type Reads = Map<string, string | null>;

/** Fractured reads among `reads` (one transaction's), as "read x=v from Ti, but y=w": empty when none. */
function fractures(reads: Reads, world: World): string[] {
  const found: string[] = [];
  for (const [x, value] of reads) {
    const writer = value === null ? undefined : world.written.get(value);
    if (writer === undefined) continue;
    for (const y of writer.writeSet) {
      if (y === x || !reads.has(y)) continue;
      const other = reads.get(y)!;
      const otherVersion = other === null ? undefined : world.written.get(other);
      if (otherVersion === undefined || compareVersions(otherVersion, writer) < 0) {
        found.push(`read ${x}=${value}, whose transaction wrote ${y}, but ${y}=${other}`);
      }
    }
  }
  return found;
}

/** The errors a run under faults may see: none of them is an anomaly. */
const TOLERATED = new Set([
  "TIMEOUT",
  "COMMIT_UNKNOWN",
  "COMMIT_FAILED",
  "READ_ATOMIC_CONFLICT",
  "VERSION_UNAVAILABLE",
]);

function expectTolerated(error: unknown): void {
  const code = (error as { code?: string }).code;
  if (code === undefined || !TOLERATED.has(code)) throw error;
}

/** Read atomic transactions of a session, with the lower-bound round or the prepare swapped out when asked. */
type Opener = (world: World, session: number) => Transaction;

const correct: Opener = (world, session) =>
  world.sessions[session].transaction({ isolation: "read-atomic", ...NO_WAIT });

/** A transaction built as composeTransaction builds it, with its writes or reads replaced. */
function composed(
  pieces: {
    writes?: (context: TransactionContext) => AtomicWrites;
    reads?: (context: TransactionContext) => AtomicReads;
  },
  cores = new Map<World, SessionCore[]>(),
): Opener {
  return (world, session) => {
    if (!cores.has(world))
      cores.set(
        world,
        world.contexts.map((c) => new SessionCore(c, resolveSessionOptions())),
      );
    const core = cores.get(world)![session];
    const options = resolveTransactionOptions({ isolation: "read-atomic", ...NO_WAIT });
    const tag = core.context.transactionNumbers.next();
    const id = transactionIdOf(tag);
    const budget = new BufferBudget(options.maxBufferBytes, "read-atomic", id);
    const context: TransactionContext = { core, tag, id, isolation: "read-atomic", budget };
    return new Transaction(
      context,
      options.maxKeys,
      pieces.writes?.(context) ?? new AtomicWrites(context, options.prepareAcks),
      pieces.reads?.(context) ?? new AtomicReads(context, options.versionWaitMs),
    );
  };
}

/** The mutation "no lower-bound round": a read returns round 1's versions, fractured or not. */
class NoLowerBounds extends AtomicReads {
  protected override async raiseToLowerBounds(): Promise<void> {}
}

/** The mutation "commit without prepare". */
class NoPrepare extends AtomicWrites {
  protected override async prepare(): Promise<void> {}
}

/** One step of the workload: a session runs a transaction that reads some keys (in one or two calls), then writes some. */
interface Step {
  session: number;
  firstReads: number[];
  secondReads: number[];
  writes: number[];
}

const keyIndexes = fc.uniqueArray(fc.nat({ max: KEYS.length - 1 }), { maxLength: KEYS.length });
const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  session: fc.nat({ max: SKEWS_MICROS.length - 1 }),
  firstReads: keyIndexes,
  secondReads: keyIndexes,
  writes: fc.uniqueArray(fc.nat({ max: KEYS.length - 1 }), { minLength: 0, maxLength: 3 }),
});

/** Runs the steps; returns every fracture seen, and checks that no prepared-only version was ever read. */
async function runWorkload(world: World, steps: readonly Step[], open: Opener): Promise<string[]> {
  const fractured: string[] = [];
  for (const [n, step] of steps.entries()) {
    world.clock.micros += 700n;
    const transaction = open(world, step.session);
    const reads: Reads = new Map();
    try {
      for (const batch of [step.firstReads, step.secondReads]) {
        if (batch.length === 0) continue;
        const values = await transaction.getMany(batch.map((index) => KEYS[index]));
        for (const [key, value] of values) reads.set(key, text(value));
      }
      for (const index of step.writes) await transaction.put(KEYS[index], `t${n}:${KEYS[index]}`);
      await transaction.commit();
    } catch (error) {
      expectTolerated(error);
    }
    for (const value of reads.values()) {
      if (value !== null && !value.startsWith("init:")) expect(world.committing.has(value)).toBe(true);
    }
    fractured.push(...fractures(reads, world).map((fracture) => `step ${n}: ${fracture}`));
  }
  return fractured;
}

async function expectConverged(cluster: SimCluster): Promise<void> {
  cluster.heal();
  const held = await Promise.all((await cluster.replicasOf()).map((replica) => cluster.getFromReplica(replica, KEYS)));
  for (const key of KEYS) {
    const payloads = held.map((replica) => Buffer.from(replica.get(key)?.payload ?? []).toString("hex"));
    expect(new Set(payloads).size).toBe(1);
  }
}

describe("read atomic in the simulated cluster", () => {
  const workload = fc.record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    steps: fc.array(stepArbitrary, { minLength: 10, maxLength: 40 }),
  });

  it("never returns a fractured read nor a prepared-only version, under every fault; replicas converge", async () => {
    await fc.assert(
      fc.asyncProperty(workload, async ({ seed, steps }) => {
        const simWorld = world(seed, ALL_FAULTS);
        await preload(simWorld);
        expect(await runWorkload(simWorld, steps, correct)).toEqual([]);
        await expectConverged(simWorld.cluster);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("mutation check: without the lower-bound round, fractured reads are found", async () => {
    const noLowerBounds = composed({ reads: (context) => new NoLowerBounds(context, 0) });
    let fractured = 0;
    for (let run = 0; run < 40 && fractured === 0; run++) {
      const random = fc.sample(workload, { seed: SEED + run, numRuns: 1 })[0];
      const simWorld = world(random.seed, { ...ALL_FAULTS, crash: 0 });
      await preload(simWorld);
      fractured += (await runWorkload(simWorld, random.steps, noLowerBounds)).length;
    }
    expect(fractured).toBeGreaterThan(0);
  });
});

describe("read atomic commits", () => {
  it("prepares each version invisible, with prepareAcks, then commits it: the committed part and the version, the value in both", async () => {
    const sent: { put: PutTuple; options?: PutOptions }[] = [];
    const fate = (put: PutTuple, options?: PutOptions): PutFate => (sent.push({ put, options }), "send");
    const simWorld = world(1, NO_FAULTS);
    const session = new Session({ ...simWorld.contexts[0], transport: intercepted(simWorld.cluster, fate) });
    const transaction = session.transaction({ isolation: "read-atomic", prepareAcks: 2 });
    await transaction.put("x", "x1");
    await transaction.put("y", "y1");
    const { stamp } = await transaction.commit();
    expect(sent.map(({ put }) => [put.key, phaseOf(put)])).toEqual([
      ["x", "prepare"],
      ["y", "prepare"],
      ["x", "commit"],
      ["y", "commit"],
    ]);
    expect(sent.map(({ options }) => options?.acks)).toEqual([2, 2, undefined, undefined]);
    const prepare = decodeLww(sent[0].put.payload);
    expect(prepare).toMatchObject({ timestamp: 0n, writeSet: [], versions: [{ timestamp: stamp, committed: false }] });
    expect(prepare.versions[0].writeSet).toEqual(["x", "y"]);
    expect(text(prepare.versions[0].value)).toBe("x1");
    const commit = decodeLww(sent[2].put.payload);
    expect(commit).toMatchObject({ timestamp: stamp, writeSet: ["x", "y"], versions: [{ committed: true }] });
    expect([text(commit.value), text(commit.versions[0].value)]).toEqual(["x1", "x1"]);
    expect(commit.writeId).toEqual(prepare.versions[0].writeId);
    expect(transaction.state).toBe("committed");
  });

  it("fails COMMIT_FAILED when a prepare is not acknowledged: nothing is visible, and no commit is sent", async () => {
    const simWorld = world(2, NO_FAULTS);
    await preload(simWorld);
    const transaction = simWorld.sessions[0].transaction({ isolation: "read-atomic" });
    await transaction.put("a", "a1");
    await transaction.put("b", "x".repeat(SIM_VALUE_BYTES_MAX));
    await expect(transaction.commit()).rejects.toMatchObject({
      code: "COMMIT_FAILED",
      guarantee: "read-atomic",
      applied: [],
      refused: ["a", "b"],
    });
    expect(transaction.state).toBe("failed");
    expect(simWorld.committing.size).toBe(0);
    const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
    expect([...(await reader.getMany(["a", "b"])).values()].map(text)).toEqual(["init:a", "init:b"]);
    expect(text((await simWorld.sessions[1].getLww("a"))?.value)).toBe("init:a");
  });

  /** A commit whose client stops after its first key: b's commit never leaves. */
  async function halfCommitted(open: Opener) {
    const fate = (put: PutTuple, session: number): PutFate =>
      session === 0 && phaseOf(put) === "commit" && put.key === "b" ? "unknown" : "send";
    const simWorld = world(3, NO_FAULTS, { fate });
    await preload(simWorld);
    const writer = open(simWorld, 0);
    await writer.put("a", "a1");
    await writer.put("b", "b1");
    await expect(writer.commit()).rejects.toMatchObject({ code: "COMMIT_UNKNOWN", applied: ["a"], unknown: ["b"] });
    expect(writer.state).toBe("unknown");
    return simWorld;
  }

  it("keeps a half-committed transaction's prepared versions invisible until a reader repairs them", async () => {
    const simWorld = await halfCommitted(correct);
    expect(text((await simWorld.sessions[1].getLww("b"))?.value)).toBe("init:b");
    const alone = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
    expect(text(await alone.get("b"))).toBe("init:b");
    const reader = simWorld.sessions[2].transaction({ isolation: "read-atomic" });
    expect([...(await reader.getMany(["a", "b"])).values()].map(text)).toEqual(["a1", "b1"]);
    // The read sent b's commit itself: now a plain read sees it on every replica.
    simWorld.cluster.heal();
    for (const replica of await simWorld.cluster.replicasOf()) {
      const held = (await simWorld.cluster.getFromReplica(replica, ["b"])).get("b")!;
      expect(text(decodeLww(held.payload).value)).toBe("b1");
    }
  });

  it("mutation check: committed without a prepare, the half-done transaction leaves a version no reader finds", async () => {
    const simWorld = await halfCommitted(composed({ writes: (context) => new NoPrepare(context, 1) }));
    const reader = simWorld.sessions[2].transaction({ isolation: "read-atomic", versionWaitMs: 0 });
    await expect(reader.getMany(["a", "b"])).rejects.toMatchObject({ code: "VERSION_UNAVAILABLE" });
  });

  it("resends an unknown commit in the background until it is applied", async () => {
    let commitsOfB = 0;
    const fate = (put: PutTuple): PutFate =>
      phaseOf(put) === "commit" && put.key === "b" && commitsOfB++ === 0 ? "unknown" : "send";
    const simWorld = world(4, NO_FAULTS, { fate });
    const writer = simWorld.sessions[0].transaction({ isolation: "read-atomic" });
    await writer.put("a", "a1");
    await writer.put("b", "b1");
    await expect(writer.commit()).rejects.toMatchObject({
      code: "COMMIT_UNKNOWN",
      message: expect.stringMatching(/resent in the background for up to 30000 ms/),
    });
    for (let waited = 0; commitsOfB < 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(commitsOfB).toBe(2);
    simWorld.cluster.heal();
    expect(text((await simWorld.sessions[1].getLww("b"))?.value)).toBe("b1");
  });

  it("limits a transaction to 64 keys of at most 1024 bytes, as a write set; options are checked", async () => {
    const simWorld = world(5, NO_FAULTS);
    const transaction = simWorld.sessions[0].transaction({ isolation: "read-atomic" });
    for (let i = 0; i < 64; i++) await transaction.put(`k${i}`, "v");
    await transaction.put("k0", "again");
    await expect(transaction.put("k64", "v")).rejects.toMatchObject({ code: "TRANSACTION_LIMIT" });
    const longKeys = simWorld.sessions[0].transaction({ isolation: "read-atomic" });
    await longKeys.put("k".repeat(1024), "v");
    await expect(longKeys.put("é".repeat(513), "v")).rejects.toMatchObject({ code: "TRANSACTION_LIMIT" });
    expect(() => simWorld.sessions[0].transaction({ isolation: "read-committed", prepareAcks: 1 })).toThrow(
      /prepareAcks applies to read-atomic transactions only/,
    );
    expect(() => simWorld.sessions[0].transaction({ isolation: "read-atomic", versionWaitMs: -1 })).toThrow(RangeError);
    expect(() => simWorld.sessions[0].transaction({ isolation: "read-atomic", prepareAcks: 17 })).toThrow(RangeError);
  });
});

describe("read atomic reads", () => {
  /** Commits `values` (key → value) in one read-atomic transaction of session 0. */
  async function commit(simWorld: World, values: Record<string, string>): Promise<void> {
    simWorld.clock.micros += 1000n;
    const writer = simWorld.sessions[0].transaction({ isolation: "read-atomic" });
    for (const [key, value] of Object.entries(values)) await writer.put(key, value);
    await writer.commit();
  }

  it("takes an older committed version from the window when the newest would fracture an earlier read", async () => {
    const simWorld = world(6, NO_FAULTS);
    await commit(simWorld, { x: "x1", y: "y1" });
    const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
    expect(text(await reader.get("x"))).toBe("x1");
    await commit(simWorld, { x: "x2", y: "y2" });
    expect(text(await reader.get("y"))).toBe("y1");
    expect(text(await reader.get("x"))).toBe("x1");
  });

  it("fails READ_ATOMIC_CONFLICT when no older version fits, or when the session's floor forbids going back", async () => {
    const simWorld = world(7, NO_FAULTS);
    await preload(simWorld, ["x", "y"]);
    const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
    expect(text(await reader.get("x"))).toBe("init:x");
    await commit(simWorld, { x: "x2", y: "y2" });
    await expect(reader.get("y")).rejects.toMatchObject({ code: "READ_ATOMIC_CONFLICT", guarantee: "read-atomic" });
    expect(reader.state).toBe("active");

    const floored = world(8, NO_FAULTS, { guarantees: ["monotonic-reads"] });
    await commit(floored, { x: "x1", y: "y1" });
    const monotonic = floored.sessions[1].transaction({ isolation: "read-atomic" });
    expect(text(await monotonic.get("x"))).toBe("x1");
    await commit(floored, { x: "x2", y: "y2" });
    await expect(monotonic.get("y")).rejects.toMatchObject({ code: "READ_ATOMIC_CONFLICT" });
  });

  it("raises a key to the version its transaction's other key requires, from another replica (round 2)", async () => {
    // Gossip never arrives: each write sits on the one replica it was sent to.
    const simWorld = world(9, { ...NO_FAULTS, deliver: 0 });
    await commit(simWorld, { x: "x1", y: "y1" });
    for (let run = 0; run < 20; run++) {
      const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
      const values = [...(await reader.getMany(["x", "y"])).values()].map(text);
      expect(values).toEqual(values[0] === null && values[1] === null ? [null, null] : ["x1", "y1"]);
    }
  });

  it("fails VERSION_UNAVAILABLE when a required version is on no replica within versionWaitMs", async () => {
    // b's prepare is acknowledged and lost (a replica that acked, then crashed); its commit never leaves.
    const fate = (put: PutTuple): PutFate =>
      put.key !== "b" || phaseOf(put) === "plain" ? "send" : phaseOf(put) === "prepare" ? "ack-and-lose" : "unknown";
    const simWorld = world(10, NO_FAULTS, { fate });
    await preload(simWorld, ["a", "b"]);
    await commit(simWorld, { a: "a1", b: "b1" }).catch((error) => expect(error.code).toBe("COMMIT_UNKNOWN"));
    const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic", versionWaitMs: 60 });
    const started = Date.now();
    await expect(reader.getMany(["a", "b"])).rejects.toMatchObject({
      code: "VERSION_UNAVAILABLE",
      message: expect.stringMatching(/"b".*versionWaitMs \(60 ms\)/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(text(await reader.get("b"))).toBe("init:b");
  });

  it("returns each key's first read again (item cut), its own writes before them, and absent keys as absent", async () => {
    const simWorld = world(11, NO_FAULTS);
    await commit(simWorld, { x: "x1" });
    const reader = simWorld.sessions[1].transaction({ isolation: "read-atomic" });
    expect([...(await reader.getMany(["x", "none"])).values()].map(text)).toEqual(["x1", null]);
    await commit(simWorld, { x: "x2", none: "n2" });
    expect([...(await reader.getMany(["x", "none"])).values()].map(text)).toEqual(["x1", null]);
    await reader.put("x", "mine");
    expect(text(await reader.get("x"))).toBe("mine");
    await reader.commit();
    await simWorld.sessions[2].addToSet("set", ["e"]);
    await expect(simWorld.sessions[2].transaction({ isolation: "read-atomic" }).get("set")).rejects.toMatchObject({
      code: "LATTICE",
    });
  });
});
