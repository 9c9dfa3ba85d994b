/**
 * causal-multi-key-lww's versions (docs/causal-stability.md §9): an LWW key's version is its
 * (timestamp, write id), ordered as the store's merge orders them, so a version covers every
 * one below it: those it overwrote. A value lists its writer's dependencies with the write
 * id of each version depended on; one whose write id is a stamped causal write's carries
 * that version's stamp in its epoch, any other (a bare value) is of unknown stamp and never
 * stable.
 */
import {
  compareLwwVersions,
  decodeCausalLww,
  isCausalWriteId,
  type CausalLwwValue,
  type LwwVersion,
} from "../lattices/causal-lww";
import type { DependencyStamp } from "../lattices/causal-stamp";
import { EMPTY_BYTES } from "../lattices/lattice";
import { LatticeType } from "../lattices/lattice-type";
import { epochStamp, type EpochStamps, UNKNOWN_STAMPS } from "./epoch-stamps";
import type { Dependency, VersionScheme, VersionedValue } from "./causal-versions";
import { RECENT_DECODES_PER_GENERATION, RecentDecodes } from "./recent-decodes";

/** A version, with the epoch it was stamped in (0: none or unknown), which the order ignores. */
export interface CausalLwwVersion extends LwwVersion {
  readonly epoch: number;
}

/** What a version takes beyond its write id: two numbers and the object. */
const VERSION_OVERHEAD_BYTES = 48;
const utf8 = new TextDecoder();

const BOTTOM: CausalLwwVersion = { micros: 0, writeId: EMPTY_BYTES, epoch: 0 };

/** A version's stamps: its stamp in its epoch when it is a stamped write's, unknown otherwise. */
export function stampsOfVersion(version: CausalLwwVersion): EpochStamps {
  return isCausalWriteId(version.writeId) ? epochStamp(version.epoch, version.micros) : UNKNOWN_STAMPS;
}

/** The dependency stamp that names `version` of `key` in a write. */
export function dependencyStampOf(key: Uint8Array, version: CausalLwwVersion): DependencyStamp {
  return { key, stampMicros: version.micros, epoch: version.epoch, writer: version.writeId };
}

function versionOfDependency({ stampMicros, epoch, writer }: DependencyStamp): CausalLwwVersion {
  return { micros: stampMicros, writeId: writer ?? EMPTY_BYTES, epoch };
}

/**
 * A stamped value of `version` listing `dependencyStamps`, as the scheme's `decode` gives
 * it: how decodes read one, and how a writer states what its own payload decodes to.
 */
export function stampedVersionedValue(
  version: CausalLwwVersion,
  dependencyStamps: readonly DependencyStamp[],
): VersionedValue<CausalLwwVersion> {
  const dependencies: Dependency<CausalLwwVersion>[] = dependencyStamps.map((stamp) => {
    const needed = versionOfDependency(stamp);
    return [utf8.decode(stamp.key), needed, stampsOfVersion(needed)] as const;
  });
  return { version, dependencies };
}

/** Payloads decoded while recent: a read decodes each value several times (closing, bases, result). */
const decodedPayloads = new RecentDecodes(RECENT_DECODES_PER_GENERATION, decodeCausalLww);

/** `decodeCausalLww`, once per payload while it is recent. */
export function decodeCausalLwwOnce(payload: Uint8Array): CausalLwwValue {
  return decodedPayloads.of(payload);
}

export const causalLwwVersions: VersionScheme<CausalLwwVersion> = {
  level: "causal-multi-key-lww",
  type: LatticeType.LWW,
  bottom: BOTTOM,
  covers: (have, needed) => compareLwwVersions(have, needed) >= 0,
  // Every version stamped below it is below it in the order; one of the same stamp may have a greater write id.
  coveredByOrderMicros: (version) => Math.max(0, version.micros - 1),
  join: (a, b) => (compareLwwVersions(a, b) >= 0 ? a : b),
  decode(payload): VersionedValue<CausalLwwVersion> {
    const { version, stamped } = decodeCausalLwwOnce(payload);
    // A bare value lists nothing: its writer's past is unknown, as for any eventual write.
    if (stamped === undefined) return { version: { ...version, epoch: 0 }, dependencies: [] };
    return stampedVersionedValue({ ...version, epoch: stamped.epoch }, stamped.dependencyStamps);
  },
  bytesOf: (version) => version.writeId.length + VERSION_OVERHEAD_BYTES,
  text: (version) => `(${version.micros} µs, ${Buffer.from(version.writeId).toString("hex")})`,
};
