/**
 * Read atomic's reads (docs/consistency.md §2.6, RAMP-Fast): a transaction sees each other
 * transaction's writes all or none, as far as it reads them. Every version carries its
 * transaction's write set, so a read can tell when a version it returns would fracture
 * another read: one it returned before and is older (an upper bound: take an older version
 * instead), or one it returns now that is older than the version the same transaction
 * wrote (a lower bound: take that exact version, from the window or another replica). The
 * versions returned are cached: the second read of a key returns the first's (item cut).
 */
import { LatticeType } from "../lattices/lattice-type";
import { decodeLww, encodeLww, type LwwVersionValue } from "../lattices/values";
import { bufferEntryBytes } from "./buffer-budget";
import { ConsistencyError } from "./errors";
import { commitPut, committedVersion, compareVersions, sameVersion, versionIn, type VersionKey } from "./read-atomic";
import { checkType } from "./session";
import type { TransactionContext, TransactionReads } from "./transaction";
import type { PutTuple, ValueRead } from "./transport";

/** Between two tries of the replicas for a version a read needs. */
const VERSION_RETRY_MS = 20;
/** Keys an error message names; the rest are counted. */
const KEYS_IN_MESSAGE_MAX = 8;

/** A key as round 1 found it: the version it would return (null: none), and its window. */
interface Found {
  choice: LwwVersionValue | null;
  readonly window: readonly LwwVersionValue[];
}

export class AtomicReads implements TransactionReads {
  /** R: per key, the version returned (null: absent). Later reads of the key return it again. */
  private readonly returned = new Map<string, LwwVersionValue | null>();
  /** Per key, the greatest version at which a returned version's write set holds it. */
  private readonly required = new Map<string, VersionKey>();

  constructor(
    protected readonly context: TransactionContext,
    private readonly versionWaitMs: number,
  ) {}

  async read(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    const missing = keys.filter((key) => !this.returned.has(key));
    if (missing.length > 0) await this.readFromStore(missing);
    return new Map(keys.map((key) => [key, asValueRead(this.returned.get(key)!)]));
  }

  private async readFromStore(keys: readonly string[]): Promise<void> {
    const fetched = await this.context.core.read(keys);
    const found = new Map<string, Found>();
    for (const key of keys) found.set(key, this.belowUpperBounds(key, fetched.get(key)));
    await this.raiseToLowerBounds(found, this.requiredWith(found));
    let bytes = 0;
    for (const [key, { choice }] of found) bytes += bufferEntryBytes(key, choice?.value.length ?? 0);
    this.context.budget.charge(keys[0], bytes);
    for (const [key, { choice }] of found) {
      this.returned.set(key, choice);
      if (choice !== null) requireWriteSet(this.required, choice);
    }
  }

  /**
   * The key's committed version, unless its write set holds a key returned at an older
   * version: then the newest committed version of its window that fractures nothing
   * returned. READ_ATOMIC_CONFLICT when there is none, or when the session's floor (read
   * your writes, monotonic reads) forbids going below the committed version.
   */
  private belowUpperBounds(key: string, read: ValueRead | undefined): Found {
    if (read === undefined) return { choice: null, window: [] };
    checkType(key, read.type, [LatticeType.LWW]);
    const value = decodeLww(read.payload);
    const committed = committedVersion(value);
    if (committed === null || this.agreesWithReturned(committed)) return { choice: committed, window: value.versions };
    const { guarantees } = this.context.core;
    const floorHeld = guarantees.has("read-your-writes") || guarantees.has("monotonic-reads");
    let older: LwwVersionValue | null = null;
    for (const version of value.versions) {
      const below = compareVersions(version, committed) < 0;
      if (version.committed && below && this.agreesWithReturned(version)) older = version;
    }
    if (older === null || floorHeld) throw this.conflict(key, committed, floorHeld);
    return { choice: older, window: value.versions };
  }

  private agreesWithReturned(version: LwwVersionValue): boolean {
    return version.writeSet.every((written) => {
      const returned = this.returned.get(written);
      return returned === undefined || (returned !== null && compareVersions(returned, version) >= 0);
    });
  }

  /** `required` extended by the write sets of the versions round 1 chose. */
  private requiredWith(found: ReadonlyMap<string, Found>): Map<string, VersionKey> {
    const required = new Map(this.required);
    for (const { choice } of found.values()) if (choice !== null) requireWriteSet(required, choice);
    return required;
  }

