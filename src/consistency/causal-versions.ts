/**
 * How a multi-key causal level names versions (docs/causal-stability.md §9): the causal
 * cut, its reads and the session's past work on any scheme that says what a version is,
 * when one covers another, and how a value lists its dependencies. causal-multi-key names
 * versions by vector clocks (causal-stamps.ts), causal-multi-key-lww by LWW (timestamp,
 * write id) (causal-lww-versions.ts).
 */
import type { LatticeType } from "../lattices/lattice-type";
import type { CausalLevel } from "./causal-options";
import type { EpochStamps } from "./epoch-stamps";

/** A dependency of a value: the key, the version needed of it, and that version's stamps by epoch. */
export type Dependency<V> = readonly [key: string, version: V, stamps: EpochStamps];

/** A value decoded as far as closing needs. */
export interface VersionedValue<V> {
  readonly version: V;
  readonly dependencies: readonly Dependency<V>[];
}

export interface VersionScheme<V> {
  /** The level, as errors name it. */
  readonly level: CausalLevel;
  /** The lattice type of the level's values. */
  readonly type: LatticeType;
  /** The version of nothing: covered by every version, covering none but itself. */
  readonly bottom: V;
  /** Whether a key at `have` holds `needed` or a version that overwrote it. */
  covers(have: V, needed: V): boolean;
  /**
   * The stamp (µs) at or below which `version` covers every version of its key by the
   * order alone, whatever any replica holds (0: none). Under LWW a version overwrites every
   * one stamped below it; under vector clocks a version it did not see stays a sibling.
   * What one key's value holds for a read of that key, never a stable time of the cluster.
   */
  coveredByOrderMicros(version: V): number;
  /** The least version covering both. */
  join(a: V, b: V): V;
  /** What a stored payload of the level's type holds; callers cache it by payload. */
  decode(payload: Uint8Array): VersionedValue<V>;
  /** Bytes a version takes in a session's state. */
  bytesOf(version: V): number;
  /** The version as error messages show it. */
  text(version: V): string;
}
