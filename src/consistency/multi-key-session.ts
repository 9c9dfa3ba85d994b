/**
 * What both multi-key causal levels' sessions do alike (docs/consistency.md §2.8,
 * docs/causal-stability.md §6, §7, §9), whatever their versions: reading through the
 * client's causal cut with the session's stable time as the requirement, keeping the
 * causal past and dropping what is stable before each write, stamping writes above all the
 * session has seen in the epoch a node last named, and sending them again, stamped anew,
 * when a node refuses a stale stamp. A level says how it reads a value into its past and
 * what a write's payload is (causal-multi-key.ts, causal-multi-key-lww.ts).
 */
import type { CausalCut } from "./causal-cut";
import { readThroughCut } from "./causal-cut-reads";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import { CausalPast, type PastAddition } from "./causal-past";
import type { CausalScopeCore } from "./causal-session";
import type { VersionedValue, VersionScheme } from "./causal-versions";
import type { CausalWriter } from "./causal-writer";
import { HybridClock } from "./clock";
import { sendStamped } from "./stamped-writes";
import { ANY_EPOCH, EpochStableTimes, stableReportOf } from "./epoch-stamps";
import { ConsistencyError } from "./errors";
import type { KeyTransport, PutOutcome, PutTuple, StableReport, ValueRead } from "./transport";

/** A write as a session sends it. */
export interface SessionWrite<V> {
  readonly put: PutTuple;
  /** What the session's past keeps of it once sent. */
  readonly pastAddition: PastAddition<V>;
  /** Its stamp, where it is stamped (a bare write has none, and no node refuses it as stale). */
  readonly stampMicros?: number;
  /** What its payload decodes to in the level's scheme, where the level builds it from the write's parts. */
  readonly decoded?: VersionedValue<V>;
}

/** What a stamped write is stamped with: its stamp, the base its readers must see, and the epoch. */
export interface WriteStamp {
  readonly stampMicros: number;
  readonly base: StableReport;
  readonly epoch: number;
}

export abstract class MultiKeySession<V, W extends SessionWrite<V>> implements CausalScopeCore {
  protected readonly past: CausalPast<V>;
  /** A write whose outcome was unknown: later calls depend on it, so it is sent again before them. */
  private pending: W | undefined;
  /**
   * The session's stable times: per epoch, the largest reported with what it read or wrote
   * in it, and the largest of all (`anyMicros`, which also takes what a writer of a value it
   * read knew). Every replica holds every version stamped in an epoch at or below its
   * time; the session's writes carry the largest as their base, and its reads require it.
   */
  protected readonly stable = new EpochStableTimes();
  /** The epoch the session stamps in: the one last named by a node (0: none yet). */
  private epoch: number;
  /** Stamps the session's writes: above every stamp it read, its stable time and any accept floor that refused it. */
  protected readonly stamps: HybridClock;

