/**
 * The level-specific part of the workload (level-workload.ts): one row per built level,
 * saying how a process opens its session and what one step of it is. Eventual and the
 * session guarantees step by single reads and writes of a Session; the isolation levels by
 * transactions of one. A new level (causal, read atomic) is a new row; the deliberately
 * broken variants (consistency-broken.ts) are rows too, composed from the same pieces.
 */
import type { Isolation, SessionGuarantee } from "../../src/consistency/options";
import { Session, type SessionContext } from "../../src/consistency/session";
import type { Transaction } from "../../src/consistency/transaction";
import type { Level } from "./history/levels";
import type { ReadResult } from "./history/events";
import type { Random } from "./random";
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
  /** A process's session; `random` is the process's own, seeded. */
  open(context: SessionContext, random: Random): LevelSession;
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

/** The built levels, as AnnaClient.session() composes them. */
export const LEVEL_ROWS: readonly LevelRow[] = [
  sessionRow("eventual", []),
  sessionRow("read-your-writes", ["read-your-writes"]),
  sessionRow("monotonic-reads", ["monotonic-reads"]),
  sessionRow("monotonic-writes", ["monotonic-writes"]),
  sessionRow("writes-follow-reads", ["writes-follow-reads"]),
  isolationRow("read-uncommitted"),
  isolationRow("read-committed"),
  isolationRow("item-cut"),
];
