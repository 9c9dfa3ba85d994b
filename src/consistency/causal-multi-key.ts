/**
 * Causal consistency across keys (docs/consistency.md §2.8): MULTI_CAUSAL values, read
 * through the client's causal cut (causal-cut.ts, causal-cut-reads.ts), so a read never
 * returns a value whose dependencies the reader cannot see. The session keeps its causal
 * past per key (causal-past.ts), and a write depends on it (multi-key-session.ts).
 *
 * Sessions that write envelopes (the default) also stamp their writes and keep them short
 * (docs/causal-stability.md): a write's clock is the session's whole clock (the join of
 * every value's clock it read and its own entry), which dominates exactly the versions in
 * its causal past, of every key; a dependency names a version by its writer's entry alone;
 * and entries of the past stamped at or below the stable time of their epoch are dropped
 * before each write, since every replica holds them (docs/causal-stability.md §7). A write then depends only on what its session
 * saw within the last stability lag, and carries the stable time as its base, which its
 * readers' reads require (causal-cut-reads.ts). Sessions writing bare values keep the
 * exact per-key past instead: a write's clock starts from its key's entry, and it depends
 * on the whole past.
 */
import { LatticeType } from "../lattices/lattice-type";
import { encodeMultiCausalWire } from "../lattices/multi-causal";
import { toByteMap, type MapEntry } from "../lattices/map";
import { toByteSet } from "../lattices/set-union";
import { vectorClock, type VectorClock } from "../lattices/vector-clock";
import { compareDependencyStamps, encodeStamped, type DependencyStamp } from "../lattices/causal-stamp";
import type { Dependencies } from "../lattices/multi-causal";
import { visibleSiblings } from "../lattices/causal-envelope";
import { keyBytes } from "../wire/key";
import type { CausalCut } from "./causal-cut";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import type { PastAddition } from "./causal-past";
import { decodeStampedMultiCausal, dependencyStamps, multiCausalVersions, unstamped } from "./causal-stamps";
import { epochStamp, UNKNOWN_STAMPS } from "./epoch-stamps";
import type { CausalWriter } from "./causal-writer";
import { MultiKeySession, type SessionWrite } from "./multi-key-session";
import type { KeyTransport, StableReport, ValueRead } from "./transport";

const utf8 = new TextDecoder();

/** A write's dependencies: per key, the clock needed, and the stamps of those that have one. */
interface WriteDependencies {
  readonly clocks: Dependencies;
  readonly stamps: DependencyStamp[];
}

interface CausalWrite extends SessionWrite<VectorClock> {
  readonly clock: VectorClock;
  /** What it was made of, to stamp it again. */
  readonly dependencies: WriteDependencies;
  readonly value: Uint8Array;
}

export class MultiKeyCausal extends MultiKeySession<VectorClock, CausalWrite> {
  /** The join of the clocks of every value the session read and of its writes (stamped writes start from it). */
  private sessionClock: VectorClock = vectorClock.bottom;

  constructor(
    transport: KeyTransport,
    cut: CausalCut,
    writer: CausalWriter,
    options: ResolvedCausalSessionOptions,
    nowMicros?: () => bigint,
  ) {
    super(transport, cut, writer, options, multiCausalVersions, nowMicros);
  }

  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    const values = await this.readThroughCut(keys);
    const siblings = new Map<string, Uint8Array[]>();
    const pastRead: PastAddition<VectorClock>[] = [];
    for (const key of keys) {
      const value = values.get(key);
      if (value === undefined) {
        siblings.set(key, []);
        continue;
      }
      // visibleSiblings keeps the maximal ones: the decode need not as well.
      const {
        value: { first: clock, second },
        stamps,
      } = decodeStampedMultiCausal(value.payload);
      this.sessionClock = vectorClock.join(this.sessionClock, clock);
      this.stable.raiseAny(Math.max(stamps.baseMicros, this.cut.stableOf(key)));
      if (stamps.latestMicros > 0) this.stamps.observe(BigInt(stamps.latestMicros));
      pastRead.push([key, this.options.envelope ? (stamps.versions ?? clock) : clock, stamps.stamps]);
      for (const dependency of second.first) {
        const name = utf8.decode(dependency.key);
        pastRead.push([name, dependency.value, dependencyStamps(stamps, name)]);
      }
      siblings.set(key, visibleSiblings(second.second, true).map(unstamped));
    }
    this.past.add(pastRead);
    return siblings;
  }

  async write(key: string, value: Uint8Array): Promise<void> {
    await this.beforeWrite(key);
    const clock = this.writer.nextClock(this.options.envelope ? this.sessionClock : this.past.versionOf(key));
    await this.sendWrite(this.stampedWrite(key, clock, this.dependenciesExcept(key), value));
  }

  protected baseOf(value: ValueRead): number {
    return decodeStampedMultiCausal(value.payload).stamps.baseMicros;
  }

  protected baseReportsOf(value: ValueRead): readonly StableReport[] {
    return decodeStampedMultiCausal(value.payload).stamps.baseReports;
  }

  protected restamp(write: CausalWrite, leadMicros: number): CausalWrite {
    return this.stampedWrite(write.put.key, write.clock, write.dependencies, write.value, leadMicros);
  }

  protected override noteSent(write: CausalWrite): void {
    this.sessionClock = vectorClock.join(this.sessionClock, write.clock);
  }

  /** Every key's entry but `key`'s (a write's own clock covers that one), as a write lists them. */
  private dependenciesExcept(key: string): WriteDependencies {
    const clocks: MapEntry<VectorClock>[] = [];
    const stamps: DependencyStamp[] = [];
    for (const [other, entry] of this.past.entriesExcept(key)) {
      const otherBytes = keyBytes(other);
      clocks.push({ key: otherBytes, value: entry.version });
      // Unknown stamps are listed too (never stable), or a reader would bound them by the base.
      for (const [epoch, stampMicros] of entry.stamps) stamps.push({ key: otherBytes, stampMicros, epoch });
    }
    stamps.sort(compareDependencyStamps);
    return { clocks: toByteMap(clocks, vectorClock), stamps };
  }

  /**
   * The write of `value` at `clock`: stamped (`leadMicros` ahead of the clock), with the
   * session's stable time as its base, unless written bare.
   */
  private stampedWrite(
    key: string,
    clock: VectorClock,
    dependencies: WriteDependencies,
    value: Uint8Array,
    leadMicros = 0,
  ): CausalWrite {
    let stamps = UNKNOWN_STAMPS;
    let element: Uint8Array;
    let pastClock = clock;
    let stampMicros: number | undefined;
    if (this.options.envelope) {
      const { stampMicros: micros, base, epoch } = this.stamp(leadMicros);
      stampMicros = micros;
      stamps = epochStamp(epoch, stampMicros);
      const stamped = {
        stampMicros,
        baseMicros: base.micros,
        writer: this.writer.id,
        dependencyStamps: dependencies.stamps,
        value,
        epoch,
        baseEpoch: base.epoch,
      };
      element = this.writer.element(clock, encodeStamped(stamped));
      // What the session's past keeps of it: its writer entry (stamped) or its clock (bare).
      pastClock = this.writer.ownEntry(clock);
    } else element = this.writer.element(clock, value);
    const payload = encodeMultiCausalWire({
      first: clock,
      second: { first: dependencies.clocks, second: toByteSet([element]) },
    });
    return {
      put: { key, type: LatticeType.MULTI_CAUSAL, payload },
      pastAddition: [key, pastClock, stamps],
      stampMicros,
      clock,
      dependencies,
      value,
    };
  }
}
