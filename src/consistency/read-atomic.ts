/**
 * Read atomic (docs/consistency.md §2.6): RAMP-Fast over the LWW lattice's committed part
 * and window (src/lattices/lww.ts). What its writes (read-atomic-writes.ts) and reads
 * (read-atomic-reads.ts) share: versions, their order, and the two messages a version
 * travels in, a prepare and a commit. A reader that completes a half-committed
 * transaction sends the writer's own commit message, so the two cannot drift apart.
 */
import { compareBytes, bytesEqual } from "../lattices/lattice";
import { LatticeType } from "../lattices/lattice-type";
import { encodeLww, type LwwValue, type LwwVersionValue } from "../lattices/values";
import type { PutTuple } from "./transport";

/** Where a version sits in a key's order: LWW's (stamp, write id). */
export type VersionKey = Pick<LwwVersionValue, "timestamp" | "writeId">;

export function compareVersions(a: VersionKey, b: VersionKey): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareBytes(a.writeId, b.writeId);
}

export function sameVersion(a: VersionKey, b: VersionKey): boolean {
  return a.timestamp === b.timestamp && bytesEqual(a.writeId, b.writeId);
}

/**
 * The committed part of a key's value as a version, or null where there is none: the
 * bottom, which is what a key holding only prepared versions reads as.
 */
export function committedVersion(value: LwwValue): LwwVersionValue | null {
  const { timestamp, writeId, value: bytes, writeSet } = value;
  if (timestamp === 0n && writeId.length === 0 && bytes.length === 0 && writeSet.length === 0) return null;
  return { timestamp, writeId, value: bytes, writeSet, committed: true };
}

/** The version `wanted` of a key's value: its committed part or an entry of its window; undefined when gone or not yet there. */
export function versionIn(value: LwwValue, wanted: VersionKey): LwwVersionValue | undefined {
  const committed = committedVersion(value);
  if (committed !== null && sameVersion(committed, wanted)) return committed;
  return value.versions.find((version) => sameVersion(version, wanted));
}

/** Step 1 of a commit: the version alone in the window, not committed, so nothing becomes visible. */
export function preparePut(key: string, version: LwwVersionValue): PutTuple {
  return {
    key,
    type: LatticeType.LWW,
    payload: encodeLww({ timestamp: 0, value: "", versions: [{ ...version, committed: false }] }),
  };
}

/**
 * Step 2: the committed part and the version committed. The value travels in both, so that
 * a replica that never saw the prepare still holds the value of the version it makes
 * visible, and a reader can later take it from the window as an older version.
 */
export function commitPut(key: string, version: LwwVersionValue): PutTuple {
  const { timestamp, writeId, value, writeSet } = version;
  return {
    key,
    type: LatticeType.LWW,
    payload: encodeLww({ timestamp, value, writeId, writeSet, versions: [{ ...version, committed: true }] }),
  };
}
