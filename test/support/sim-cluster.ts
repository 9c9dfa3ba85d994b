/**
 * The simulated cluster of the consistency tests (docs/consistency.md §5): every key on
 * three in-process replicas that merge with the store's own lattice functions, behind the
 * KeyTransport the levels use. A seeded scheduler stands in for the network and the nodes:
 * at every client call it delivers gossip late, twice, out of order or never, pauses
 * replicas (requests to them time out, and what they were sent is applied when they
 * resume) and crashes them (they come back empty, losing what they had not gossiped). It
 * also stops a client between the keys of a write, as one dying mid-commit would. No
 * timers and no sockets: a run is a function of its seed and its calls (and, with a stable
 * time, of the sessions' wall-clock stamps).
 *
 * Each replica serves dot requests (docs/protocol.md) as an actor does, naming versions
 * with a DotIssuer of its own (a new one after a crash).
 *
 * With `stableTime` the replicas keep one as annakv's nodes do (docs/causal-stability.md):
 * a stamped causal write (a MULTI_CAUSAL sibling's stamp, a causal-multi-key-lww LWW
 * value, or a dot request) at or below the accept floor (the largest stamp accepted so
 * far; with a `SimAcceptClock`, the clock less a lag, and then replicas also run
 * anti-entropy now and then), or of another epoch, is refused STALE_STAMP, and each answer carries its
 * replica's stable time and the epoch. As a cluster's, the stable time is one for all
 * replicas: below the stamp of every write a live replica accepted that some replica does
 * not hold yet; and, since a crashed replica here comes back empty and serves at once
 * (a real cluster has no stable time in the new epoch until the new member is filled),
 * below every write some replica lacks that every replica once held. Each replica reports
 * it late, as a node does that hears the others' bounds by heartbeat: an answer brings a
 * replica's report up to date only by chance, so replicas disagree, and sessions must
 * take what they heard of an epoch from any of them. A crash starts a new epoch (§7), and from then
 * on the writes the crashed replica accepted that never reached every replica no longer
 * hold the stable time back, held by others or not, as the survivors' bounds in a real
 * cluster do not. Two broken variants the tests must catch: "eager", the floor reported as the
 * stable time whatever the replica holds; "epochless", no epoch reported, so sessions
 * judge what the crashed replica accepted by the survivors' stable time.
 */
import type {
  GetOptions,
  KeyTransport,
  PutOptions,
  PutOutcome,
  PutTuple,
  ValueRead,
} from "../../src/consistency/transport";
import { bytesEqual } from "../../src/lattices/lattice";
import { mergePayloads } from "../../src/lattices/merge";
import { isStaleStamp, stampedValuesOf, type StampedValue } from "../../src/lattices/causal-stamp";
import { stampedOfLwwPut } from "../../src/lattices/causal-lww";
import { LatticeType } from "../../src/lattices/lattice-type";
import { dotRequestOf, encodeDot, type DotRequest } from "../../src/lattices/dot-requests";
import type { Dot } from "../../src/lattices/dotted-causal";
import { DotIssuer } from "../../src/actor/dot-issuer";
import { StoreError } from "../../src/core/status";
import { decodeMultiCausal } from "../../src/lattices/values";
import { Random } from "./random";

/** Chances per scheduler step (one a client call), each from 0 to 1. */
export interface SimFaults {
  /** That a queued gossip message is delivered now; otherwise it waits, and arrives late and out of order. */
  deliver: number;
  /** That a delivered message stays queued, to arrive again. */
  duplicate: number;
  /** That a queued message is lost; only the final anti-entropy (heal) makes up for it. */
  drop: number;
  /** That a running replica pauses. */
  pause: number;
  /** That a paused replica resumes. */
  resume: number;
  /** That a replica crashes and restarts empty. */
  crash: number;
  /** That a write of several keys stops after some of them, the rest never sent. */
  interrupt: number;
}

