/**
 * The level-specific part of the workload (level-workload.ts): one row per built level,
 * saying how a process opens its session and what one step of it is. Eventual and the
 * session guarantees step by single reads and writes of a Session; the isolation levels by
 * transactions of one; the causal levels by single reads and writes of a CausalSession. A
 * new level is a new row; the deliberately broken variants (consistency-broken.ts) are
 * rows too, composed from the same pieces.
 */
import { CausalCut } from "../../src/consistency/causal-cut";
import { CAUSAL_CUT_LIMITS_DEFAULT, type CausalScope } from "../../src/consistency/causal-options";
import { causalLwwVersions, type CausalLwwVersion } from "../../src/consistency/causal-lww-versions";
import { CausalSession } from "../../src/consistency/causal-session";
import type { Isolation, SessionGuarantee } from "../../src/consistency/options";
import type { KeyTransport } from "../../src/consistency/transport";
import { Session, type SessionContext } from "../../src/consistency/session";
import type { Transaction } from "../../src/consistency/transaction";
import type { Level } from "./history/levels";
import type { ReadResult } from "./history/events";
import type { Random } from "./random";
import type { SimStableTime } from "./sim-cluster";
import { valueText } from "./level-workload-versions";

/** One step of a session as the driver runs it: its ops one at a time, then commit or abort. */
export interface StepHandle {
  read(key: string): Promise<ReadResult>;
  write(key: string, value: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface LevelSession {
  begin(): StepHandle;
}

export interface LevelRow {
  /** The level's name, or the variant's (`level/what-is-broken`). */
  readonly name: string;
  /** What the checker judges the history by. */
  readonly level: Level;
  /** "operation": each step one read or write, outside a transaction; "transaction": a few, then commit or abort. */
  readonly shape: "operation" | "transaction";
  /** Whether writes sent before an abort (or a failed call) may stay visible: then the step is recorded `info`, else `fail`. */
  readonly abortKeepsWrites: boolean;
  /**
   * Whether a write of unknown outcome may leave with another version than it was first
   * sent with: causal-multi-key-lww sends it again before the session's next call, stamped
   * anew, so an `info` step records no version for it (the checker then takes its order as
   * unknown). Elsewhere the version sent is the version.
   */
  readonly unknownWritesRestamped?: boolean;
  /**
   * The stable time the simulated replicas keep for this row where a run names none
   * (level-workload-sim.ts); with it their accept floor follows the simulated clock. Single-key
   * causal sessions settle a write of unknown outcome by it (docs/causal-dots.md §3).
   */
  readonly simStableTime?: SimStableTime;
  /** A process's session; `random` is the process's own, seeded; `environment` what its sessions are tuned to. */
  open(context: SessionContext, random: Random, environment: RowEnvironment): LevelSession;
}

/** What a row's sessions are tuned to where they run. */
export interface RowEnvironment {
  /**
   * How long a single-key causal session polls for a write of unknown outcome to settle
   * (its `dependencyWaitMs`); the session's default where absent. The simulator's is 0: its
   * stable time moves only between calls, and polling would make a run depend on the
   * machine's speed.
   */
  readonly settleWaitMs?: number;
}

/** A session's own calls, each a step of one op: a put that failed may still have happened. */
export function operationSteps(session: Session): LevelSession {
  const step: StepHandle = {
    read: async (key) => {
      const read = await session.getLww(key);
      return read === undefined ? null : valueText(read.value);
    },
    write: (key, value) => session.putLww(key, value),
    // A single call is its own commit; nothing is held back, so there is nothing to abort.
    commit: async () => {},
    abort: async () => {},
  };
  return { begin: () => step };
}

/** Each step a transaction from `begin`. */
export function transactionSteps(begin: () => Transaction): LevelSession {
  return {
    begin: () => {
      const transaction = begin();
      return {
        read: async (key) => {
          const value = await transaction.get(key);
          return value === undefined ? null : valueText(value);
        },
        write: (key, value) => transaction.put(key, value),
        commit: async () => {
          await transaction.commit();
        },
        abort: () => transaction.abort(),
      };
    },
  };
}

function sessionRow(level: Level, guarantees: readonly SessionGuarantee[]): LevelRow {
  return {
    name: level,
    level,
    shape: "operation",
    abortKeepsWrites: true,
    open: (context) => operationSteps(new Session(context, { guarantees })),
  };
}

function isolationRow(isolation: Isolation): LevelRow {
  return {
    name: isolation,
    level: isolation,
    shape: "transaction",
    // Read uncommitted sends each put at once, and an abort cannot take it back (docs/consistency.md §2.3).
    abortKeepsWrites: isolation === "read-uncommitted",
    open: (context) => {
      const session = new Session(context);
      return transactionSteps(() => session.transaction({ isolation }));
    },
  };
}

/**
 * A causal session's calls, each a step of one op: a read returns the key's siblings, or,
 * in a multi-key-lww session, its one value (LWW keys to the checker).
 */
export function causalSteps(session: CausalSession): LevelSession {
  const step: StepHandle = {
    read: async (key) => {
      const values = (await session.get(key)).map(valueText);
      return session.scope === "multi-key-lww" ? (values[0] ?? null) : values;
    },
    write: (key, value) => session.put(key, value),
    commit: async () => {},
    abort: async () => {},
  };
  return { begin: () => step };
}

/**
 * The causal cut of each client, made by `create`: a client's multi-key sessions share it,
 * as AnnaClient.causalSession shares it. A client's sessions share its transaction
 * numbers, so those name the client.
 */
export function cutPerClient<V>(create: () => CausalCut<V>): (context: SessionContext) => CausalCut<V> {
  const cuts = new WeakMap<SessionContext["transactionNumbers"], CausalCut<V>>();
  return (context) => {
    let cut = cuts.get(context.transactionNumbers);
    if (cut === undefined) cuts.set(context.transactionNumbers, (cut = create()));
    return cut;
  };
}

/** The causal-multi-key-lww cut of each client, as AnnaClient keeps one. */
export const lwwCutPerClient = cutPerClient(() => new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions));

/** A seeded session id, so that a run replays: 64 random bits, in hex. */
export function seededSessionId(random: Random): string {
  return Array.from({ length: 4 }, () => random.int(0x10000).toString(16).padStart(4, "0")).join("");
}

/** The causal levels' rows and their broken variants: a session over `transport(context, sessionId)` and the client's cut. */
export function causalRow(
  name: string,
  scope: CausalScope,
  cutOf: (context: SessionContext) => CausalCut,
  transport: (context: SessionContext, sessionId: string) => KeyTransport = (context) => context.transport,
  lwwCutOf: (context: SessionContext) => CausalCut<CausalLwwVersion> = lwwCutPerClient,
): LevelRow {
  return {
    name,
    level: `causal-${scope}`,
    shape: "operation",
    abortKeepsWrites: true,
    unknownWritesRestamped: scope === "multi-key-lww",
    ...(scope === "single-key" ? { simStableTime: "held" as const } : {}),
    open: (context, random, { settleWaitMs }) => {
      const sessionId = seededSessionId(random);
      const causalContext = {
        transport: transport(context, sessionId),
        cut: cutOf(context),
        lwwCut: lwwCutOf(context),
        sessionId,
        // The workload's clock: simulated time on the simulator, so that stamps, and a run, follow from its seed.
        nowMicros: context.nowMicros,
      };
      const settle = scope === "single-key" && settleWaitMs !== undefined ? { dependencyWaitMs: settleWaitMs } : {};
      return causalSteps(new CausalSession(causalContext, { scope, ...settle }));
    },
  };
}

/** The built levels, as AnnaClient.session() and causalSession() compose them. */
export const LEVEL_ROWS: readonly LevelRow[] = [
  sessionRow("eventual", []),
  sessionRow("read-your-writes", ["read-your-writes"]),
  sessionRow("monotonic-reads", ["monotonic-reads"]),
  sessionRow("monotonic-writes", ["monotonic-writes"]),
  sessionRow("writes-follow-reads", ["writes-follow-reads"]),
  isolationRow("read-uncommitted"),
  isolationRow("read-committed"),
  isolationRow("item-cut"),
  isolationRow("read-atomic"),
  causalRow(
    "causal-single-key",
    "single-key",
    cutPerClient(() => new CausalCut()),
  ),
  causalRow(
    "causal-multi-key",
    "multi-key",
    cutPerClient(() => new CausalCut()),
  ),
  causalRow(
    "causal-multi-key-lww",
    "multi-key-lww",
    cutPerClient(() => new CausalCut()),
  ),
];
