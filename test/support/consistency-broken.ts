/**
 * Deliberately broken variants of the built levels (docs/consistency.md §4.4). Each is the
 * level's composition with exactly one piece swapped, in test code, and the checker must
 * find the anomaly that piece rules out; a checker that passes them proves nothing.
 * Production code has no "broken" flags: the pieces are swapped through what it already
 * exports or injects. A session's floor is fed only for the guarantees it is opened with;
 * its wall clock is `SessionContext.nowMicros`; a transaction is `Transaction` over its
 * `TransactionWrites` and `TransactionReads`; the stamp of a put can be rewritten on its
 * way to the transport; the simulated replicas' merge is a method of each replica.
 */
import { BufferBudget } from "../../src/consistency/buffer-budget";
import { wallClockMicros } from "../../src/consistency/clock";
import { CausalCut, type Closure } from "../../src/consistency/causal-cut";
import { causalLwwVersions, type CausalLwwVersion } from "../../src/consistency/causal-lww-versions";
import { CAUSAL_CUT_LIMITS_DEFAULT } from "../../src/consistency/causal-options";
import type { VersionScheme } from "../../src/consistency/causal-versions";
import {
  resolveSessionOptions,
  resolveTransactionOptions,
  type Isolation,
  type ResolvedTransactionOptions,
} from "../../src/consistency/options";
import { AtomicReads } from "../../src/consistency/read-atomic-reads";
import { AtomicWrites } from "../../src/consistency/read-atomic-writes";
import { Session, SessionCore, type SessionContext } from "../../src/consistency/session";
import {
  Transaction,
  type TransactionContext,
  type TransactionReads,
  type TransactionWrites,
  type WritesCommitted,
} from "../../src/consistency/transaction";
import { StoreReads } from "../../src/consistency/transaction-reads";
import { BufferedWrites, ImmediateWrites } from "../../src/consistency/transaction-writes";
import type { KeyTransport, PutOutcome, ValueRead } from "../../src/consistency/transport";
import { transactionIdOf } from "../../src/consistency/write-id";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww, encodeLww } from "../../src/lattices/values";
import { dotRequestOf, encodeDotRequest } from "../../src/lattices/dot-requests";
import { dottedCausal } from "../../src/lattices/dotted-causal";
import type { AnomalyClass } from "./history/anomalies";
import type { Level } from "./history/levels";
import {
  causalRow,
  cutPerClient,
  operationSteps,
  transactionSteps,
  type LevelRow,
  type LevelSession,
} from "./level-workload-levels";
import { mapPuts } from "./level-workload-versions";
import type { Random } from "./random";
import { ALL_FAULTS, type SimCluster, type SimFaults } from "./sim-cluster";

export interface BrokenVariant {
  readonly row: LevelRow;
  /** The piece swapped, in words. */
  readonly swapped: string;
  /** What the checker must find in the variant's history. */
  readonly mustFind: readonly AnomalyClass[];
  /** Per process, cycled: how far its wall clock is off, in microseconds. */
  readonly clockSkewsMicros: readonly bigint[];
  /** A piece of the simulated replicas, swapped before the run: such a variant runs in the simulator only. */
  readonly adaptSimCluster?: (cluster: SimCluster) => void;
  /** The simulator's faults, where the variant needs others than every fault. */
  readonly simFaults?: SimFaults;
  /** Keys the run writes, where the variant needs others than the default. */
  readonly keyCount?: number;
}

/** Every session's clock the same: interleaved transactions' stamps then interleave too. */
const IN_STEP = [0n];
/** Every other session's clock a second behind: a write that does not follow what it read lands below it. */
const ONE_SECOND_BEHIND = [0n, -1_000_000n];
/** How far the broken clock of monotonic writes jumps either way: many times the gap between a session's writes of a key. */
const CLOCK_JITTER_MICROS = 100_000;

function operationRow(name: string, level: Level, open: LevelRow["open"]): LevelRow {
  return { name, level, shape: "operation", abortKeepsWrites: true, open };
}

function transactionRow(name: string, isolation: Isolation, pieces: Pieces): LevelRow {
  return {
    name,
    level: isolation,
    shape: "transaction",
    // The variants keep the level's promise of what an abort takes back, and are judged by it.
    abortKeepsWrites: isolation === "read-uncommitted",
    open: (context) => composedTransactions(context, isolation, pieces),
  };
}

interface Pieces {
  writes(context: TransactionContext, options: ResolvedTransactionOptions): TransactionWrites;
  reads(context: TransactionContext, options: ResolvedTransactionOptions): TransactionReads;
}