export const NO_FAULTS: SimFaults = { deliver: 1, duplicate: 0, drop: 0, pause: 0, resume: 1, crash: 0, interrupt: 0 };
/** Gossip held back and reordered, with no loss: every write sent reaches every replica by `heal`. */
export const LAGGING: SimFaults = { ...NO_FAULTS, deliver: 0.3, duplicate: 0.2, pause: 0.1, resume: 0.3 };
export const ALL_FAULTS: SimFaults = { ...LAGGING, drop: 0.05, crash: 0.02, interrupt: 0.1 };

export const REPLICA_COUNT = 3;
/** The chance that an answer brings its replica's report of the stable time up to date: replicas lag each other. */
const STABLE_REFRESH_CHANCE = 0.3;
/** Attempts per key and call, each on the next replica, as AnnaClient's `maxAttempts`. */
const ATTEMPTS_MAX = 3;
/**
 * A value the replicas refuse, as a node refuses one over its limits. Causal values of 8
 * sessions on 5 keys (clocks, dependencies, siblings kept beside later writes) reach 4 KiB
 * in a few hundred steps: a lower limit would refuse merges and keep replicas apart.
 */
export const SIM_VALUE_BYTES_MAX = 64 * 1024;
/** The chance per step, with an accept clock, that one replica sends another all it holds (anti-entropy). */
const ANTI_ENTROPY_CHANCE = 0.1;
/** Anti-entropy passes a heal takes at most; replicas of a join agree after one, causal values after a few. */
const HEAL_PASSES_MAX = 8;

/** What the simulated transport throws or settles with, in AnnaClientError's shape. */
export class SimTransportError extends Error {
  constructor(
    readonly code: "TIMEOUT" | "LATTICE" | "STALE_STAMP",
    message: string,
  ) {
    super(message);
    this.name = "SimTransportError";
  }
}

interface GossipMessage {
  from: number;
  to: number;
  key: string;
  value: ValueRead;
  /** The stamped writes the value holds (ids into SimCluster's `stamped`). */
  writes: ReadonlySet<number>;
}

/** Whether the replicas keep a stable time, and whether truly ("held") or as a broken variant ("eager", "epochless"). */
export type SimStableTime = "none" | "held" | "eager" | "epochless";

/**
 * A clock the accept floor follows, as a node's does (docs/causal-stability.md §2): the floor
 * is then at least `nowMicros() - acceptLagMicros`, so time passes a write queued at a paused
 * replica, which it then refuses, and the stable time moves on without new writes.
 */
export interface SimAcceptClock {
  readonly nowMicros: () => number;
  readonly acceptLagMicros: number;
}

/** A stamped write applied: its key, stamp, the replica and incarnation that accepted it, and whether every replica has held it. */
interface StampedWrite {
  readonly key: string;
  readonly stampMicros: number;
  readonly acceptor: number;
  readonly incarnation: number;
  everywhere: boolean;
}

class SimReplica {
  readonly values = new Map<string, ValueRead>();
  /** Names the versions of the dot requests it takes (docs/causal-dots.md); a crashed replica comes back with a new id. */
  dots = new DotIssuer();
  /** Per key, the stamped writes its value holds. */
  readonly held = new Map<string, Set<number>>();
  paused = false;
  /** Writes sent while paused: applied when it resumes, lost if it crashes first. */
  readonly inbox: PutTuple[] = [];

  /** Merges a value in; false when refused (wrong type, malformed, over the value limit). */
  merge(key: string, incoming: ValueRead): boolean {
    const stored = this.values.get(key);
    if (incoming.payload.length > SIM_VALUE_BYTES_MAX) return false;
    if (stored !== undefined && stored.type !== incoming.type) return false;
    const payload = mergePayloads(incoming.type, stored?.payload, incoming.payload);
    if (payload === null || payload.length > SIM_VALUE_BYTES_MAX) return false;
    this.values.set(key, { type: incoming.type, payload });
    return true;
  }
}