  constructor(
    private readonly transport: KeyTransport,
    protected readonly cut: CausalCut<V>,
    protected readonly writer: CausalWriter,
    protected readonly options: ResolvedCausalSessionOptions,
    versions: VersionScheme<V>,
    nowMicros?: () => bigint,
  ) {
    this.past = new CausalPast(options, versions);
    this.stamps = new HybridClock({ nowMicros });
    this.epoch = cut.epoch;
  }

  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.past.keyCount, stateBytes: this.past.stateBytes };
  }

  abstract read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>>;
  abstract write(key: string, value: Uint8Array): Promise<void>;

  /** The largest base of a value's versions: what its readers must see of the stable time. */
  protected abstract baseOf(value: ValueRead): number;
  /** The bases of a value that name their epoch: stable times nodes reported, which the client hears of through it. */
  protected abstract baseReportsOf(value: ValueRead): readonly StableReport[];
  /** The same write stamped again (`stamp(leadMicros)` is above the floor that refused it by now). */
  protected abstract restamp(write: W, leadMicros: number): W;
  /** What else a write changes in the session once sent and not refused. */
  protected noteSent(_write: W): void {}

  /**
   * The keys' values through the cut, once the session's write of unknown outcome (if any)
   * is sent again: had it happened unseen, the read would miss it. Stamped sessions require
   * their stable time and learn what the answers said of it.
   */
  protected async readThroughCut(keys: readonly string[]): Promise<Map<string, ValueRead | undefined>> {
    await this.resendPending();
    const stability = this.options.envelope
      ? {
          times: this.stable,
          baseOf: (value: ValueRead) => this.baseOf(value),
          baseReportsOf: (value: ValueRead) => this.baseReportsOf(value),
        }
      : undefined;
    const { values, stableMicros, reports } = await readThroughCut(
      this.transport,
      this.cut,
      keys,
      this.options,
      stability,
    );
    for (const report of reports) this.learnStable(report);
    this.stable.raiseAny(stableMicros);
    return values;
  }

  /**
   * Readies a write of `key`: the session's write of unknown outcome sent again, entries
   * stable in their epoch dropped, and SESSION_LIMIT when the rest would be more
   * dependencies than the session may list.
   */
  protected async beforeWrite(key: string): Promise<void> {
    await this.resendPending();
    // Bare values carry no base, so their readers could not know what the writer dropped.
    if (this.options.envelope) this.past.dropStable(this.stable);
    const dependencyCount = this.past.keyCount - (this.past.has(key) ? 1 : 0);
    if (dependencyCount > this.options.maxDependencies) {
      const { level } = this.options;
      throw new ConsistencyError(
        "SESSION_LIMIT",
        level,
        `${level}: a write of ${JSON.stringify(key)} would depend on ${dependencyCount} keys, more than ` +
          `maxDependencies (${this.options.maxDependencies}); open a new session to write without them`,
      );
    }
  }

  /** Sends a write (stamped again while refused for a stale stamp); throws its error unless applied. */
  protected async sendWrite(first: W): Promise<void> {
    const { write, outcome } = await this.sendStamped(first);
    if (outcome.status === "unknown") this.pending = write;
    if (outcome.status !== "applied") throw outcome.error;
  }

  /**
   * A write's stamp, above every stamp the session saw and its base, in the epoch a node
   * last named. The base is the stable time its readers must see, at least the session's.
   * Where the client heard that much of the epoch the write is stamped in, the base is what
   * it heard and names that epoch, so that readers learn it as a fact of the epoch and any
   * replica of the epoch meets it (docs/causal-stability.md §7); otherwise the session's,
   * naming none.
   */
  protected stamp(leadMicros = 0): WriteStamp {
    // Every report the session learned reached the cut too, so the cut's is at least the session's own.
    const heardMicros = this.cut.heardIn(this.epoch);
    const base =
      this.epoch !== ANY_EPOCH && heardMicros > 0 && heardMicros >= this.stable.anyMicros
        ? { micros: heardMicros, epoch: this.epoch }
        : { micros: this.stable.anyMicros, epoch: ANY_EPOCH };
    this.stamps.observe(BigInt(base.micros));
    return { stampMicros: Number(this.stamps.next(BigInt(leadMicros))), base, epoch: this.epoch };
  }

  /**
   * Sends a write, stamped again while refused for a stale stamp (stamped-writes.ts). The
   * same version may then be stored under two stamps, when an earlier attempt of unknown
   * outcome was applied after all (readers of causal-multi-key show one of equal clocks; in
   * causal-multi-key-lww the later stamp overwrites the earlier).
   */
  private async sendStamped(first: W): Promise<{ write: W; outcome: PutOutcome }> {
    const sent = await sendStamped(first, this.stamps, {
      stampOf: (write) => write.stampMicros,
      send: (write, replica) => this.send(write, replica),
      restamp: (write, leadMicros, refusal) => {
        this.heardFromNode({ micros: 0, epoch: refusal.epoch ?? 0 });
        return this.restamp(write, leadMicros);
      },
    });
    if (sent.outcome.status === "applied") this.heardFromNode(stableReportOf(sent.outcome));
    return sent;
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
  private async send(write: W, replica?: string): Promise<PutOutcome> {
    // The session's calls run one at a time: nothing else changes its past while this write is out.
    const pastUpdate = this.past.joinedWith([write.pastAddition]);
    const reservation = this.cut.reserve([write.put]);
    const outcome = await this.writer.send(write.put, replica);
    if (outcome.status === "applied" && write.decoded !== undefined)
      this.cut.rememberDecoded(write.put.payload, write.decoded);
    this.cut.settle(reservation, outcome.status === "applied" ? [write.put] : []);
    if (outcome.status !== "refused") {
      this.past.take(pastUpdate);
      this.noteSent(write);
    }
    return outcome;
  }
}
