/**
 * The options of causal sessions (docs/consistency.md §2.7, §2.8, §3): their types, their
 * defaults in one place, and their checks, done once where a session opens. The limits of
 * the per-client causal cut are here too, though a client sets them, not a session.
 */
import { resolveSessionOptions } from "./options";

/**
 * single-key: per key, SINGLE_CAUSAL values; multi-key: across keys, MULTI_CAUSAL values
 * read through the cut; multi-key-lww: across keys, LWW values read through a cut, a
 * key's concurrent writes resolved by stamp (docs/causal-stability.md §9).
 */
export type CausalScope = "single-key" | "multi-key" | "multi-key-lww";
/** A causal level, as errors name what could not be kept. */
export type CausalLevel = `causal-${CausalScope}`;

export const CAUSAL_SCOPES: readonly CausalScope[] = ["single-key", "multi-key", "multi-key-lww"];

export interface CausalSessionOptions {
  scope: CausalScope;
  /** Keys the session's state may hold: its floor (single-key) or the clocks it has seen (multi-key). */
  maxKeys?: number;
  /** Bytes that state may hold: keys, payloads and a fixed cost per entry. */
  maxStateBytes?: number;
  /** Dependencies one multi-key write may carry; past it the write fails SESSION_LIMIT. */
  maxDependencies?: number;
  /** How long a multi-key read may spend fetching the dependencies its values need. */
  dependencyWaitMs?: number;
  /** Rounds of dependency fetches a multi-key read may take, each one batch per replica. */
  maxDependencyRounds?: number;
  /** Whether values are written inside a CausalEnvelope (§2.7); false writes bare values Anna's clients can read. */
  envelope?: boolean;
}

export type ResolvedCausalSessionOptions = Required<CausalSessionOptions> & { level: CausalLevel };

/** The per-client causal cut's bounds: keys and bytes of the values it holds. */
export interface CausalCutLimits {
  maxCutKeys: number;
  maxCutBytes: number;
}

export const CAUSAL_CUT_LIMITS_DEFAULT: CausalCutLimits = { maxCutKeys: 100_000, maxCutBytes: 256 * 1024 * 1024 };

const CAUSAL_DEFAULTS = { maxDependencies: 4096, dependencyWaitMs: 1000, maxDependencyRounds: 4, envelope: true };
/** A node answers KeyRequests of at most 10 000 tuples, and a write's dependencies travel in one value. */
const DEPENDENCIES_MAX = 10_000;
/** A minute: a read that waits longer for its dependencies is better failed and retried. */
const DEPENDENCY_WAIT_MS_MAX = 60_000;
/** Each round asks one more replica; a key has a handful of replicas. */
const DEPENDENCY_ROUNDS_MAX = 16;

export function resolveCausalSessionOptions(options: CausalSessionOptions): ResolvedCausalSessionOptions {
  if (!CAUSAL_SCOPES.includes(options?.scope)) {
    throw new RangeError(`scope must be one of ${CAUSAL_SCOPES.join(", ")}, got ${options?.scope}`);
  }
  const { maxKeys, maxStateBytes } = resolveSessionOptions({
    maxKeys: options.maxKeys,
    maxStateBytes: options.maxStateBytes,
  });
  const envelope = options.envelope ?? CAUSAL_DEFAULTS.envelope;
  if (typeof envelope !== "boolean") throw new TypeError(`envelope must be a boolean, got ${envelope}`);
  // Its stamps are what make it causal: a bare LWW value is an eventual write.
  if (options.scope === "multi-key-lww" && !envelope)
    throw new RangeError("envelope: false is for the sibling scopes; multi-key-lww always writes stamped values");
  return {
    scope: options.scope,
    level: `causal-${options.scope}`,
    maxKeys,
    maxStateBytes,
    maxDependencies: checkedCount(
      "maxDependencies",
      options.maxDependencies ?? CAUSAL_DEFAULTS.maxDependencies,
      0,
      DEPENDENCIES_MAX,
    ),
    dependencyWaitMs: checkedCount(
      "dependencyWaitMs",
      options.dependencyWaitMs ?? CAUSAL_DEFAULTS.dependencyWaitMs,
      0,
      DEPENDENCY_WAIT_MS_MAX,
    ),
    maxDependencyRounds: checkedCount(
      "maxDependencyRounds",
      options.maxDependencyRounds ?? CAUSAL_DEFAULTS.maxDependencyRounds,
      0,
      DEPENDENCY_ROUNDS_MAX,
    ),
    envelope,
  };
}

function checkedCount(name: string, value: number, least: number, most: number): number {
  if (!Number.isSafeInteger(value) || value < least || value > most) {
    throw new RangeError(`${name} must be an integer from ${least} to ${most}, got ${value}`);
  }
  return value;
}