export class SimCluster implements KeyTransport {
  readonly replicas = Array.from({ length: REPLICA_COUNT }, () => new SimReplica());
  readonly counts = {
    delivered: 0,
    duplicated: 0,
    dropped: 0,
    pauses: 0,
    crashes: 0,
    timeouts: 0,
    interrupted: 0,
    /** MULTI_CAUSAL writes applied, and the dependencies they listed. */
    multiCausalWrites: 0,
    multiCausalDependencies: 0,
    /** Stamped writes applied, and those refused for a stale stamp. */
    stampedWrites: 0,
    staleStamps: 0,
    /** Dot requests applied (docs/causal-dots.md). */
    dotRequests: 0,
    /** Anti-entropy rounds between two replicas (with an accept clock only). */
    antiEntropyRounds: 0,
  };
  private readonly random: Random;
  private gossip: GossipMessage[] = [];
  /** Every stamped write applied, by id: its key, stamp, and the replica and incarnation that accepted it. */
  private readonly stamped = new Map<number, StampedWrite>();
  private acceptFloorMicros = 0;
  /** The epoch: raised by every crash (a replica back under a new incarnation). */
  private epoch = 1;
  private readonly incarnations = new Array<number>(REPLICA_COUNT).fill(0);
  /** Per replica, the cluster's stable time as it last heard it, and the epoch it heard it in. */
  private readonly heardStable = Array.from({ length: REPLICA_COUNT }, () => ({ epoch: 0, micros: 0 }));

  constructor(
    readonly seed: number,
    private readonly faults: SimFaults = ALL_FAULTS,
    private readonly stableTime: SimStableTime = "none",
    private readonly acceptClock?: SimAcceptClock,
  ) {
    this.random = new Random(seed);
  }

  /** The accept floor: the largest stamp accepted, or, with an accept clock, the clock less the lag. */
  private floorMicros(): number {
    if (this.acceptClock !== undefined) {
      const { nowMicros, acceptLagMicros } = this.acceptClock;
      this.acceptFloorMicros = Math.max(this.acceptFloorMicros, nowMicros() - acceptLagMicros);
    }
    return this.acceptFloorMicros;
  }

  /**
   * The cluster's stable time now: below every stamped write a live incarnation accepted
   * that some replica does not hold, below every write once everywhere that some replica
   * lost, and at most the floor.
   */
  private clusterStable(): number {
    let stable = this.floorMicros();
    const holds = (replica: SimReplica, id: number, key: string) => replica.held.get(key)?.has(id) === true;
    for (const [id, write] of this.stamped) {
      if (write.stampMicros > stable) continue;
      const heldByAll = this.replicas.every((replica) => holds(replica, id, write.key));
      write.everywhere ||= heldByAll;
      const live = write.incarnation === this.incarnations[write.acceptor];
      if ((live || write.everywhere) && !heldByAll) stable = write.stampMicros - 1;
    }
    return stable;
  }

  /** What replica `index` reports: the cluster's stable time as it last heard it in this epoch (none before). */
  private stableOf(index: number): number {
    if (this.stableTime === "none") return 0;
    if (this.stableTime === "eager") return this.acceptFloorMicros;
    const heard = this.heardStable[index];
    if (heard.epoch !== this.epoch || this.random.chance(STABLE_REFRESH_CHANCE))
      this.heardStable[index] = { epoch: this.epoch, micros: this.clusterStable() };
    return this.heardStable[index].micros;
  }

  /** The epoch the replicas name (0: none named). */
  private reportedEpoch(): number {
    return this.stableTime === "none" || this.stableTime === "epochless" ? 0 : this.epoch;
  }

  /** What replica `index`'s answers say of the stable time and the epoch, where it says anything. */
  private stableFields(index: number): { stableMicros?: number; stableEpoch?: number } {
    const fields: { stableMicros?: number; stableEpoch?: number } = {};
    const stableMicros = this.stableOf(index);
    if (stableMicros > 0) fields.stableMicros = stableMicros;
    if (this.reportedEpoch() > 0) fields.stableEpoch = this.reportedEpoch();
    return fields;
  }

  /** `value` with replica `index`'s stable time and epoch, where it reports them; an absent one as GetOptions says. */
  private withStable(index: number, value: ValueRead | undefined, options: GetOptions): ValueRead | undefined {
    const answer =
      value ?? (options.absentAsValues ? { type: LatticeType.NONE, payload: new Uint8Array(0) } : undefined);
    return answer === undefined ? answer : { ...answer, ...this.stableFields(index) };
  }