/** Transactions of `isolation` built as composeTransaction builds them, with `pieces` in place of the level's. */
function composedTransactions(context: SessionContext, isolation: Isolation, pieces: Pieces): LevelSession {
  const core = new SessionCore(context, resolveSessionOptions());
  const options = resolveTransactionOptions({ isolation });
  return transactionSteps(() => {
    const tag = context.transactionNumbers.next();
    const id = transactionIdOf(tag);
    const budget = new BufferBudget(options.maxBufferBytes, isolation, id);
    const transactionContext: TransactionContext = { core, tag, id, isolation, budget };
    return new Transaction(
      transactionContext,
      options.maxKeys,
      pieces.writes(transactionContext, options),
      pieces.reads(transactionContext, options),
    );
  });
}

/** Read uncommitted's writes with a new stamp for every put: each put is a fresh ImmediateWrites, which stamps at its first. */
class StampPerPut implements TransactionWrites {
  private readonly puts: ImmediateWrites[] = [];

  constructor(private readonly context: TransactionContext) {}

  pending(): undefined {
    return undefined;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    const writes = new ImmediateWrites(this.context);
    this.puts.push(writes);
    return writes.put(key, value);
  }

  async commit(): Promise<WritesCommitted> {
    const outcomes = new Map<string, PutOutcome>();
    let stamp: bigint | undefined;
    for (const writes of this.puts) {
      const committed = await writes.commit();
      for (const [key, outcome] of committed.outcomes) outcomes.set(key, outcome);
      stamp = committed.stamp ?? stamp;
    }
    return { stamp, outcomes };
  }

  abort(): void {
    // What was sent stays, as with read uncommitted's own writes.
  }
}

/** Read committed's buffer, committed with a stamp that does not go above the stamps read. */
function stampNotAboveReads(writes: TransactionWrites): TransactionWrites {
  return {
    pending: (key) => writes.pending(key),
    put: (key, value) => writes.put(key, value),
    commit: () => writes.commit(0n),
    abort: () => writes.abort(),
  };
}

/** `transport` with every LWW put restamped by `stampMicros`, keeping its value and write id. */
function restamped(transport: KeyTransport, stampMicros: () => bigint): KeyTransport {
  return mapPuts(transport, (put) => {
    const { value, writeId } = decodeLww(put.payload);
    return { ...put, payload: encodeLww({ timestamp: stampMicros(), value, writeId }) };
  });
}

/** The wall clock with seeded jumps of up to CLOCK_JITTER_MICROS either way: it steps back. */
function jittery(nowMicros: () => bigint, random: Random): () => bigint {
  return () => nowMicros() + BigInt(random.int(2 * CLOCK_JITTER_MICROS + 1) - CLOCK_JITTER_MICROS);
}

/** Read atomic's reads without their lower bounds: a key read below the version another read's write set requires stays there. */
class NoLowerBounds extends AtomicReads {
  protected override async raiseToLowerBounds(): Promise<void> {}
}

/** `transport` with each dot request's context sent empty: a write overwrites nothing, not even what its session read. */
function contextNotSent(transport: KeyTransport): KeyTransport {
  return mapPuts(transport, (put) => {
    const request = put.type === LatticeType.DOTTED_CAUSAL ? dotRequestOf(put.payload) : undefined;
    if (request === undefined) throw new Error(`invariant: a ${LatticeType[put.type]} put, not a dot request`);
    return { ...put, payload: encodeDotRequest({ ...request, context: dottedCausal.bottom.context }) };
  });
}

/** causal-multi-key-lww's versions, with any version of a key covering every dependency on it. */
const olderVersionCovers: VersionScheme<CausalLwwVersion> = {
  ...causalLwwVersions,
  covers: (have, needed) => have.micros > 0 || needed.micros === 0,
};

/** A causal cut that lets every fetched value in at once, whether or not its dependencies are there. */
class UnclosedCut extends CausalCut {
  override close(fetched: ReadonlyMap<string, ValueRead>): Closure {
    return { closed: fetched, missing: new Map(), blockedBy: new Map(), reliedMicros: 0 };
  }
}

/** Replicas that keep whatever arrives last instead of merging: no lattice, so no convergence to the join. */
function incomingWins(cluster: SimCluster): void {
  for (const replica of cluster.replicas) {
    replica.merge = (key, incoming) => {
      replica.values.set(key, { type: incoming.type, payload: incoming.payload });
      return true;
    };
  }
}

