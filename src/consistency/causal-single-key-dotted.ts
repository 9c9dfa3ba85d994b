/**
 * Causal consistency per key over replica-named versions (docs/causal-dots.md §4, §5;
 * docs/consistency.md §2.7): the session's floor holds a DOTTED_CAUSAL value per key. A read
 * returns the server's value joined with the floor, and raises the floor to it. A write is a
 * dot request carrying the floor's context of the key (what the session has seen of it):
 * the replica names the new version (its dot) and overwrites exactly the versions that
 * context names, so the write follows everything the session saw of the key (monotonic
 * writes, writes follow reads); once applied, the floor takes the version and its dot (read
 * your writes). A key's context has an entry per replica that wrote it, not per session.
 *
 * A dot request must be applied once or never, and never late (docs/causal-dots.md §3,
 * finding 3): it goes to one replica only, stamped, and a replica of its epoch takes it only
 * above its accept floor. A write whose outcome is unknown is settled before the session's
 * next call on the key (`settle`): the floor takes its version where a replica holds it, and
 * a stable time past its stamp proves that none will where none does. Either way the
 * session's later calls follow the write if it happened, and nothing is sent twice.
 */
import { decodeDot, dottedWrite, encodeDotRequest, type DotRequest } from "../lattices/dot-requests";
import { contextHas, decodeDottedCausalWire, dottedCausal, type Dot } from "../lattices/dotted-causal";
import { bytesEqual } from "../lattices/lattice";
import { LatticeType } from "../lattices/lattice-type";
import { MalformedPayloadError } from "../wire/protobuf";
import type { ResolvedCausalSessionOptions } from "./causal-options";
import type { CausalScopeCore } from "./causal-session";
import type { CausalWriter } from "./causal-writer";
import { HybridClock } from "./clock";
import { sendStamped } from "./stamped-writes";
import { ANY_EPOCH } from "./epoch-stamps";
import { ConsistencyError } from "./errors";
import { Floor } from "./floor";
import { checkType } from "./session";
import type { KeyTransport, PutOutcome, PutTuple, ValueRead } from "./transport";

const LEVEL = "causal-single-key";
/** A replica's dot id is 12 bytes (actor/dot-issuer.ts); a longer one is refused rather than let past the floor's room. */
const DOT_ID_BYTES_MAX = 64;
/**
 * What an applied write's value may have beyond its request: the dot twice (in the context
 * and on the version, each at most 72 bytes with its field) and a longer length prefix.
 */
const APPLIED_GROWTH_BYTES_MAX = 2 * (2 + DOT_ID_BYTES_MAX + 6 + 2) + 8;
/** How often a session polls a key's stable time while it settles a write of unknown outcome. */
const SETTLE_POLL_MS = 2;

export class DottedSingleKeyCausal implements CausalScopeCore {
  private readonly floor: Floor;
  /** Per key, the session's last write of it if its outcome is unknown. */
  private readonly unsettled = new Map<string, DotRequest>();
  /** Stamps the session's writes, above every accept floor that refused one. */
  private readonly stamps: HybridClock;
  /** The epoch a node last named (0: none yet; a node then refuses the first write and names its own). */
  private epoch = ANY_EPOCH;

  constructor(
    private readonly transport: KeyTransport,
    private readonly writer: CausalWriter,
    private readonly options: ResolvedCausalSessionOptions,
    nowMicros?: () => bigint,
  ) {
    this.floor = new Floor(options);
    this.stamps = new HybridClock({ nowMicros });
  }

  get stateSize(): { keyCount: number; stateBytes: number } {
    return { keyCount: this.floor.keyCount, stateBytes: this.floor.stateBytes };
  }

