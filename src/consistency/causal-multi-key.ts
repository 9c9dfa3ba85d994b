/**
 * Causal consistency across keys (docs/consistency.md §2.8): MULTI_CAUSAL values, read
 * through the client's causal cut (causal-cut.ts, causal-cut-reads.ts), so a read never
 * returns a value whose dependencies the reader cannot see. The session keeps its causal
 * past per key (causal-past.ts): a write's clock starts from the past's clock of its key,
 * and the write depends on the rest of it.
 */
import { LatticeType } from "../lattices/lattice-type";
import { decodeMultiCausalWire, encodeMultiCausalWire } from "../lattices/multi-causal";
import { toByteSet } from "../lattices/set-union";
import type { VectorClock } from "../lattices/vector-clock";
import type { CausalCut } from "./causal-cut";
import { readThroughCut } from "./causal-cut-reads";
import { visibleSiblings } from "../lattices/causal-envelope";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import { CausalPast } from "./causal-past";
import type { CausalScopeCore } from "./causal-session";
import type { CausalWriter } from "./causal-writer";
import { ConsistencyError } from "./errors";
import type { KeyTransport, PutOutcome, PutTuple } from "./transport";

const LEVEL = "causal-multi-key";
const utf8 = new TextDecoder();

interface CausalWrite {
  readonly put: PutTuple;
  readonly clock: VectorClock;
}

export class MultiKeyCausal implements CausalScopeCore {
  private readonly past: CausalPast;
  /** A write whose outcome was unknown: later calls depend on it, so it is sent again before them. */
  private pending: CausalWrite | undefined;

  constructor(
    private readonly transport: KeyTransport,
    private readonly cut: CausalCut,
    private readonly writer: CausalWriter,
    private readonly options: ResolvedCausalSessionOptions,
  ) {
    this.past = new CausalPast(options, LEVEL);
  }

  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.past.keyCount, stateBytes: this.past.stateBytes };
  }

  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    // A read follows the session's writes, one of unknown outcome too: had it happened unseen, the read would miss it.
    await this.resendPending();
    const values = await readThroughCut(this.transport, this.cut, keys, this.options);
    const siblings = new Map<string, Uint8Array[]>();
    const pastRead: [string, VectorClock][] = [];
    for (const key of keys) {
      const value = values.get(key);
      if (value === undefined) {
        siblings.set(key, []);
        continue;
      }
      // visibleSiblings keeps the maximal ones: the decode need not as well.
      const { first: clock, second } = decodeMultiCausalWire(value.payload, true);
      pastRead.push([key, clock]);
      for (const dependency of second.first) pastRead.push([utf8.decode(dependency.key), dependency.value]);
      siblings.set(key, visibleSiblings(second.second));
    }
    this.past.add(pastRead);
    return siblings;
  }

  async write(key: string, value: Uint8Array): Promise<void> {
    await this.resendPending();
    const dependencyCount = this.past.keyCount - (this.past.clockOf(key).length === 0 ? 0 : 1);
    if (dependencyCount > this.options.maxDependencies) {
      throw new ConsistencyError(
        "SESSION_LIMIT",
        LEVEL,
        `${LEVEL}: a write of ${JSON.stringify(key)} would depend on ${dependencyCount} keys, more than ` +
          `maxDependencies (${this.options.maxDependencies}); open a new session to write without them`,
      );
    }
    const clock = this.writer.nextClock(this.past.clockOf(key));
    const element = this.writer.element(clock, value);
    const payload = encodeMultiCausalWire({
      first: clock,
      second: { first: this.past.dependenciesExcept(key), second: toByteSet([element]) },
    });
    const write: CausalWrite = { put: { key, type: LatticeType.MULTI_CAUSAL, payload }, clock };
    const outcome = await this.send(write);
    if (outcome.status === "unknown") this.pending = write;
    if (outcome.status !== "applied") throw outcome.error;
  }

  private async resendPending(): Promise<void> {
    if (this.pending === undefined) return;
    const outcome = await this.send(this.pending);
    if (outcome.status !== "applied")
      throw this.writer.resendFailed(this.pending.put.key, "every later read and write", outcome.error);
    this.pending = undefined;
  }

  /**
   * Sends a write. Unless refused, it is in the session's past from now on: later writes
   * follow it in session order, which is why one of unknown outcome is sent again first.
   * Once applied, it joins the cut, which holds its dependencies already.
   */
  private async send(write: CausalWrite): Promise<PutOutcome> {
    // The session's calls run one at a time: nothing else changes its past while this write is out.
    const pastUpdate = this.past.joinedWith([[write.put.key, write.clock]]);
    const reservation = this.cut.reserve([write.put]);
    const outcome = await this.writer.send(write.put);
    this.cut.settle(reservation, outcome.status === "applied" ? [write.put] : []);
    if (outcome.status !== "refused") this.past.take(pastUpdate);
    return outcome;
  }
}
