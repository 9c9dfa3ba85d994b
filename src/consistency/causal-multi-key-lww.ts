/**
 * causal-multi-key-lww (docs/causal-stability.md §9): causal consistency across keys with
 * a key's concurrent writes resolved by stamp, as COPS and GentleRain do (causal+), instead
 * of kept as siblings. Values are LWW values carrying the write's stamp and dependencies
 * (lattices/causal-lww.ts); a version is the store's (timestamp, write id). Reads go
 * through the client's cut of this level, with the same closing and stable-time rules as
 * causal-multi-key (multi-key-session.ts); what differs is that no clock is kept, sent or
 * decoded: a write's stamp is above every stamp its session saw, so it overwrites every
 * version of its key in the session's past, and its dependencies name versions by
 * (key, stamp, write id).
 */
import { causalWriteId, encodeCausalLww } from "../lattices/causal-lww";
import { compareDependencyStamps, type DependencyStamp } from "../lattices/causal-stamp";
import { LatticeType } from "../lattices/lattice-type";
import { keyBytes } from "../wire/key";
import type { CausalCut } from "./causal-cut";
import {
  causalLwwVersions,
  decodeCausalLwwOnce,
  dependencyStampOf,
  stampedVersionedValue,
  stampsOfVersion,
  type CausalLwwVersion,
} from "./causal-lww-versions";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import type { PastAddition } from "./causal-past";
import type { CausalWriter } from "./causal-writer";
import { MultiKeySession, type SessionWrite } from "./multi-key-session";
import type { KeyTransport, StableReport, ValueRead } from "./transport";

interface LwwWrite extends SessionWrite<CausalLwwVersion> {
  /** What it was made of, to stamp it again. */
  readonly dependencies: DependencyStamp[];
  readonly value: Uint8Array;
}

export class LwwMultiKeyCausal extends MultiKeySession<CausalLwwVersion, LwwWrite> {
  constructor(
    transport: KeyTransport,
    cut: CausalCut<CausalLwwVersion>,
    writer: CausalWriter,
    options: ResolvedCausalSessionOptions,
    nowMicros?: () => bigint,
  ) {
    super(transport, cut, writer, options, causalLwwVersions, nowMicros);
  }

  /** Each key's value as a list of one, [] when absent, like the sibling levels' lists. */
  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    const values = await this.readThroughCut(keys);
    const read = new Map<string, Uint8Array[]>();
    const pastRead: PastAddition<CausalLwwVersion>[] = [];
    for (const key of keys) {
      const value = values.get(key);
      if (value === undefined) {
        read.set(key, []);
        continue;
      }
      const { stamped, value: userValue } = decodeCausalLwwOnce(value.payload);
      // Decoded already when the read closed it (the cut keeps the decode by payload).
      const { version, dependencies } = this.cut.versionedValueOf(value);
      this.stable.raiseAny(Math.max(stamped?.baseMicros ?? 0, this.cut.stableOf(key)));
      // The session's next write of the key must overwrite this version, stamped or bare.
      if (Number.isSafeInteger(version.micros)) this.stamps.observe(BigInt(version.micros));
      pastRead.push([key, version, stampsOfVersion(version)], ...dependencies);
      read.set(key, [userValue.slice()]);
    }
    this.past.add(pastRead);
    return read;
  }

  async write(key: string, value: Uint8Array): Promise<void> {
    await this.beforeWrite(key);
    const dependencies = this.past
      .entriesExcept(key)
      .map(([other, { version }]) => dependencyStampOf(keyBytes(other), version))
      .sort(compareDependencyStamps);
    await this.sendWrite(this.stampedWrite(key, dependencies, value));
  }

  protected baseOf(value: ValueRead): number {
    return decodeCausalLwwOnce(value.payload).stamped?.baseMicros ?? 0;
  }

  protected baseReportsOf(value: ValueRead): readonly StableReport[] {
    const stamped = decodeCausalLwwOnce(value.payload).stamped;
    return stamped === undefined || stamped.baseEpoch === 0
      ? []
      : [{ micros: stamped.baseMicros, epoch: stamped.baseEpoch }];
  }

  protected restamp(write: LwwWrite, leadMicros: number): LwwWrite {
    return this.stampedWrite(write.put.key, write.dependencies, write.value, leadMicros);
  }

  /** The write of `value`, stamped above all the session saw (and `leadMicros` ahead of the clock), with its stable time as the base. */
  private stampedWrite(key: string, dependencies: DependencyStamp[], value: Uint8Array, leadMicros = 0): LwwWrite {
    const { stampMicros, base, epoch } = this.stamp(leadMicros);
    const payload = encodeCausalLww({
      stampMicros,
      baseMicros: base.micros,
      writer: this.writer.id,
      dependencyStamps: dependencies,
      value,
      epoch,
      baseEpoch: base.epoch,
    });
    const version = { micros: stampMicros, writeId: causalWriteId(this.writer.id), epoch };
    return {
      put: { key, type: LatticeType.LWW, payload },
      pastAddition: [key, version, stampsOfVersion(version)],
      stampMicros,
      decoded: stampedVersionedValue(version, dependencies),
      dependencies,
      value,
    };
  }
}