  async read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    if (this.unsettled.size > 0) for (const key of keys) await this.settle(key);
    const fromServer = await this.transport.getMany(keys);
    const siblings = new Map<string, Uint8Array[]>();
    for (const key of keys) {
      const server = fromServer.get(key);
      if (server !== undefined) this.raise(key, server);
      // The join drops every version a later write overwrote: what the floor holds is what is visible. Copies:
      // the versions are views of the floor's payload, which must never change.
      siblings.set(key, this.floor.dotted(key)?.versions.map((v) => v.value.slice()) ?? []);
    }
    return siblings;
  }

  async write(key: string, value: Uint8Array): Promise<void> {
    await this.settle(key);
    const context = this.floor.dotted(key)?.context ?? dottedCausal.bottom.context;
    const first: DotRequest = { stampMicros: Number(this.stamps.next()), epoch: this.epoch, context, value };
    const firstPut = dotRequestPut(key, first);
    const reservation = this.floor.reserve(
      [
        {
          key,
          type: LatticeType.DOTTED_CAUSAL,
          payload: { length: firstPut.payload.length + APPLIED_GROWTH_BYTES_MAX },
        },
      ],
      LEVEL,
    );
    let applied: PutTuple | undefined;
    try {
      const { write, outcome } = await sendStamped(first, this.stamps, {
        stampOf: (request) => request.stampMicros,
        send: (request, replica) =>
          this.writer.send(request === first ? firstPut : dotRequestPut(key, request), replica, { sendOnce: true }),
        restamp: (request, leadMicros, refusal) => {
          this.learnEpoch(refusal.epoch);
          return { ...request, stampMicros: Number(this.stamps.next(BigInt(leadMicros))), epoch: this.epoch };
        },
      });
      this.learnEpoch(outcome.status === "applied" ? outcome.stableEpoch : undefined);
      applied = this.appliedValue(key, write, outcome);
    } finally {
      // The write's context is the floor's whole context of the key, so the applied value is at or above the floor.
      this.floor.settleAbove(reservation, applied === undefined ? [] : [applied]);
    }
  }

  /**
   * The value the floor takes for an applied write: the version under its dot, and the
   * context it was sent with joined with the dot. Throws the outcome's error otherwise, an
   * unknown write noted to be settled first.
   */
  private appliedValue(key: string, request: DotRequest, outcome: PutOutcome): PutTuple {
    if (outcome.status === "refused") throw outcome.error;
    const dot = outcome.status === "applied" ? checkedDot(outcome.dot) : undefined;
    if (dot === undefined) {
      this.unsettled.set(key, request);
      if (outcome.status === "unknown") throw outcome.error;
      throw new ConsistencyError(
        "CAUSAL_DEPENDENCY_UNAVAILABLE",
        LEVEL,
        `${LEVEL}: the replica applied the write of ${JSON.stringify(key)} without naming its version ` +
          `(a node without dot requests?), so later calls on the key wait for it to settle`,
      );
    }
    return { key, type: LatticeType.DOTTED_CAUSAL, payload: dottedWrite(request, dot) };
  }

  /**
   * Settles the session's write of `key` of unknown outcome, if any, reading every replica
   * of the key, every ~2 ms within `dependencyWaitMs`: settled once one holds the write's
   * version (it happened, once: it was sent to one replica only), or once a replica of the
   * write's epoch reports a stable time past its stamp (it holds the write, or what
   * overwrote it, or the write never happened), or once every replica answered and one of
   * another epoch reports one past it (the membership changed since, and none holds it), or,
   * for a write stamped in no epoch, once a replica names one (it refuses such stamps).
   * CAUSAL_DEPENDENCY_UNAVAILABLE when it does not settle in time; the next call tries again.
   */
  private async settle(key: string): Promise<void> {
    const write = this.unsettled.get(key);
    if (write === undefined) return;
    const deadlineMs = performance.now() + this.options.dependencyWaitMs;
    for (;;) {
      const { replies, replicaCount } = await this.readEveryReplica(key);
      let settled = false;
      for (const reply of replies) {
        this.learnEpoch(reply.stableEpoch);
        if (this.takeOwnVersions(key, reply, write)) settled = true;
        const pastStamp = (reply.stableMicros ?? 0) >= write.stampMicros;
        const epoch = reply.stableEpoch ?? ANY_EPOCH;
        if (pastStamp && epoch !== ANY_EPOCH && (epoch === write.epoch || replies.length === replicaCount))
          settled = true;
        // Stamped in no epoch (the session knew none yet): replicas that name one refuse it.
        if (write.epoch === ANY_EPOCH && epoch !== ANY_EPOCH) settled = true;
      }
      if (settled) break;
      if (performance.now() >= deadlineMs) {
        const why =
          replies.length === 0
            ? "no replica of it answered"
            : `no replica reported it settled within dependencyWaitMs (${this.options.dependencyWaitMs} ms)`;
        throw this.unsettledError(key, why);
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
    this.unsettled.delete(key);
  }

  /** Every replica's value of `key` that answered (absent ones as NONE), and how many replicas it has. */
  private async readEveryReplica(key: string): Promise<{ replies: ValueRead[]; replicaCount: number }> {
    let replicas: string[];
    try {
      replicas = await this.transport.replicasOf(key);
    } catch (error) {
      throw this.unsettledError(key, `finding its replicas failed: ${(error as Error).message}`);
    }
    const answers = await Promise.allSettled(
      replicas.map((replica) => this.transport.getFromReplica(replica, [key], { absentAsValues: true })),
    );
    const replies: ValueRead[] = [];
    for (const answer of answers) {
      const reply = answer.status === "fulfilled" ? answer.value.get(key) : undefined;
      if (reply !== undefined) replies.push(reply);
    }
    return { replies, replicaCount: replicas.length };
  }

  private unsettledError(key: string, why: string): ConsistencyError {
    return new ConsistencyError(
      "CAUSAL_DEPENDENCY_UNAVAILABLE",
      LEVEL,
      `${LEVEL}: the session's write of ${JSON.stringify(key)} may have happened, and every later call on the key ` +
        `must follow it; ${why}`,
    );
  }

  /**
   * Raises the floor by the versions of a replica's value of `key` that hold the value of
   * `write` and that the floor has not seen, each as the write would have made it (its
   * context joined with the version's dot): the session's write of unknown outcome, if it
   * happened (and was not overwritten since). Only those: the rest of the value was never
   * shown to the session, and its next write must not overwrite it (docs/causal-dots.md §3,
   * finding 2). A version is known by its value alone, so another session's concurrent
   * write of the same bytes is taken for the session's own. Whether any was found.
   */
  private takeOwnVersions(key: string, read: ValueRead, write: DotRequest): boolean {
    if (read.type === LatticeType.NONE) return false;
    checkType(key, read.type, [LatticeType.DOTTED_CAUSAL]);
    const seen = this.floor.dotted(key)?.context ?? dottedCausal.bottom.context;
    let found = false;
    for (const { dot, value } of decodeDottedCausalWire(read.payload).versions) {
      if (!bytesEqual(value, write.value) || contextHas(seen, dot)) continue;
      this.floor.raise(key, { type: LatticeType.DOTTED_CAUSAL, payload: dottedWrite(write, dot) }, LEVEL);
      found = true;
    }
    return found;
  }

  /** Raises the floor to a replica's value of `key` (an absent key, NONE, leaves it as it is). */
  private raise(key: string, value: ValueRead): void {
    this.learnEpoch(value.stableEpoch);
    if (value.type === LatticeType.NONE) return;
    checkType(key, value.type, [LatticeType.DOTTED_CAUSAL]);
    this.floor.raise(key, value, LEVEL);
  }

  private learnEpoch(epoch: number | undefined): void {
    if (epoch !== undefined && epoch !== ANY_EPOCH) this.epoch = epoch;
  }
}

function dotRequestPut(key: string, request: DotRequest): PutTuple {
  return { key, type: LatticeType.DOTTED_CAUSAL, payload: encodeDotRequest(request) };
}

/** The dot an applied write's answer names; undefined where it names none or one the floor's room was not held for. */
function checkedDot(bytes: Uint8Array | undefined): Dot | undefined {
  if (bytes === undefined) return undefined;
  let dot: Dot;
  try {
    dot = decodeDot(bytes);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return undefined;
    throw error;
  }
  return dot.id.length <= DOT_ID_BYTES_MAX ? dot : undefined;
}
