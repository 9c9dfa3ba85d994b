/**
 * Causal consistency across keys (docs/consistency.md §2.8): MULTI_CAUSAL values, read
 * through the client's causal cut (causal-cut.ts, causal-cut-reads.ts), so a read never
 * returns a value whose dependencies the reader cannot see. The session keeps its causal
 * past per key (causal-past.ts), and a write depends on it.
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
import { toByteSet } from "../lattices/set-union";
import { vectorClock, type VectorClock } from "../lattices/vector-clock";
import { encodeStamped } from "../lattices/causal-stamp";
import { visibleSiblings } from "../lattices/causal-envelope";
import type { CausalCut } from "./causal-cut";
import { readThroughCut } from "./causal-cut-reads";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import { CausalPast, type PastAddition, type WriteDependencies } from "./causal-past";
import type { CausalScopeCore } from "./causal-session";
import { decodeStampedMultiCausal, dependencyStamps, unstamped } from "./causal-stamps";
import {
  ANY_EPOCH,
  epochStamp,
  EpochStableTimes,
  type EpochStamps,
  stableReportOf,
  UNKNOWN_STAMPS,
} from "./epoch-stamps";
import type { CausalWriter } from "./causal-writer";
import { HybridClock } from "./clock";
import { ConsistencyError } from "./errors";
import type { KeyTransport, PutOutcome, PutTuple, StableReport, ValueRead } from "./transport";

const LEVEL = "causal-multi-key";
const utf8 = new TextDecoder();
/** A write refused for a stale stamp is stamped above the floor named and sent again, this many times in all. */
const STAMP_ATTEMPTS_MAX = 3;

interface CausalWrite {
  readonly put: PutTuple;
  readonly clock: VectorClock;
  /** What it was made of, to stamp it again. */
  readonly dependencies: WriteDependencies;
  readonly value: Uint8Array;
  /** What the session's past keeps of it: its writer entry (stamped) or its clock (bare). */
  readonly pastClock: VectorClock;
  /** Its stamp in its epoch (unknown: unstamped, written bare). */
  readonly stamps: EpochStamps;
}

/** The largest base of a value's siblings: what its readers must see of the stable time. */
function baseOf(value: ValueRead): number {
  return decodeStampedMultiCausal(value.payload).stamps.baseMicros;
}

function baseReportsOf(value: ValueRead): readonly StableReport[] {
  return decodeStampedMultiCausal(value.payload).stamps.baseReports;
}

export class MultiKeyCausal implements CausalScopeCore {
  private readonly past: CausalPast;
  /** A write whose outcome was unknown: later calls depend on it, so it is sent again before them. */
  private pending: CausalWrite | undefined;
  /** The join of the clocks of every value the session read and of its writes (stamped writes start from it). */
  private sessionClock: VectorClock = vectorClock.bottom;
  /**
   * The session's stable times: per epoch, the largest reported with what it read or wrote
   * in it, and the largest of all (`anyMicros`, which also takes what a writer of a value it
   * read knew). Every replica holds every version stamped in an epoch at or below its
   * time; the session's writes carry the largest as their base, and its reads require it.
   */
  private readonly stable = new EpochStableTimes();
  /** The epoch the session stamps in: the one last named by a node (0: none yet). */
  private epoch: number;
  /** Stamps the session's writes: above every stamp it read, its stable time and any accept floor that refused it. */
  private readonly stamps: HybridClock;

