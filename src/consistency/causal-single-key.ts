/**
 * Causal consistency per key for sessions with `envelope: false` (docs/consistency.md §2.7):
 * Anna's SINGLE_CAUSAL values, bare, which Anna's clients read, and a floor per key. A read
 * returns the server's value joined with the floor, and raises the floor to it; a write's
 * clock joins the floor's clock of the key with the session's next entry, so it follows
 * everything the session saw of the key (monotonic writes, writes follow reads) and an
 * applied write raises the floor (read your writes). A write whose outcome is unknown is
 * sent again before the session's next call on its key: had it happened unseen, a later
 * read would miss the session's own write. Sessions with envelopes write replica-named
 * versions instead (causal-single-key-dotted.ts).
 */
import { LatticeType } from "../lattices/lattice-type";
import { toByteSet } from "../lattices/set-union";
import { decodeSingleCausalWire, encodeSingleCausalWire } from "../lattices/single-causal";
import { vectorClock } from "../lattices/vector-clock";
import { visibleSiblings } from "../lattices/causal-envelope";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import type { CausalScopeCore } from "./causal-session";
import type { CausalWriter } from "./causal-writer";
import { Floor } from "./floor";
import { checkType } from "./session";
import type { KeyTransport, PutOutcome, PutTuple } from "./transport";

const LEVEL = "causal-single-key";

export class SingleKeyCausal implements CausalScopeCore {
  private readonly floor: Floor;
  /** Per key, the session's last write of it if its outcome was unknown. */
  private readonly pending = new Map<string, PutTuple>();

  constructor(
    private readonly transport: KeyTransport,
    private readonly writer: CausalWriter,
    options: ResolvedCausalSessionOptions,
  ) {
    this.floor = new Floor(options);
  }

  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.floor.keyCount, stateBytes: this.floor.stateBytes };
  }

  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    if (this.pending.size > 0) for (const key of keys) await this.resendPending(key);
    const fromServer = await this.transport.getMany(keys);
    const siblings = new Map<string, Uint8Array[]>();
    for (const key of keys) {
      const server = fromServer.get(key);
      if (server !== undefined) {
        checkType(key, server.type, [LatticeType.SINGLE_CAUSAL]);
        this.floor.raise(key, server, LEVEL);
      }
      const value = this.floor.get(key);
      // visibleSiblings keeps the maximal ones: the decode need not as well.
      siblings.set(key, value === undefined ? [] : visibleSiblings(decodeSingleCausalWire(value.payload, true).second));
    }
    return siblings;
  }

  async write(key: string, value: Uint8Array): Promise<void> {
    await this.resendPending(key);
    const floor = this.floor.get(key);
    const clock = this.writer.nextClock(
      floor === undefined ? vectorClock.bottom : decodeSingleCausalWire(floor.payload, true).first,
    );
    const payload = encodeSingleCausalWire({ first: clock, second: toByteSet([this.writer.element(clock, value)]) });
    const put: PutTuple = { key, type: LatticeType.SINGLE_CAUSAL, payload };
    const outcome = await this.send(put);
    if (outcome.status !== "applied") throw outcome.error;
  }

  /** Sends a write; once applied it raises the floor, and one of unknown outcome waits to be sent again. */
  private async send(put: PutTuple): Promise<PutOutcome> {
    const reservation = this.floor.reserve([put], LEVEL);
    const outcome = await this.writer.send(put);
    this.floor.settle(reservation, outcome.status === "applied" ? [put] : []);
    if (outcome.status === "unknown") this.pending.set(put.key, put);
    else this.pending.delete(put.key);
    return outcome;
  }

  /** CAUSAL_DEPENDENCY_UNAVAILABLE when the session's write of `key` of unknown outcome cannot be sent again. */
  private async resendPending(key: string): Promise<void> {
    const put = this.pending.get(key);
    if (put === undefined) return;
    const outcome = await this.send(put);
    if (outcome.status !== "applied") throw this.writer.resendFailed(key, "every later call on the key", outcome.error);
  }
}
