/**
 * Per-key replication factors (selective replication) as cluster state.
 *
 * Each node decides factors for the keys it sees hot: how many of its own actors hold the
 * key (`local`) and how many nodes (`global`). A node's decisions are one versioned state,
 * replaced whole by a newer one: a key that cools down simply leaves the next state, so
 * nothing has to be deleted from a lattice, and a lost or late copy is harmless (the
 * receiver keeps the higher version). The cluster's table (node id -> state) travels in
 * the nodes' membership entries and, inside a node, to its actors every window.
 *
 * A key's factors are the decisions combined: its node count is the largest any node
 * asked for (never below the cluster's global replication), and on each node, that node's
 * own local factor (never below its default).
 */
import { keyBytes } from "../wire/key";
import { xxhash64 } from "./hash";

/** Keys one node may hold factors for; its hottest first. */
export const FACTORS_PER_NODE_MAX = 128;
/** Longest key (UTF-16 units) that can get a factor: its name travels in every membership entry. */
export const FACTOR_KEY_CHARS_MAX = 1024;

export interface KeyFactor {
  key: string;
  /** Actors of the deciding node that hold the key. */
  local: number;
  /** Nodes that hold the key. */
  global: number;
}

/** One node's decisions, replaced whole by a higher version. */
export interface FactorState {
  version: number;
  factors: KeyFactor[];
}

/** Every node's decisions, by node id: plain data (it crosses threads and the network). */
export type FactorTable = Record<string, FactorState>;

export const EMPTY_FACTOR_STATE: FactorState = Object.freeze({ version: 0, factors: [] }) as FactorState;

/** Keeps, per node, the state of higher version; returns whether `into` changed. */
export function mergeFactorTable(into: FactorTable, incoming: FactorTable): boolean {
  let changed = false;
  for (const [node, state] of Object.entries(incoming)) {
    if ((into[node]?.version ?? -1) >= state.version) continue;
    into[node] = state;
    changed = true;
  }
  return changed;
}

interface Combined {
  global: number;
  /** Local factor by node id. */
  local: Map<string, number>;
}

/**
 * The table indexed for placement: a key's combined factors by name, and the low 32 bits of
 * the hash of every key with factors, so that most keys are told apart without their name.
 */
export class FactorIndex {
  private readonly byName = new Map<string, Combined>();
  private readonly hashes = new Set<number>();

  constructor(readonly table: FactorTable) {
    for (const [node, state] of Object.entries(table)) {
      for (const { key, local, global } of state.factors) {
        let combined = this.byName.get(key);
        if (combined === undefined) {
          this.byName.set(key, (combined = { global: 0, local: new Map() }));
          this.hashes.add(xxhash64(keyBytes(key)).low);
        }
        combined.global = Math.max(combined.global, global);
        combined.local.set(node, Math.max(combined.local.get(node) ?? 0, local));
      }
    }
  }

  get size(): number {
    return this.byName.size;
  }

  /** False for most keys: none with these low hash bits has factors. */
  mayHave(hashLow: number): boolean {
    return this.hashes.has(hashLow);
  }

  /** The nodes any node asked the key onto (0: none asked). */
  globalOf(name: string): number {
    return this.byName.get(name)?.global ?? 0;
  }

  /** The actors node `node` asked the key onto (0: none asked). */
  localOf(node: string, name: string): number {
    return this.byName.get(name)?.local.get(node) ?? 0;
  }

  keys(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** Keys whose combined factors differ between two indexes. */
  static changedKeys(before: FactorIndex, after: FactorIndex): string[] {
    const changed: string[] = [];
    const names = new Set([...before.byName.keys(), ...after.byName.keys()]);
    for (const name of names) {
      const a = before.byName.get(name);
      const b = after.byName.get(name);
      if (
        a === undefined ||
        b === undefined ||
        a.global !== b.global ||
        a.local.size !== b.local.size ||
        [...a.local].some(([node, local]) => b.local.get(node) !== local)
      ) {
        changed.push(name);
      }
    }
    return changed;
  }
}
