/**
 * What a multi-key session learns from a value it read (docs/causal-stability.md §1, §6):
 * each sibling is an envelope holding a stamped value (lattices/causal-stamp.ts), or a
 * value some other writer left unstamped.
 */
import { decodeMultiCausalWire, type MultiCausal } from "../lattices/multi-causal";
import { decodeEnvelope } from "../lattices/causal-envelope";
import { decodeStamped } from "../lattices/causal-stamp";
import { entryOf, vectorClock, type VectorClock } from "../lattices/vector-clock";

const utf8 = new TextDecoder();

export interface ReadStamps {
  /** The largest stamp of the siblings (µs): Infinity when one has none, so it never counts as stable. */
  readonly stampMicros: number;
  /** The largest stamp any sibling has (0: none): what the reader's clock follows. */
  readonly latestMicros: number;
  /** The largest stable time a sibling's writer knew (0: none). */
  readonly baseMicros: number;
  /**
   * Per dependency key, the largest stamp the siblings give it; undefined when a sibling has
   * no stamps, since its dependencies' stamps are then unknown (Infinity for every one).
   * Read them with `dependencyStamp`.
   */
  readonly dependencyStamps: ReadonlyMap<string, number> | undefined;
  /**
   * The siblings as a dependency: each stamped one by its writer's entry alone (a version
   * with that entry at least as high is it or overwrites it, since stamped writes carry
   * their session's whole clock), the others by their whole clock; undefined when a
   * sibling has no envelope (then only the value's clock names them).
   */
  readonly versions: VectorClock | undefined;
}

/** The stamps of a causal value's siblings (all of them, overwritten ones too: their dependencies are in the value's). */
export function readStamps(siblings: readonly Uint8Array[]): ReadStamps {
  let stampMicros = 0;
  let latestMicros = 0;
  let baseMicros = 0;
  let dependencyStamps: Map<string, number> | undefined = new Map();
  let versions: VectorClock | undefined = vectorClock.bottom;
  for (const sibling of siblings) {
    const envelope = decodeEnvelope(sibling);
    const stamped = envelope === undefined ? undefined : decodeStamped(envelope.value);
    if (envelope === undefined) versions = undefined;
    if (stamped === undefined) {
      stampMicros = Infinity;
      dependencyStamps = undefined;
      if (envelope !== undefined && versions !== undefined) versions = vectorClock.join(versions, envelope.clock);
      continue;
    }
    // A malformed stamp naming no entry of its clock names the version by the whole clock.
    if (versions !== undefined)
      versions = vectorClock.join(versions, entryOf(envelope!.clock, stamped.writer) ?? envelope!.clock);
    stampMicros = Math.max(stampMicros, stamped.stampMicros);
    latestMicros = Math.max(latestMicros, stamped.stampMicros);
    baseMicros = Math.max(baseMicros, stamped.baseMicros);
    if (dependencyStamps === undefined) continue;
    for (const { key, stampMicros: dependencyMicros } of stamped.dependencyStamps) {
      const name = utf8.decode(key);
      dependencyStamps.set(name, Math.max(dependencyStamps.get(name) ?? 0, dependencyMicros));
    }
  }
  return {
    stampMicros: siblings.length === 0 ? Infinity : stampMicros,
    latestMicros,
    baseMicros,
    dependencyStamps,
    versions,
  };
}

/**
 * A stamp at least that of every version of `key` the value depends on (Infinity: none
 * known). The value's dependencies are the union of those of every version merged into
 * it, and the stamps travel only in the siblings still there. A dependency no sibling
 * lists came from a version another sibling overwrote; that sibling's writer had it in
 * its past and listed it, or dropped it as stable, at or below its base. So where every
 * sibling is stamped, the largest base bounds what no sibling lists.
 */
export function dependencyStamp(stamps: ReadStamps, key: string): number {
  if (stamps.dependencyStamps === undefined) return Infinity;
  const listed = stamps.dependencyStamps.get(key);
  if (listed !== undefined) return Math.max(listed, stamps.baseMicros);
  return stamps.baseMicros > 0 ? stamps.baseMicros : Infinity;
}

/** A MULTI_CAUSAL payload decoded (siblings unpruned) with its siblings' stamps. */
export interface DecodedMultiCausal {
  readonly value: MultiCausal;
  readonly stamps: ReadStamps;
}

/**
 * Payloads decoded, by the array that holds them (payloads are never changed in place). A
 * multi-key read decodes the same values several times (each closing round, each stable
 * check, the result): profiles of hot keys' many siblings put most of its CPU there.
 */
const decodedPayloads = new WeakMap<Uint8Array, DecodedMultiCausal>();

export function decodeStampedMultiCausal(payload: Uint8Array): DecodedMultiCausal {
  let decoded = decodedPayloads.get(payload);
  if (decoded === undefined) {
    // The siblings as stored: readers filter them (visibleSiblings), and stamps come from all of them.
    const value = decodeMultiCausalWire(payload, true);
    decoded = { value, stamps: readStamps(value.second.second) };
    decodedPayloads.set(payload, decoded);
  }
  return decoded;
}

/** A sibling as the user wrote it: the value inside its stamp, where it has one. */
export function unstamped(sibling: Uint8Array): Uint8Array {
  return decodeStamped(sibling)?.value ?? sibling;
}