  /**
   * Raises every key chosen below the version its transaction's write set requires to that
   * exact version: from the window round 1 brought, else from the replicas (round 2). A
   * version found prepared, not committed, belongs to a transaction that began its commit
   * (a committed version required it), so the read completes that commit (a repair).
   */
  protected async raiseToLowerBounds(
    found: Map<string, Found>,
    required: ReadonlyMap<string, VersionKey>,
  ): Promise<void> {
    const missing = new Map<string, VersionKey>();
    for (const [key, entry] of found) {
      const wanted = required.get(key);
      if (wanted === undefined || (entry.choice !== null && compareVersions(entry.choice, wanted) >= 0)) continue;
      const inWindow = entry.window.find((version) => sameVersion(version, wanted));
      if (inWindow === undefined) missing.set(key, wanted);
      else entry.choice = inWindow;
    }
    if (missing.size > 0) {
      for (const [key, version] of await this.fetchVersions(missing)) found.get(key)!.choice = version;
    }
    const repairs: PutTuple[] = [];
    for (const [key, { choice }] of found)
      if (choice !== null && !choice.committed) repairs.push(commitPut(key, choice));
    if (repairs.length > 0) this.repair(repairs);
  }

  /** Round 2: every replica of each key, again and again for versionWaitMs; VERSION_UNAVAILABLE past it. */
  private async fetchVersions(wanted: ReadonlyMap<string, VersionKey>): Promise<Map<string, LwwVersionValue>> {
    const { transport } = this.context.core.context;
    const deadline = Date.now() + this.versionWaitMs;
    const fetched = new Map<string, LwwVersionValue>();
    for (;;) {
      for (const [key, version] of wanted) {
        if (fetched.has(key)) continue;
        for (const replica of await transport.replicasOf(key)) {
          const read = await transport.getFromReplica(replica, [key]).catch(() => undefined);
          const value = read?.get(key);
          const held = value?.type === LatticeType.LWW ? versionIn(decodeLww(value.payload), version) : undefined;
          if (held === undefined) continue;
          fetched.set(key, held);
          break;
        }
      }
      const waitMs = Math.min(VERSION_RETRY_MS, deadline - Date.now());
      if (fetched.size === wanted.size) return fetched;
      if (waitMs <= 0) throw this.unavailable([...wanted.keys()].filter((key) => !fetched.has(key)));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** Sends the commits of versions found prepared; fire and forget: the read does not wait, a failure costs nothing. */
  private repair(commits: readonly PutTuple[]): void {
    this.context.core.context.transport.putManySettled(commits).catch(() => undefined);
  }

  private conflict(key: string, committed: LwwVersionValue, floorHeld: boolean): ConsistencyError {
    const { isolation, id } = this.context;
    const why = floorHeld
      ? "the session's floor forbids an older version"
      : "no older committed version in its window fractures nothing";
    return new ConsistencyError(
      "READ_ATOMIC_CONFLICT",
      isolation,
      `${isolation}: transaction ${id} cannot read ${JSON.stringify(key)}: its version at stamp ${committed.timestamp} ` +
        `belongs to a transaction that wrote a key this one read at an older version, and ${why}; ` +
        `read the keys in one getMany, or retry the transaction`,
    );
  }

  private unavailable(keys: readonly string[]): ConsistencyError {
    const { isolation, id } = this.context;
    const named = keys.slice(0, KEYS_IN_MESSAGE_MAX).map((key) => JSON.stringify(key));
    const more = keys.length > KEYS_IN_MESSAGE_MAX ? ` and ${keys.length - KEYS_IN_MESSAGE_MAX} more` : "";
    return new ConsistencyError(
      "VERSION_UNAVAILABLE",
      isolation,
      `${isolation}: transaction ${id} needs versions of ${named.join(", ")}${more} that another read's transaction ` +
        `wrote, and no replica held them within versionWaitMs (${this.versionWaitMs} ms)`,
    );
  }
}

/** Raises `required` to `version` for every key its write set holds. */
function requireWriteSet(required: Map<string, VersionKey>, version: LwwVersionValue): void {
  for (const key of version.writeSet) {
    const known = required.get(key);
    if (known === undefined || compareVersions(known, version) < 0) required.set(key, version);
  }
}

/** A version as the transaction decodes a read: a plain LWW value of its stamp, write id and value. */
function asValueRead(version: LwwVersionValue | null): ValueRead | undefined {
  if (version === null) return undefined;
  const { timestamp, value, writeId } = version;
  return { type: LatticeType.LWW, payload: encodeLww({ timestamp, value, writeId }) };
}
