/**
 * What a multi-key session learns from a value it read (docs/causal-stability.md §1, §6):
 * each sibling is an envelope holding a stamped value (lattices/causal-stamp.ts), or a
 * value some other writer left unstamped.
 */
import { decodeMultiCausalWire, type MultiCausal } from "../lattices/multi-causal";
import { decodeEnvelope } from "../lattices/causal-envelope";
import { decodeStamped } from "../lattices/causal-stamp";
import { LatticeType } from "../lattices/lattice-type";
import { clockBytes, clockCovers, entryOf, vectorClock, type VectorClock } from "../lattices/vector-clock";
import type { VersionScheme } from "./causal-versions";
import { RECENT_DECODES_PER_GENERATION, RecentDecodes } from "./recent-decodes";
import { anyEpochBound, epochStamp, type EpochStamps, joinEpochStamps, UNKNOWN_STAMPS } from "./epoch-stamps";
import type { StableReport } from "./transport";

const utf8 = new TextDecoder();

export interface ReadStamps {
  /** The siblings' stamps by epoch (docs/causal-stability.md §7): unknown when one has none, so it never counts as stable. */
  readonly stamps: EpochStamps;
  /** The largest stamp any sibling has (0: none): what the reader's clock follows. */
  readonly latestMicros: number;
  /** The largest stable time a sibling's writer knew (0: none). */
  readonly baseMicros: number;
  /**
   * The siblings' bases that name their epoch, as the reports they are: a node reported
   * that stable time in that epoch to the writer, which makes it a fact any reader can
   * rely on (docs/causal-stability.md §7).
   */
  readonly baseReports: readonly StableReport[];
  /**
   * Per dependency key, the stamps the siblings give it, by epoch; undefined when a sibling
   * has no stamps, since its dependencies' stamps are then unknown. Read them with
   * `dependencyStamps`.
   */
  readonly dependencyStamps: ReadonlyMap<string, EpochStamps> | undefined;
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
  let stamps: EpochStamps = siblings.length === 0 ? UNKNOWN_STAMPS : new Map();
  let latestMicros = 0;
  let baseMicros = 0;
  const baseReports: StableReport[] = [];
  let dependencyStamps: Map<string, EpochStamps> | undefined = new Map();
  let versions: VectorClock | undefined = vectorClock.bottom;
  for (const sibling of siblings) {
    const envelope = decodeEnvelope(sibling);
    const stamped = envelope === undefined ? undefined : decodeStamped(envelope.value);
    if (envelope === undefined) versions = undefined;
    if (stamped === undefined) {
      stamps = joinEpochStamps(stamps, UNKNOWN_STAMPS);
      dependencyStamps = undefined;
      if (envelope !== undefined && versions !== undefined) versions = vectorClock.join(versions, envelope.clock);
      continue;
    }
    // A malformed stamp naming no entry of its clock names the version by the whole clock.
    if (versions !== undefined)
      versions = vectorClock.join(versions, entryOf(envelope!.clock, stamped.writer) ?? envelope!.clock);
    stamps = joinEpochStamps(stamps, epochStamp(stamped.epoch, stamped.stampMicros));
    latestMicros = Math.max(latestMicros, stamped.stampMicros);
    baseMicros = Math.max(baseMicros, stamped.baseMicros);
    if (stamped.baseEpoch > 0) baseReports.push({ micros: stamped.baseMicros, epoch: stamped.baseEpoch });
    if (dependencyStamps === undefined) continue;
    for (const { key, stampMicros: dependencyMicros, epoch } of stamped.dependencyStamps) {
      const name = utf8.decode(key);
      dependencyStamps.set(
        name,
        joinEpochStamps(dependencyStamps.get(name) ?? new Map(), epochStamp(epoch, dependencyMicros)),
      );
    }
  }
  return {
    stamps,
    latestMicros,
    baseMicros,
    baseReports,
    dependencyStamps,
    versions,
  };
}

/**
 * Stamps, by epoch, at least those of every version of `key` the value depends on. The
 * value's dependencies are the union of those of every version merged into it, and the
 * stamps travel only in the siblings still there. A dependency no sibling lists came from
 * a version another sibling overwrote; that sibling's writer had it in its past and listed
 * it, or dropped it as stable (in its own epoch: it is on every replica), at or below its
 * base. So where every sibling is stamped, the largest base bounds, against any epoch,
 * what no sibling lists.
 */
export function dependencyStamps(stamps: ReadStamps, key: string): EpochStamps {
  if (stamps.dependencyStamps === undefined) return UNKNOWN_STAMPS;
  const listed = stamps.dependencyStamps.get(key);
  if (listed !== undefined) return joinEpochStamps(listed, anyEpochBound(stamps.baseMicros));
  return stamps.baseMicros > 0 ? anyEpochBound(stamps.baseMicros) : UNKNOWN_STAMPS;
}

/** A MULTI_CAUSAL payload decoded (siblings unpruned) with its siblings' stamps. */
export interface DecodedMultiCausal {
  readonly value: MultiCausal;
  readonly stamps: ReadStamps;
}

/**
 * Payloads decoded while recent. A multi-key read decodes the same values several times
 * (each closing round, each stable check, the result): profiles of hot keys' many siblings
 * put most of its CPU there.
 */
const decodedPayloads = new RecentDecodes(RECENT_DECODES_PER_GENERATION, (payload): DecodedMultiCausal => {
  // The siblings as stored: readers filter them (visibleSiblings), and stamps come from all of them.
  const value = decodeMultiCausalWire(payload, true);
  return { value, stamps: readStamps(value.second.second) };
});

export function decodeStampedMultiCausal(payload: Uint8Array): DecodedMultiCausal {
  return decodedPayloads.of(payload);
}

/** A sibling as the user wrote it: the value inside its stamp, where it has one. */
export function unstamped(sibling: Uint8Array): Uint8Array {
  return decodeStamped(sibling)?.value ?? sibling;
}

/**
 * causal-multi-key's versions: vector clocks. A value's version is its clock, and it lists
 * per dependency key the clock needed, with the stamps its siblings give it.
 */
export const multiCausalVersions: VersionScheme<VectorClock> = {
  level: "causal-multi-key",
  type: LatticeType.MULTI_CAUSAL,
  bottom: vectorClock.bottom,
  covers: clockCovers,
  coveredByOrderMicros: () => 0,
  join: (a, b) => vectorClock.join(a, b),
  decode(payload) {
    // The clock and dependencies only: the values are not pruned here (readers filter them).
    const { value, stamps } = decodeStampedMultiCausal(payload);
    return {
      version: value.first,
      dependencies: value.second.first.map(({ key, value: needed }) => {
        const name = utf8.decode(key);
        return [name, needed, dependencyStamps(stamps, name)] as const;
      }),
    };
  },
  bytesOf: clockBytes,
  text: (clock) => `{${clock.map(({ key, value }) => `${utf8.decode(key)}: ${value}`).join(", ")}}`,
};