  async getMany(keys: readonly string[], options: GetOptions = {}): Promise<Map<string, ValueRead | undefined>> {
    this.step();
    const values = new Map<string, ValueRead | undefined>();
    for (const key of keys) {
      const index = this.answeringReplica();
      if (index === undefined) throw new SimTransportError("TIMEOUT", `no replica of ${JSON.stringify(key)} answered`);
      values.set(key, this.withStable(index, this.replicas[index].values.get(key), options));
    }
    return values;
  }

  async putManySettled(puts: readonly PutTuple[], options: PutOptions = {}): Promise<Map<string, PutOutcome>> {
    return this.settle(puts, (put) => this.send(put, options.sendOnce ?? false));
  }

  /** putManySettled on one replica, with no retry on another: a paused one times out, and applies the writes when it resumes. */
  async putToReplica(replica: string, puts: readonly PutTuple[]): Promise<Map<string, PutOutcome>> {
    const index = replicaIndex(replica);
    return this.settle(puts, (put) => this.sendTo(index, put) ?? silent(`${replica} is paused`));
  }

  async replicasOf(): Promise<string[]> {
    return this.replicas.map((_, index) => `sim-${index}`);
  }

  async getFromReplica(
    replica: string,
    keys: readonly string[],
    options: GetOptions = {},
  ): Promise<Map<string, ValueRead | undefined>> {
    const index = replicaIndex(replica);
    const held = this.replicas[index];
    if (held.paused) throw new SimTransportError("TIMEOUT", `${replica} is paused`);
    return new Map(keys.map((key) => [key, this.withStable(index, held.values.get(key), options)]));
  }

  /** One scheduler step: replicas pause, resume and crash; queued gossip is delivered, kept, doubled or lost. */
  step(): void {
    this.replicas.forEach((replica, index) => {
      if (replica.paused && this.random.chance(this.faults.resume)) this.resume(index);
      else if (!replica.paused && this.random.chance(this.faults.pause)) this.pause(index);
      if (this.random.chance(this.faults.crash)) this.crash(index);
    });
    if (this.acceptClock !== undefined && this.random.chance(ANTI_ENTROPY_CHANCE)) this.antiEntropyRound();
    const queued = this.shuffled(this.gossip);
    this.gossip = [];
    for (const message of queued) {
      if (this.random.chance(this.faults.drop)) {
        this.counts.dropped++;
      } else if (this.replicas[message.to].paused || !this.random.chance(this.faults.deliver)) {
        this.gossip.push(message);
      } else {
        this.deliver(message);
        this.counts.delivered++;
        if (this.random.chance(this.faults.duplicate)) {
          this.counts.duplicated++;
          this.gossip.push(message);
        }
      }
    }
  }

  pause(index: number): void {
    this.replicas[index].paused = true;
    this.counts.pauses++;
  }

  resume(index: number): void {
    const replica = this.replicas[index];
    replica.paused = false;
    for (const put of replica.inbox.splice(0)) this.apply(index, put);
  }

  /** The replica restarts empty: its values, its inbox and the gossip it had not sent are gone. */
  crash(index: number): void {
    const replica = this.replicas[index];
    replica.values.clear();
    replica.held.clear();
    replica.dots = new DotIssuer();
    replica.inbox.length = 0;
    this.gossip = this.gossip.filter((message) => message.from !== index);
    this.counts.crashes++;
    this.incarnations[index]++;
    this.epoch++;
  }

  /**
   * Ends every fault: replicas resume, gossip arrives, then anti-entropy passes (each
   * replica merges every other's values) until one changes nothing. Anna's causal merge is
   * not associative (docs/consistency.md §2.7), so one pass can leave replicas apart; a
   * node's anti-entropy repeats too.
   */
  heal(): void {
    this.replicas.forEach((_, index) => this.resume(index));
    for (const message of this.gossip.splice(0)) this.deliver(message);
    for (let pass = 0; pass < HEAL_PASSES_MAX && this.antiEntropyPass(); pass++);
  }

