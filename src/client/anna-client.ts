/**
 * AnnaClient: the byte-level client plus typed helpers, one pair per lattice, that encode
 * values with the lattices' value helpers and check the type of what comes back; and
 * sessions, which keep consistency guarantees and run transactions over it (src/consistency/).
 */
import {
  decodeLww,
  decodeMultiCausal,
  decodePriority,
  decodeSet,
  decodeSingleCausal,
  encodeLww,
  encodeMultiCausal,
  encodePriority,
  encodeSet,
  encodeSingleCausal,
  type Bytes,
  type DependencyInput,
  type LwwValue,
  type MultiCausalValue,
  type PriorityValue,
  type SingleCausalValue,
  type VectorClockInput,
} from "../lattices";
import { LatticeType } from "../lattices/lattice-type";
import { CausalCut } from "../consistency/causal-cut";
import { causalLwwVersions } from "../consistency/causal-lww-versions";
import { CAUSAL_CUT_LIMITS_DEFAULT } from "../consistency/causal-options";
import type { CausalSessionOptions } from "../consistency/causal-options";
import { CausalSession } from "../consistency/causal-session";
import { HybridClock } from "../consistency/clock";
import type { SessionOptions } from "../consistency/options";
import { Session } from "../consistency/session";
import { TransactionNumbers } from "../consistency/write-id";
import { AnnaClientBase, AnnaClientError, PutOptions, ValueRead } from "./base-client";

/**
 * LWW timestamps in microseconds since the epoch, strictly increasing per client, so a
 * client's own writes are ordered even within one microsecond or if the clock steps back:
 * the sessions' hybrid clock, of which plain calls never absorb a stamp. The name is the
 * one AnnaClient's clock had before sessions, kept for code that imports it.
 */
export { HybridClock as MonotonicMicrosClock };

function expectType(key: string, read: ValueRead | undefined, types: LatticeType[]): Uint8Array | undefined {
  if (read === undefined) return undefined;
  if (!types.includes(read.type)) {
    throw new AnnaClientError(
      "LATTICE",
      `${JSON.stringify(key)} holds a ${LatticeType[read.type]} value, not ${types.map((t) => LatticeType[t]).join(" or ")}`,
    );
  }
  return read.payload;
}

export class AnnaClient extends AnnaClientBase {
  private readonly clock = new HybridClock();
  /** This client's tag and transaction numbers, which every session's write ids draw on (docs/consistency.md §2.0). */
  private readonly transactionNumbers = new TransactionNumbers();
  /** The causal cut this client's multi-key causal sessions share (docs/consistency.md §2.8). */
  private readonly causalCut = new CausalCut();
  /** The cut this client's causal-multi-key-lww sessions share (docs/causal-stability.md §9). */
  private readonly lwwCausalCut = new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions);

  /**
   * A session: the typed helpers below under per-key guarantees (read your writes,
   * monotonic reads and writes, writes follow reads), and transactions (docs/consistency.md).
   */
  session(options?: SessionOptions): Session {
    return new Session({ transport: this, transactionNumbers: this.transactionNumbers }, options);
  }

  /**
   * A causal session: reads return siblings, per key or across keys (docs/consistency.md
   * §2.7, §2.8), or across keys with one value per key, a key's concurrent writes resolved
   * by stamp (scope "multi-key-lww", docs/causal-stability.md §9).
   */
  causalSession(options: CausalSessionOptions): CausalSession {
    return new CausalSession({ transport: this, cut: this.causalCut, lwwCut: this.lwwCausalCut }, options);
  }

  /**
   * Last writer wins; the timestamp defaults to this client's monotonic microsecond clock
   * (pass undefined to keep it and give options).
   */
  async putLww(
    key: string,
    value: Bytes,
    timestamp: bigint | number = this.clock.next(),
    options?: PutOptions,
  ): Promise<void> {
    await this.put(key, LatticeType.LWW, encodeLww({ timestamp, value }), options);
  }

  async getLww(key: string): Promise<LwwValue | undefined> {
    const payload = expectType(key, await this.get(key), [LatticeType.LWW]);
    return payload && decodeLww(payload);
  }

  /** Adds elements to a set (union with what is stored). */
  async addToSet(key: string, values: Iterable<Bytes>, ordered = false, options?: PutOptions): Promise<void> {
    await this.put(key, ordered ? LatticeType.ORDERED_SET : LatticeType.SET, encodeSet(values), options);
  }

  async getSet(key: string): Promise<Uint8Array[] | undefined> {
    const payload = expectType(key, await this.get(key), [LatticeType.SET, LatticeType.ORDERED_SET]);
    return payload && decodeSet(payload);
  }

  /** The lowest priority wins. */
  async putPriority(key: string, priority: number, value: Bytes, options?: PutOptions): Promise<void> {
    await this.put(key, LatticeType.PRIORITY, encodePriority({ priority, value }), options);
  }

  async getPriority(key: string): Promise<PriorityValue | undefined> {
    const payload = expectType(key, await this.get(key), [LatticeType.PRIORITY]);
    return payload && decodePriority(payload);
  }

  /** A causal write: the caller's vector clock should dominate what it read. */
  async putCausal(
    key: string,
    value: { vectorClock: VectorClockInput; values: Iterable<Bytes> },
    options?: PutOptions,
  ): Promise<void> {
    await this.put(key, LatticeType.SINGLE_CAUSAL, encodeSingleCausal(value), options);
  }

  async getCausal(key: string): Promise<SingleCausalValue | undefined> {
    const payload = expectType(key, await this.get(key), [LatticeType.SINGLE_CAUSAL]);
    return payload && decodeSingleCausal(payload);
  }

  async putMultiCausal(
    key: string,
    value: { vectorClock: VectorClockInput; dependencies: Iterable<DependencyInput>; values: Iterable<Bytes> },
    options?: PutOptions,
  ): Promise<void> {
    await this.put(key, LatticeType.MULTI_CAUSAL, encodeMultiCausal(value), options);
  }

  async getMultiCausal(key: string): Promise<MultiCausalValue | undefined> {
    const payload = expectType(key, await this.get(key), [LatticeType.MULTI_CAUSAL]);
    return payload && decodeMultiCausal(payload);
  }
}