  constructor(
    private readonly transport: KeyTransport,
    private readonly cut: CausalCut,
    private readonly writer: CausalWriter,
    private readonly options: ResolvedCausalSessionOptions,
    nowMicros?: () => bigint,
  ) {
    this.past = new CausalPast(options, LEVEL);
    this.stamps = new HybridClock({ nowMicros });
    this.epoch = cut.epoch;
  }

  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.past.keyCount, stateBytes: this.past.stateBytes };
  }

  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    // A read follows the session's writes, one of unknown outcome too: had it happened unseen, the read would miss it.
    await this.resendPending();
    const stability = this.options.envelope ? { times: this.stable, baseOf, baseReportsOf } : undefined;
    const { values, stableMicros, reports } = await readThroughCut(
      this.transport,
      this.cut,
      keys,
      this.options,
      stability,
    );
    for (const report of reports) this.learnStable(report);
    this.stable.raiseAny(stableMicros);
    const siblings = new Map<string, Uint8Array[]>();
    const pastRead: PastAddition[] = [];
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
    await this.resendPending();
    // Bare values carry no base, so their readers could not know what the writer dropped.
    if (this.options.envelope) this.past.dropStable(this.stable);
    const dependencyCount = this.past.keyCount - (this.past.has(key) ? 1 : 0);
    if (dependencyCount > this.options.maxDependencies) {
      throw new ConsistencyError(
        "SESSION_LIMIT",
        LEVEL,
        `${LEVEL}: a write of ${JSON.stringify(key)} would depend on ${dependencyCount} keys, more than ` +
          `maxDependencies (${this.options.maxDependencies}); open a new session to write without them`,
      );
    }
    const clock = this.writer.nextClock(this.options.envelope ? this.sessionClock : this.past.clockOf(key));
    const { write, outcome } = await this.sendStamped(
      this.stampedWrite(key, clock, this.past.dependenciesExcept(key), value),
    );
    if (outcome.status === "unknown") this.pending = write;
    if (outcome.status !== "applied") throw outcome.error;
  }

  /**
   * Sends a write, stamped again above the accept floor each time it is refused for a
   * stale stamp (nothing was stored then), at most STAMP_ATTEMPTS_MAX times in all. The
   * same version may then be stored under two stamps, when an earlier attempt of unknown
   * outcome was applied after all: readers show one of equal clocks (visibleSiblings).
   * A write stamped again goes to the replica that refused it, where the transport named
   * it: that replica holds the key and takes the epoch it named, while routing may pick
   * one that is still, or already, in another epoch during a membership change, which
   * would refuse it in turn (docs/causal-stability.md §7). Where that replica no longer
   * holds the key (another change moved it), the write goes by routing again.
   */
  private async sendStamped(first: CausalWrite): Promise<{ write: CausalWrite; outcome: PutOutcome }> {
    let write = first;
    let outcome = await this.send(write);
    for (let attempt = 1; attempt < STAMP_ATTEMPTS_MAX && outcome.status === "refused"; attempt++) {
      if (outcome.notHeld) {
        outcome = await this.send(write);
        continue;
      }
      if (outcome.acceptFloorMicros === undefined) break;
      this.stamps.observe(BigInt(outcome.acceptFloorMicros));
      this.heardFromNode({ micros: 0, epoch: outcome.epoch ?? 0 });
      write = this.stampedWrite(write.put.key, write.clock, write.dependencies, write.value);
      outcome = await this.send(write, outcome.replica);
    }
    if (outcome.status === "applied") this.heardFromNode(stableReportOf(outcome));
    return { write, outcome };
  }

  /** A node's report: its stable time in its epoch, and the epoch to stamp in from now on (reads' reach the cut as they come). */
  private learnStable(report: StableReport): void {
    this.stable.learn(report);
    if (report.epoch > 0) this.epoch = report.epoch;
  }

  /** A node's report on a write: the session's, and the client's through the cut. */
  private heardFromNode(report: StableReport): void {
    this.cut.noteStable(report);
    this.learnStable(report);
  }

  /**
   * A write's base: the stable time its readers must see, at least the session's. Where the
   * client heard that much of the epoch the write is stamped in, the base is what it heard
   * and names that epoch, so that readers learn it as a fact of the epoch and any replica of
   * the epoch meets it (docs/causal-stability.md §7); otherwise the session's, naming none.
   */
  private base(): StableReport {
    // Every report the session learned reached the cut too, so the cut's is at least the session's own.
    const heardMicros = this.cut.heardIn(this.epoch);
    if (this.epoch !== ANY_EPOCH && heardMicros > 0 && heardMicros >= this.stable.anyMicros)
      return { micros: heardMicros, epoch: this.epoch };
    return { micros: this.stable.anyMicros, epoch: ANY_EPOCH };
  }

  /** The write of `value` at `clock`: stamped, with the session's stable time as its base, unless written bare. */
  private stampedWrite(
    key: string,
    clock: VectorClock,
    dependencies: WriteDependencies,
    value: Uint8Array,
  ): CausalWrite {
    let stamps = UNKNOWN_STAMPS;
    let element: Uint8Array;
    let pastClock = clock;
    if (this.options.envelope) {
      const base = this.base();
      this.stamps.observe(BigInt(base.micros));
      const stampMicros = Number(this.stamps.next());
      stamps = epochStamp(this.epoch, stampMicros);
      const stamped = {
        stampMicros,
        baseMicros: base.micros,
        writer: this.writer.id,
        dependencyStamps: dependencies.stamps,
        value,
        epoch: this.epoch,
        baseEpoch: base.epoch,
      };
      element = this.writer.element(clock, encodeStamped(stamped));
      pastClock = this.writer.ownEntry(clock);
    } else element = this.writer.element(clock, value);
    const payload = encodeMultiCausalWire({
      first: clock,
      second: { first: dependencies.clocks, second: toByteSet([element]) },
    });
    return {
      put: { key, type: LatticeType.MULTI_CAUSAL, payload },
      clock,
      dependencies,
      value,
      pastClock,
      stamps,
    };
  }

  private async resendPending(): Promise<void> {
    if (this.pending === undefined) return;
    const { write, outcome } = await this.sendStamped(this.pending);
    this.pending = write;
    if (outcome.status !== "applied")
      throw this.writer.resendFailed(write.put.key, "every later read and write", outcome.error);
    this.pending = undefined;
  }

  /**
   * Sends a write, by routing or to `replica` alone. Unless refused, it is in the session's
   * past from now on: later writes follow it in session order, which is why one of unknown
   * outcome is sent again first. Once applied, it joins the cut, which holds its
   * dependencies already.
   */
  private async send(write: CausalWrite, replica?: string): Promise<PutOutcome> {
    // The session's calls run one at a time: nothing else changes its past while this write is out.
    const pastUpdate = this.past.joinedWith([[write.put.key, write.pastClock, write.stamps]]);
    const reservation = this.cut.reserve([write.put]);
    const outcome = await this.writer.send(write.put, replica);
    this.cut.settle(reservation, outcome.status === "applied" ? [write.put] : []);
    if (outcome.status !== "refused") {
      this.past.take(pastUpdate);
      this.sessionClock = vectorClock.join(this.sessionClock, write.clock);
    }
    return outcome;
  }
}
