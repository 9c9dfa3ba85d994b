/**
 * One member of a cluster as every node sees it, and how two views of it merge.
 *
 * An entry is a lattice composed from base ones (docs/cluster.md, "Members"):
 *   lexicographicPair(max incarnation,
 *     product(max lifecycle, max suspicion, lexicographicPair(max heartbeat, owner data)))
 * The node owns its incarnation, lifecycle and heartbeat (with the data that rides on
 * it); anyone may raise its suspicion. Messages may be lost, repeated or reordered: every
 * node that has seen the same entries holds the same merged entry.
 */

import type { FactorState } from "../routing/key-factors";

/** The node's own progress through the cluster; it only ever moves forward in one incarnation. */
export enum Lifecycle {
  JOINING = 0,
  ALIVE = 1,
  LEAVING = 2,
  LEFT = 3,
}

/** Others' verdict on the node; only ever raised in one incarnation (the node refutes by a new one). */
export enum Suspicion {
  NONE = 0,
  SUSPECT = 1,
  DEAD = 2,
}

/** What the node says of itself, replaced whole by a higher heartbeat. */
export interface OwnerData {
  /** Host the node's sockets are reached at (its advertised host). */
  host: string;
  portOffset: number;
  /** Actors (worker threads) of the node. */
  threads: number;
  /** Actors of the node holding each key by default. */
  localReplication: number;
  /** Keys held by its actors together (a gauge for `annakv status`). */
  keyCount: number;
  /** Joiners (id -> incarnation) every actor of this node has finished sending keys to. */
  synced: Record<string, number>;
  /** The node's hot-key decisions (routing/key-factors.ts), replaced whole by a newer version. */
  factors: FactorState;
  /**
   * The node's held bound (µs) and the epoch it holds in (docs/causal-stability.md §7): the
   * least of its actors'; 0 and 0 until it has one.
   */
  stability: { heldMicros: number; epoch: number };
}

export interface MemberEntry {
  /** The node's membership address without scheme: `HOST:PORT` (`[::1]:6350`). */
  id: string;
  incarnation: number;
  lifecycle: Lifecycle;
  suspicion: Suspicion;
  heartbeat: number;
  data: OwnerData;
}

/** The merged entry of two views of one member; `a` itself when it already holds `b`. */
export function mergeMember(a: MemberEntry, b: MemberEntry): MemberEntry {
  if (a.id !== b.id) throw new Error(`merging entries of two members: ${a.id} and ${b.id}`);
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation ? a : b;
  const owner = b.heartbeat > a.heartbeat ? b : a;
  const lifecycle = Math.max(a.lifecycle, b.lifecycle) as Lifecycle;
  const suspicion = Math.max(a.suspicion, b.suspicion) as Suspicion;
  if (owner === a && lifecycle === a.lifecycle && suspicion === a.suspicion) return a;
  if (owner === b && lifecycle === b.lifecycle && suspicion === b.suspicion) return b;
  return { ...owner, lifecycle, suspicion };
}

/** True when `a` already holds everything `b` says (merging `b` changes nothing). */
export function holds(a: MemberEntry, b: MemberEntry): boolean {
  return mergeMember(a, b) === a;
}

/** On the serving ring: answers requests for its keys (docs/cluster.md, "What each state means"). */
export function isServing(entry: MemberEntry): boolean {
  return (
    entry.suspicion !== Suspicion.DEAD && (entry.lifecycle === Lifecycle.ALIVE || entry.lifecycle === Lifecycle.LEAVING)
  );
}

/** On the next ring: must hold its keys once the cluster settles. */
export function isNext(entry: MemberEntry): boolean {
  return (
    entry.suspicion !== Suspicion.DEAD && (entry.lifecycle === Lifecycle.JOINING || entry.lifecycle === Lifecycle.ALIVE)
  );
}

/** Still part of the cluster: neither gone by choice nor declared dead. */
export function isLive(entry: MemberEntry): boolean {
  return entry.suspicion !== Suspicion.DEAD && entry.lifecycle !== Lifecycle.LEFT;
}

/** The entry's state in one word, for logs and `annakv status`. */
export function stateName(entry: MemberEntry): string {
  if (entry.lifecycle === Lifecycle.LEFT) return "left";
  if (entry.suspicion === Suspicion.DEAD) return "dead";
  const lifecycle = Lifecycle[entry.lifecycle].toLowerCase();
  return entry.suspicion === Suspicion.SUSPECT ? `${lifecycle} (suspect)` : lifecycle;
}
