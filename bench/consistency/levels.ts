/**
 * The levels the consistency benchmark compares, each as the way one session runs one
 * transaction of reads and writes (docs/consistency.md §6). Everything but the two
 * eventual rows goes through the levels' own API (`AnnaClient.session`,
 * `causalSession`), so what is measured is what a user of that level pays.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { encodeLww } from "../../src/lattices/values";
import { LatticeType } from "../../src/lattices/lattice-type";
import { HybridClock } from "../../src/consistency/clock";
import type { Isolation } from "../../src/consistency/options";

export const LEVELS = [
  "eventual",
  "eventual-batched",
  "sessions",
  "read-uncommitted",
  "read-committed",
  "item-cut",
  "read-atomic",
  "causal-single-key",
  "causal-multi-key",
  "causal-multi-key-lww",
] as const;
export type Level = (typeof LEVELS)[number];

/** Which key space a level's keys live in: a key holds one lattice type. */
export type KeyKind = "lww" | "dotted-causal" | "multi-causal" | "causal-lww";

export function keyKindOf(level: Level): KeyKind {
  if (level === "causal-single-key") return "dotted-causal";
  if (level === "causal-multi-key") return "multi-causal";
  // LWW values too, but stamped: kept apart so that eventual's bare writes never land among them.
  if (level === "causal-multi-key-lww") return "causal-lww";
  return "lww";
}

const KEY_PREFIXES: Record<KeyKind, string> = {
  lww: "l",
  "dotted-causal": "s",
  "multi-causal": "m",
  "causal-lww": "c",
};

/** The key of index `index` in a key space: short, fixed prefixes so that the spaces never share a key. */
export function keyName(kind: KeyKind, index: number): string {
  return `${KEY_PREFIXES[kind]}${index}`;
}

export interface Operation {
  kind: "read" | "write";
  key: string;
}

/** One session of a level: runs whole transactions, rejecting with the level's error when one fails. */
export interface LevelSession {
  run(operations: readonly Operation[], value: Uint8Array): Promise<void>;
  close(): void;
}

const ISOLATION_OF: Partial<Record<Level, Isolation>> = {
  "read-uncommitted": "read-uncommitted",
  "read-committed": "read-committed",
  "item-cut": "item-cut",
  "read-atomic": "read-atomic",
};

const CAUSAL_SCOPE_OF = {
  "causal-single-key": "single-key",
  "causal-multi-key": "multi-key",
  "causal-multi-key-lww": "multi-key-lww",
} as const;

export function openLevelSession(client: AnnaClient, level: Level): LevelSession {
  switch (level) {
    case "eventual":
      return {
        async run(operations, value) {
          for (const { kind, key } of operations) {
            if (kind === "read") await client.getLww(key);
            else await client.putLww(key, value);
          }
        },
        close() {},
      };
    case "eventual-batched": {
      // Reads one request each, as eventual; the writes go in one request at the end, as a
      // committed transaction's do: the gain of batching, apart from the cost of isolation.
      const clock = new HybridClock();
      return {
        async run(operations, value) {
          const writes = new Map<string, Uint8Array>();
          for (const { kind, key } of operations) {
            if (kind === "read") await client.getLww(key);
            else writes.set(key, encodeLww({ timestamp: clock.next(), value }));
          }
          if (writes.size > 0)
            await client.putMany([...writes].map(([key, payload]) => ({ key, type: LatticeType.LWW, payload })));
        },
        close() {},
      };
    }
    case "sessions": {
      const session = client.session({ guarantees: "all" });
      return {
        async run(operations, value) {
          for (const { kind, key } of operations) {
            if (kind === "read") await session.getLww(key);
            else await session.putLww(key, value);
          }
        },
        close: () => session.close(),
      };
    }
    case "read-uncommitted":
    case "read-committed":
    case "item-cut":
    case "read-atomic": {
      const session = client.session();
      const isolation = ISOLATION_OF[level]!;
      return {
        async run(operations, value) {
          const transaction = session.transaction({ isolation });
          try {
            for (const { kind, key } of operations) {
              if (kind === "read") await transaction.get(key);
              else await transaction.put(key, value);
            }
            await transaction.commit();
          } finally {
            if (transaction.state === "active") await transaction.abort();
          }
        },
        close: () => session.close(),
      };
    }
    case "causal-single-key":
    case "causal-multi-key":
    case "causal-multi-key-lww": {
      const session = client.causalSession({ scope: CAUSAL_SCOPE_OF[level] });
      return {
        async run(operations, value) {
          for (const { kind, key } of operations) {
            if (kind === "read") await session.get(key);
            else await session.put(key, value);
          }
        },
        close: () => session.close(),
      };
    }
  }
}