export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  {
    row: operationRow("eventual/incoming-wins", "eventual", (context) => operationSteps(new Session(context))),
    swapped: "the replicas' merge: the value that arrives last replaces the one held",
    mustFind: ["LW"],
    clockSkewsMicros: IN_STEP,
    adaptSimCluster: incomingWins,
    // Without crashes no acknowledged write may be lost, so a lost one is an anomaly, not a fault. Gossip
    // held back long and many keys make it near certain that some replica's last arrival is a stale version.
    simFaults: { ...ALL_FAULTS, crash: 0, deliver: 0.1 },
    keyCount: 20,
  },
  {
    row: operationRow("read-your-writes/floor-not-fed", "read-your-writes", (context) =>
      operationSteps(new Session(context, { guarantees: [] })),
    ),
    swapped: "the floor is not fed the session's writes",
    mustFind: ["S-RYW"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: operationRow("monotonic-reads/floor-not-fed", "monotonic-reads", (context) =>
      operationSteps(new Session(context, { guarantees: [] })),
    ),
    swapped: "the floor is not fed the values read",
    mustFind: ["S-MR"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: operationRow("monotonic-writes/clock-steps-back", "monotonic-writes", (context, random) => {
      const stampMicros = jittery(context.nowMicros ?? wallClockMicros, random);
      const transport = restamped(context.transport, stampMicros);
      return operationSteps(new Session({ ...context, transport }, { guarantees: ["monotonic-writes"] }));
    }),
    swapped: "the stamps: from a wall clock that steps back, not the monotone hybrid clock",
    mustFind: ["S-MW"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: operationRow("writes-follow-reads/clock-does-not-absorb", "writes-follow-reads", (context) =>
      operationSteps(new Session(context, { guarantees: [] })),
    ),
    swapped: "the clock does not absorb the stamps read; every other session's clock is 1 s behind",
    mustFind: ["S-WFR"],
    clockSkewsMicros: ONE_SECOND_BEHIND,
  },
  {
    row: transactionRow("read-uncommitted/stamp-per-put", "read-uncommitted", {
      writes: (context) => new StampPerPut(context),
      reads: (context) => new StoreReads(context),
    }),
    swapped: "one stamp per transaction: each put takes a fresh one",
    mustFind: ["G0"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: transactionRow("read-committed/no-buffer", "read-committed", {
      writes: (context) => new ImmediateWrites(context),
      reads: (context) => new StoreReads(context),
    }),
    swapped: "the write buffer: puts are sent at once, and an abort leaves them",
    mustFind: ["G1a", "G1b"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: transactionRow("read-committed/stamp-not-above-reads", "read-committed", {
      writes: (context) => stampNotAboveReads(new BufferedWrites(context)),
      reads: (context) => new StoreReads(context),
    }),
    swapped: "the commit stamp does not absorb the stamps read; every other session's clock is 1 s behind",
    mustFind: ["G1c"],
    clockSkewsMicros: ONE_SECOND_BEHIND,
  },
  {
    row: transactionRow("item-cut/no-read-cache", "item-cut", {
      writes: (context) => new BufferedWrites(context),
      reads: (context) => new StoreReads(context),
    }),
    swapped: "the read cache: every read goes to the store",
    mustFind: ["IC"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: transactionRow("read-atomic/no-lower-bounds", "read-atomic", {
      writes: (context, options) => new AtomicWrites(context, options.prepareAcks),
      reads: (context, options) => new NoLowerBounds(context, options.versionWaitMs),
    }),
    swapped: "round 2: a read is not raised to the version another read's write set requires",
    mustFind: ["FR"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: causalRow(
      "causal-single-key/context-not-sent",
      "single-key",
      cutPerClient(() => new CausalCut()),
      (context) => contextNotSent(context.transport),
    ),
    swapped: "a write's dot request carries an empty context, not what the session has seen of the key",
    mustFind: ["S-WFR"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: causalRow(
      "causal-multi-key/unclosed-cut",
      "multi-key",
      cutPerClient(() => new UnclosedCut()),
    ),
    swapped: "the causal cut: a value fetched joins it before its dependencies are there",
    mustFind: ["C"],
    clockSkewsMicros: IN_STEP,
  },
  {
    row: causalRow(
      "causal-multi-key-lww/older-version-covers",
      "multi-key-lww",
      cutPerClient(() => new CausalCut()),
      undefined,
      cutPerClient(() => new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, olderVersionCovers)),
    ),
    swapped: "covering: a dependency counts as covered by any version of its key, an older stamp too",
    mustFind: ["C"],
    clockSkewsMicros: IN_STEP,
  },
];