  /**
   * One replica sends every value it holds to another, as a node's periodic anti-entropy
   * does: what a lost gossip message left out arrives, and a stable time held back by it
   * moves on. Only with an accept clock (replicas that model nodes' clocks model their
   * repair too); a paused replica neither sends nor takes.
   */
  private antiEntropyRound(): void {
    const from = this.random.int(REPLICA_COUNT);
    const to = (from + 1 + this.random.int(REPLICA_COUNT - 1)) % REPLICA_COUNT;
    if (this.replicas[from].paused || this.replicas[to].paused) return;
    for (const [key, value] of this.replicas[from].values)
      this.deliver({ from, to, key, value, writes: new Set(this.replicas[from].held.get(key)) });
    this.counts.antiEntropyRounds++;
  }

  /** Whether any replica's value changed. */
  private antiEntropyPass(): boolean {
    let changed = false;
    for (const from of this.replicas) {
      for (const to of this.replicas) {
        if (to === from) continue;
        for (const [key, value] of from.values) {
          const before = to.values.get(key)?.payload;
          if (to.merge(key, value)) addHeld(to, key, from.held.get(key));
          const after = to.values.get(key)?.payload;
          if (before !== after && (before === undefined || after === undefined || !bytesEqual(before, after)))
            changed = true;
        }
      }
    }
    return changed;
  }

  /** A client call's writes, after a scheduler step: each sent by `send`, unless the client stops between keys. */
  private settle(puts: readonly PutTuple[], send: (put: PutTuple) => PutOutcome): Map<string, PutOutcome> {
    this.step();
    const sentCount =
      puts.length > 1 && this.random.chance(this.faults.interrupt) ? 1 + this.random.int(puts.length - 1) : puts.length;
    if (sentCount < puts.length) this.counts.interrupted++;
    const outcomes = new Map<string, PutOutcome>();
    puts.forEach((put, index) => outcomes.set(put.key, index < sentCount ? send(put) : unsent(put.key)));
    return outcomes;
  }

  /** A write sent to a replica, then (unless sent once) the next, until one is not paused or the attempts run out. */
  private send(put: PutTuple, sendOnce: boolean): PutOutcome {
    const first = this.random.int(REPLICA_COUNT);
    for (let attempt = 0; attempt < (sendOnce ? 1 : ATTEMPTS_MAX); attempt++) {
      const outcome = this.sendTo((first + attempt) % REPLICA_COUNT, put);
      if (outcome !== undefined) return outcome;
    }
    return silent(`no replica of ${JSON.stringify(put.key)} answered`);
  }

  /** A write's outcome on replica `index`; undefined while it is paused (it applies the write when it resumes). */
  private sendTo(index: number, put: PutTuple): PutOutcome | undefined {
    const replica = `sim-${index}`;
    if (this.replicas[index].paused) {
      this.replicas[index].inbox.push(put);
      this.counts.timeouts++;
      return undefined;
    }
    const applied = this.apply(index, put);
    if (typeof applied === "object")
      return {
        status: "applied",
        ...this.stableFields(index),
        ...(applied.dot === undefined ? {} : { dot: encodeDot(applied.dot) }),
      };
    if (applied === "stale") {
      const epoch = this.reportedEpoch();
      return {
        status: "refused",
        error: new SimTransportError("STALE_STAMP", `${replica} refused a stale stamp of ${JSON.stringify(put.key)}`),
        acceptFloorMicros: this.acceptFloorMicros,
        ...(epoch > 0 ? { epoch } : {}),
        replica,
      };
    }
    return {
      status: "refused",
      error: new SimTransportError("LATTICE", `${replica} refused ${JSON.stringify(put.key)}`),
      replica,
    };
  }

  /**
   * Merges a client's write into a replica, which then gossips its value of the key to the
   * others; "stale" (nothing merged) for a stamp at or below the accept floor. A dot request
   * is merged as a node merges one: its version named by the replica's next dot, which the
   * answer carries.
   */
  private apply(index: number, put: PutTuple): { dot?: Dot } | "stale" | "refused" {
    const replica = this.replicas[index];
    let request: DotRequest | undefined;
    try {
      request = put.type === LatticeType.DOTTED_CAUSAL ? dotRequestOf(put.payload) : undefined;
    } catch {
      return "refused";
    }
    const stamps = this.stableTime === "none" ? [] : request !== undefined ? [request] : stampsOf(put);
    if (stamps.some((stamped) => isStaleStamp(stamped, this.floorMicros(), this.reportedEpoch()))) {
      this.counts.staleStamps++;
      return "stale";
    }
    let dotted: { dot: Dot; payload: Uint8Array } | undefined;
    try {
      dotted = request === undefined ? undefined : replica.dots.dotted(request, replica.values.get(put.key));
    } catch (error) {
      // A key of another type: refused, as the node refuses it (LATTICE).
      if (error instanceof StoreError) return "refused";
      throw error;
    }
    if (!replica.merge(put.key, dotted === undefined ? put : { type: put.type, payload: dotted.payload }))
      return "refused";
    if (dotted !== undefined) this.counts.dotRequests++;
    if (put.type === LatticeType.MULTI_CAUSAL) {
      this.counts.multiCausalWrites++;
      this.counts.multiCausalDependencies += decodeMultiCausal(put.payload).dependencies.length;
    }
    if (stamps.length > 0) {
      const stampMicros = Math.min(...stamps.map((stamped) => stamped.stampMicros));
      const id = this.stamped.size;
      this.stamped.set(id, {
        key: put.key,
        stampMicros,
        acceptor: index,
        incarnation: this.incarnations[index],
        everywhere: false,
      });
      addHeld(replica, put.key, [id]);
      // Without a clock, the floor follows the stamps taken; with one, the clock alone, as a node's does.
      if (this.acceptClock === undefined) this.acceptFloorMicros = Math.max(this.acceptFloorMicros, stampMicros);
      this.counts.stampedWrites++;
    }
    const value = replica.values.get(put.key)!;
    const writes = new Set(replica.held.get(put.key));
    for (let to = 0; to < REPLICA_COUNT; to++) {
      if (to !== index) this.gossip.push({ from: index, to, key: put.key, value, writes });
    }
    return dotted === undefined ? {} : { dot: dotted.dot };
  }

  private deliver(message: GossipMessage): void {
    const to = this.replicas[message.to];
    if (to.merge(message.key, message.value)) addHeld(to, message.key, message.writes);
  }

  private answeringReplica(): number | undefined {
    const first = this.random.int(REPLICA_COUNT);
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      const index = (first + attempt) % REPLICA_COUNT;
      if (!this.replicas[index].paused) return index;
      this.counts.timeouts++;
    }
    return undefined;
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }
}

function addHeld(replica: SimReplica, key: string, writes: Iterable<number> | undefined): void {
  if (writes === undefined) return;
  let held = replica.held.get(key);
  if (held === undefined) replica.held.set(key, (held = new Set()));
  for (const id of writes) held.add(id);
}

function replicaIndex(replica: string): number {
  const index = Number(replica.slice("sim-".length));
  if (!(replica.startsWith("sim-") && Number.isInteger(index) && index >= 0 && index < REPLICA_COUNT))
    throw new RangeError(`no replica ${JSON.stringify(replica)} in the simulated cluster`);
  return index;
}

function silent(message: string): PutOutcome {
  return { status: "unknown", error: new SimTransportError("TIMEOUT", message) };
}

function unsent(key: string): PutOutcome {
  return {
    status: "unknown",
    error: new SimTransportError("TIMEOUT", `the client stopped before sending ${JSON.stringify(key)}`),
  };
}

/**
 * The stamps the node's accept floor reads of a PUT (handlers/request.ts): a MULTI_CAUSAL
 * payload's stamped values, or a causal LWW value's stamp. None for bare, malformed and
 * other values.
 */
function stampsOf({ type, payload }: PutTuple): StampedValue[] {
  if (type === LatticeType.MULTI_CAUSAL) return stampedValuesOf(payload) ?? [];
  const stamped = type === LatticeType.LWW ? stampedOfLwwPut(payload) : undefined;
  return stamped === undefined ? [] : [stamped];
}
