/**
 * A node's membership service (docs/cluster.md): on the node's main thread, on the
 * membership port (6350 + offset). It joins through seeds, gossips the whole membership
 * table every heartbeat, judges silent members, refutes suspicion of itself, and derives
 * the cluster layout its actors and routing service place keys by. No coordinator: every
 * node runs the same code on the same merged table.
 */
import { EarlyBounds } from "./early-bounds";
import { FailureDetector } from "./failure-detector";
import { handleGossip } from "./handlers/gossip";
import { handleJoin } from "./handlers/join";
import { handleRefused } from "./handlers/refused";
import { handleStability } from "./handlers/stability";
import { handleWelcome } from "./handlers/welcome";
import { isLive, isNext, isServing, Lifecycle, MemberEntry, OwnerData, stateName, Suspicion } from "./member";
import type { MembershipContext } from "./membership-context";
import { MembershipTable } from "./membership-table";
import {
  decodeMembershipMessage,
  encodeMembershipMessage,
  MEMBERSHIP_FRAME_BYTES_MAX,
  MembershipMessage,
} from "./messages";
import { ClusterLayout, LayoutNode, sameRings } from "../routing/layout";
import { EMPTY_FACTOR_STATE, FactorState, FactorTable } from "../routing/key-factors";
import { ZmtpPullServer } from "../protocol/zmtp/pull-server";
import { ZmtpPushPool } from "../protocol/zmtp/push-pool";
import { LISTENER_LIMITS } from "../protocol/zmtp/socket-limits";
import { tcpAddress } from "../protocol/zmtp/endpoint";
import type { ClusterTls } from "../protocol/zmtp/tls";

/** How often a node raises its heartbeat and gossips its table. */
export const HEARTBEAT_MS = 500;
/** Members a node gossips to each heartbeat. */
const GOSSIP_FANOUT = 3;
/** Every this many heartbeats, one dead member is sent the table too (so one that was cut off learns it). */
const DEAD_GOSSIP_EVERY = 4;
/** A join is sent to the next seed this often until one answers. */
const JOIN_RETRY_MS = 500;
/**
 * A node sends its held bound between heartbeats at most this often (docs/causal-stability.md
 * §10), and at most STABILITY_MESSAGES_PER_SECOND_MAX messages a second in all: in a large
 * cluster the period grows with the members, and where it reaches the heartbeat no message is
 * sent (the heartbeat carries the bound anyway).
 */
const STABILITY_MESSAGE_PERIOD_MS = 50;
const STABILITY_MESSAGES_PER_SECOND_MAX = 200;
/** Membership connections one node keeps open at once. */
const MEMBERSHIP_PEERS_MAX = 1024;

export type JoinErrorCode = "UNREACHABLE" | "REFUSED";

/** The node could not join: no seed answered in time (CLI exit 4), or one refused it (exit 2). */
export class JoinError extends Error {
  constructor(
    readonly code: JoinErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "JoinError";
  }
}

export interface MembershipOptions {
  /** The node's advertised membership address, `HOST:PORT`: its id. */
  selfId: string;
  /** Where the membership port binds (`tcp://HOST:PORT`). */
  bindAddress: string;
  /** What the node says of itself besides its key count, synced joiners and hot-key factors. */
  ownData: Omit<OwnerData, "keyCount" | "synced" | "factors" | "stability">;
  /** Members to join through (`HOST:PORT`); none: the node starts a cluster of its own. */
  seeds: readonly string[];
  clusterName: string;
  globalReplication: number;
  failureTimeoutMs: number;
  joinTimeoutMs: number;
  heartbeatMs?: number;
  /** Mutual TLS for the membership port and connections to other members. */
  tls?: ClusterTls;
  keyCount(): number;
  log(level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>): void;
  /** A layout whose rings differ from the last one (versions increase). */
  onLayout(layout: ClusterLayout): void;
}

export interface MemberStatus {
  id: string;
  state: string;
  incarnation: number;
  host: string;
  portOffset: number;
  actors: number;
  keys: number;
  /** Milliseconds since its heartbeat last rose (this node: 0). */
  silentMs: number | null;
}

interface Joiner {
  incarnation: number;
  /** The first layout version in which it was joining: every actor past it has sent it its keys. */
  firstVersion: number;
}

export class MembershipService {
  readonly table = new MembershipTable();
  private own: MemberEntry;
  private readonly heartbeatMs: number;
  private readonly detector: FailureDetector;
  private readonly server: ZmtpPullServer;
  private readonly peers: ZmtpPushPool;
  private readonly context: MembershipContext;
  private layoutValue: ClusterLayout;
  private readonly joiners = new Map<string, Joiner>();
  private readonly repliedAtMs = new Map<string, number>();
  private readonly earlyBounds = new EarlyBounds();
  /** The held bound last sent by `stability` message, when, and the send waiting for its period. */
  private stabilitySent: OwnerData["stability"] = { heldMicros: 0, epoch: 0 };
  private stabilitySentAtMs = -Infinity;
  private stabilityTimer?: NodeJS.Timeout;
  private synced: Record<string, number> = {};
  private timer?: NodeJS.Timeout;
  private lastTickMs = 0;
  private tickCount = 0;
  private pendingJoin?: (answer: { welcomed: true } | { welcomed: false; reason: string }) => void;
  badFrames = 0;
  bytesSent = 0;
  /** `stability` messages sent, one per member it went to. */
  stabilityMessagesSent = 0;

  constructor(private readonly options: MembershipOptions) {
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.detector = new FailureDetector(
      options.failureTimeoutMs,
      Math.max(2 * this.heartbeatMs, options.failureTimeoutMs / 4),
    );
    this.own = {
      id: options.selfId,
      incarnation: Date.now(),
      lifecycle: Lifecycle.JOINING,
      suspicion: Suspicion.NONE,
      heartbeat: 0,
      data: {
        ...options.ownData,
        keyCount: 0,
        synced: {},
        factors: EMPTY_FACTOR_STATE,
        stability: { heldMicros: 0, epoch: 0 },
      },
    };
    this.table.setOwn(this.own);
    this.layoutValue = this.deriveLayout(1);
    this.server = new ZmtpPullServer({
      ...LISTENER_LIMITS,
      tls: options.tls,
      maxFrameBytes: MEMBERSHIP_FRAME_BYTES_MAX,
      maxFramesPerBatch: 64,
      onFrames: (frames) => {
        for (const frame of frames) this.receive(frame);
      },
      onBadPeer: (reason) => this.refuse(`connection closed: ${reason}`),
    });
    this.peers = new ZmtpPushPool({
      maxSockets: MEMBERSHIP_PEERS_MAX,
      idleCloseMs: 30_000,
      maxQueuedBytes: 16 * MEMBERSHIP_FRAME_BYTES_MAX,
      lingerMs: 1000,
      handshakeTimeoutMs: LISTENER_LIMITS.handshakeTimeoutMs,
      tls: options.tls,
    });
    this.context = {
      selfId: options.selfId,
      clusterName: options.clusterName,
      globalReplication: options.globalReplication,
      table: this.table,
      earlyBounds: this.earlyBounds,
      send: (to, message) => this.sendFrame(to, encodeMembershipMessage(message)),
      mergeEntries: (entries) => this.mergeEntries(entries),
      gossipMessage: () => this.gossipMessage(),
      joinAnswered: (answer) => this.pendingJoin?.(answer),
      mayReplyTo: (to) => this.mayReplyTo(to),
      log: (level, message) => options.log(level, message),
    };
  }

  get layout(): ClusterLayout {
    return this.layoutValue;
  }

  get lifecycle(): Lifecycle {
    return this.own.lifecycle;
  }

  /** Binds the membership port and joins (or starts) the cluster; throws JoinError when it cannot. */
  async start(): Promise<void> {
    await this.server.bind(this.options.bindAddress);
    const seeds = this.options.seeds.filter((seed) => seed !== this.options.selfId);
    if (seeds.length > 0) {
      const bootstrapper = this.options.seeds[0] === this.options.selfId;
      const joined = await this.join(seeds, bootstrapper);
      if (!joined)
        this.options.log(
          "info",
          `no other seed answered within ${this.options.joinTimeoutMs} ms: ${this.options.selfId}, the first seed, starts the cluster`,
        );
    }
    if (!this.table.all().some((entry) => entry.id !== this.own.id && isLive(entry))) this.advance(Lifecycle.ALIVE);
    else
      this.options.log("info", `joining: ${this.liveCount() - 1} other member(s); keys are sent here before it serves`);
    this.lastTickMs = performance.now();
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.tick();
  }

  /**
   * Sends `join` to the seeds in turn until one answers. Resolves true once welcomed;
   * false when none answered and this node may start the cluster (it is the first seed);
   * throws JoinError otherwise.
   */
  private async join(seeds: readonly string[], bootstrapper: boolean): Promise<boolean> {
    const deadline = Date.now() + this.options.joinTimeoutMs;
    const answer = new Promise<{ welcomed: true } | { welcomed: false; reason: string }>(
      (resolve) => (this.pendingJoin = resolve),
    );
    let attempt = 0;
    const send = () => {
      const seed = seeds[attempt++ % seeds.length];
      const message: MembershipMessage = {
        kind: "join",
        from: this.own.id,
        clusterName: this.options.clusterName,
        globalReplication: this.options.globalReplication,
        entry: this.own,
      };
      this.sendFrame(seed, encodeMembershipMessage(message));
    };
    send();
    const retry = setInterval(send, JOIN_RETRY_MS);
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>(
      (resolve) => (timeout = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))),
    );
    try {
      const result = await Promise.race([answer, expired]);
      if (result === undefined) {
        if (bootstrapper) return false;
        throw new JoinError(
          "UNREACHABLE",
          `no seed answered within ${this.options.joinTimeoutMs} ms (tried ${seeds.join(", ")})`,
        );
      }
      if (!result.welcomed) throw new JoinError("REFUSED", result.reason);
      return true;
    } finally {
      clearInterval(retry);
      clearTimeout(timeout);
      this.pendingJoin = undefined;
    }
  }

  /** Every actor of this node has placed its keys by layout `version` (all pages acknowledged). */
  noteLayoutReached(version: number): void {
    let changed = false;
    for (const [id, joiner] of this.joiners) {
      if (joiner.firstVersion > version || this.synced[id] === joiner.incarnation) continue;
      this.synced[id] = joiner.incarnation;
      changed = true;
    }
    if (changed) this.beat();
  }

  /** This node's hot-key decisions, sent to the others from the next heartbeat on. */
  setFactors(factors: FactorState): void {
    if (factors.version === this.own.data.factors.version) return;
    this.own = { ...this.own, data: { ...this.own.data, factors } };
    this.beat();
  }

  /**
   * This node's held bound in an epoch (docs/causal-stability.md §7), sent to the others with
   * the next heartbeat and, when it rose, by `stability` message within a period (§10).
   */
  setStability(stability: OwnerData["stability"]): void {
    const { heldMicros, epoch } = this.own.data.stability;
    if (stability.heldMicros === heldMicros && stability.epoch === epoch) return;
    this.own = { ...this.own, data: { ...this.own.data, stability } };
    this.table.setOwn(this.own);
    this.scheduleStabilityMessage();
  }

  /**
   * The largest held bound in `epoch` heard from that incarnation of a member, by heartbeat or
   * by `stability` message; undefined when neither says one in that epoch.
   */
  heldBoundOf(id: string, incarnation: number, epoch: number): number | undefined {
    const entry = this.table.get(id);
    if (entry?.incarnation !== incarnation) return undefined;
    const beat = entry.data.stability.epoch === epoch ? entry.data.stability.heldMicros : undefined;
    const early = this.earlyBounds.heldIn(id, incarnation, epoch);
    if (beat === undefined) return early;
    return early === undefined ? beat : Math.max(beat, early);
  }

  /** Every member's hot-key decisions, by id, of the members on a ring. */
  factorTable(): FactorTable {
    const table: FactorTable = {};
    for (const entry of this.table.all()) if (isServing(entry) || isNext(entry)) table[entry.id] = entry.data.factors;
    return table;
  }

  /** Starts a graceful leave: off the next ring, still serving. */
  leave(): void {
    if (this.own.lifecycle < Lifecycle.LEAVING) this.advance(Lifecycle.LEAVING);
    this.gossipToAll();
  }

  /** Ends a leave: tells every live member directly, then waits (until the deadline) for the messages to go. */
  async announceLeft(deadlineMs: number): Promise<void> {
    this.advance(Lifecycle.LEFT);
    this.gossipToAll();
    await this.peers.flush(deadlineMs);
  }

  /** Other members still in the cluster (alive, joining, leaving; not dead, not left). */
  otherLiveMembers(): MemberEntry[] {
    return this.table.all().filter((entry) => entry.id !== this.own.id && isLive(entry));
  }

  async stop(deadlineMs: number): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.stabilityTimer);
    this.stabilityTimer = undefined;
    await this.server.close();
    await this.peers.flush(deadlineMs);
    this.peers.close();
  }

  status(): { self: string; state: string; layoutVersion: number; members: MemberStatus[] } {
    const now = performance.now();
    const members = this.table
      .all()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((entry) => ({
        id: entry.id,
        state: stateName(entry),
        incarnation: entry.incarnation,
        host: entry.data.host,
        portOffset: entry.data.portOffset,
        actors: entry.data.threads,
        keys: entry.data.keyCount,
        silentMs: entry.id === this.own.id ? 0 : (this.detector.silenceMs(entry.id, now) ?? null),
      }));
    return { self: this.own.id, state: stateName(this.own), layoutVersion: this.layoutValue.version, members };
  }

  private receive(frame: Uint8Array): void {
    let message: MembershipMessage;
    try {
      message = decodeMembershipMessage(frame);
    } catch (error) {
      this.refuse((error as Error).message);
      return;
    }
    switch (message.kind) {
      case "join":
        return handleJoin(this.context, message);
      case "welcome":
        return handleWelcome(this.context, message);
      case "refused":
        return handleRefused(this.context, message);
      case "gossip":
        return handleGossip(this.context, message);
      case "stability":
        return handleStability(this.context, message);
    }
  }

  private refuse(reason: string): void {
    this.badFrames++;
    this.options.log("warn", `membership refused a frame: ${reason}`);
  }

  private mergeEntries(entries: readonly MemberEntry[]): MemberEntry[] {
    const before = new Map(entries.map((entry) => [entry.id, this.table.get(entry.id)]));
    const changed = this.table.merge(entries);
    const now = performance.now();
    for (const entry of changed) {
      this.detector.observe(entry, now);
      const previous = before.get(entry.id);
      const news =
        previous === undefined ||
        previous.incarnation !== entry.incarnation ||
        stateName(previous) !== stateName(entry);
      if (news && entry.id !== this.own.id)
        this.options.log("info", `member ${entry.id} is ${stateName(entry)}`, { incarnation: entry.incarnation });
    }
    if (changed.some((entry) => entry.id === this.own.id)) this.refute();
    if (changed.length > 0) this.refreshLayout();
    return changed;
  }

  /** Someone raised suspicion of this node (or holds a newer incarnation of its id): come back under a new incarnation. */
  private refute(): void {
    const seen = this.table.get(this.own.id)!;
    if (seen === this.own) return;
    let lifecycle = this.own.lifecycle;
    if (seen.suspicion === Suspicion.DEAD && lifecycle === Lifecycle.ALIVE) {
      // Declared dead, its keys went elsewhere and it missed writes: it is re-filled before it serves again.
      lifecycle = Lifecycle.JOINING;
      this.options.log("warn", `${this.own.id} was declared dead: rejoining to catch up`);
    } else if (seen.suspicion !== Suspicion.NONE)
      this.options.log("warn", `${this.own.id} was ${Suspicion[seen.suspicion].toLowerCase()}: refuting`);
    const incarnation = Math.max(Date.now(), seen.incarnation + 1, this.own.incarnation + 1);
    this.own = { ...this.own, incarnation, lifecycle, suspicion: Suspicion.NONE, heartbeat: 0 };
    this.table.setOwn(this.own);
  }

  private advance(lifecycle: Lifecycle): void {
    this.own = { ...this.own, lifecycle, heartbeat: this.own.heartbeat + 1 };
    this.table.setOwn(this.own);
    this.options.log("info", `${this.own.id} is ${stateName(this.own)}`);
    this.refreshLayout();
  }

  /** Raises the heartbeat, carrying the node's current data. */
  private beat(): void {
    const synced: Record<string, number> = {};
    for (const [id, incarnation] of Object.entries(this.synced)) if (this.joiners.has(id)) synced[id] = incarnation;
    this.synced = synced;
    this.own = {
      ...this.own,
      heartbeat: this.own.heartbeat + 1,
      data: { ...this.own.data, keyCount: this.options.keyCount(), synced },
    };
    this.table.setOwn(this.own);
  }

  private tick(): void {
    const now = performance.now();
    const lateMs = now - this.lastTickMs - this.heartbeatMs;
    this.lastTickMs = now;
    this.tickCount++;
    const others = this.otherLiveMembers();
    for (const verdict of this.detector.judge(others, now, lateMs)) {
      const entry = this.table.get(verdict.id)!;
      this.options.log(
        "warn",
        `member ${verdict.id} is ${Suspicion[verdict.suspicion].toLowerCase()}: no heartbeat for ${Math.round(this.detector.silenceMs(verdict.id, now) ?? 0)} ms`,
      );
      this.table.merge([{ ...entry, suspicion: verdict.suspicion }]);
    }
    this.beat();
    if (this.own.lifecycle === Lifecycle.JOINING && this.everyMemberSyncedMe()) {
      this.options.log("info", `every member has sent ${this.own.id} its keys`);
      this.advance(Lifecycle.ALIVE);
    }
    this.refreshLayout();
    this.earlyBounds.prune((id) => this.table.get(id)?.incarnation);
    this.gossip();
  }

  private everyMemberSyncedMe(): boolean {
    return this.otherLiveMembers().every((entry) => entry.data.synced[this.own.id] === this.own.incarnation);
  }

  private gossipMessage(): MembershipMessage {
    return { kind: "gossip", from: this.own.id, clusterName: this.options.clusterName, members: this.table.all() };
  }

  private gossip(): void {
    const live = this.otherLiveMembers();
    const targets = pickRandom(live, GOSSIP_FANOUT);
    if (this.tickCount % DEAD_GOSSIP_EVERY === 0) {
      const dead = this.table
        .all()
        .filter(
          (entry) =>
            entry.id !== this.own.id && entry.suspicion === Suspicion.DEAD && entry.lifecycle !== Lifecycle.LEFT,
        );
      targets.push(...pickRandom(dead, 1));
      // Alone (everyone else dead, or the cluster split): try the seeds too, so the halves find each other.
      if (live.length === 0)
        for (const seed of this.options.seeds)
          if (seed !== this.own.id && !targets.some((entry) => entry.id === seed))
            this.context.send(seed, this.gossipMessage());
    }
    if (targets.length === 0) return;
    const frame = encodeMembershipMessage(this.gossipMessage());
    for (const target of targets) this.sendFrame(target.id, frame);
  }

  /** Sends the node's bound once its period has passed since the last (a timer at most). */
  private scheduleStabilityMessage(): void {
    if (this.stabilityTimer !== undefined || this.timer === undefined) return;
    const periodMs = Math.max(
      STABILITY_MESSAGE_PERIOD_MS,
      (1000 * this.otherLiveMembers().length) / STABILITY_MESSAGES_PER_SECOND_MAX,
    );
    if (periodMs >= this.heartbeatMs) return;
    const waitMs = Math.max(0, this.stabilitySentAtMs + periodMs - performance.now());
    this.stabilityTimer = setTimeout(() => {
      this.stabilityTimer = undefined;
      this.sendStability();
    }, waitMs);
  }

  private sendStability(): void {
    const stability = this.own.data.stability;
    const sent = this.stabilitySent;
    if (stability.heldMicros === 0 || (stability.heldMicros === sent.heldMicros && stability.epoch === sent.epoch))
      return;
    this.stabilitySent = stability;
    this.stabilitySentAtMs = performance.now();
    const frame = encodeMembershipMessage({
      kind: "stability",
      from: this.own.id,
      clusterName: this.options.clusterName,
      incarnation: this.own.incarnation,
      ...stability,
    });
    for (const entry of this.otherLiveMembers()) {
      this.sendFrame(entry.id, frame);
      this.stabilityMessagesSent++;
    }
  }

  private gossipToAll(): void {
    const frame = encodeMembershipMessage(this.gossipMessage());
    for (const entry of this.otherLiveMembers()) this.sendFrame(entry.id, frame);
  }

  private sendFrame(to: string, frame: Uint8Array): void {
    this.bytesSent += frame.length;
    this.peers.send(memberAddress(to), frame);
  }

  private mayReplyTo(to: string): boolean {
    const now = performance.now();
    if (now - (this.repliedAtMs.get(to) ?? -Infinity) < this.heartbeatMs) return false;
    this.repliedAtMs.set(to, now);
    return true;
  }

  private liveCount(): number {
    return this.table.all().filter(isLive).length;
  }

  /** Derives the layout from the table; tells the node when its rings changed. */
  private refreshLayout(): void {
    const candidate = this.deriveLayout(this.layoutValue.version + 1);
    if (sameRings(candidate, this.layoutValue)) return;
    this.layoutValue = candidate;
    for (const node of candidate.nodes) {
      if (node.id === this.own.id || !node.next || node.serving) continue;
      const known = this.joiners.get(node.id);
      if (known === undefined || known.incarnation !== node.incarnation)
        this.joiners.set(node.id, { incarnation: node.incarnation, firstVersion: candidate.version });
    }
    for (const id of this.joiners.keys()) {
      const node = candidate.nodes.find((each) => each.id === id);
      if (node === undefined || !node.next || node.serving) this.joiners.delete(id);
    }
    this.options.onLayout(candidate);
  }

  private deriveLayout(version: number): ClusterLayout {
    const nodes: LayoutNode[] = this.table
      .all()
      .filter((entry) => entry.id === this.own.id || isServing(entry) || isNext(entry))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((entry) => ({
        id: entry.id,
        incarnation: entry.incarnation,
        host: entry.data.host,
        portOffset: entry.data.portOffset,
        threads: entry.data.threads,
        localReplication: entry.data.localReplication,
        serving: isServing(entry),
        next: isNext(entry),
      }));
    return { version, selfId: this.own.id, globalReplication: this.options.globalReplication, nodes };
  }
}

/** The membership address of a member id (`HOST:PORT`). */
export function memberAddress(id: string): string {
  return `tcp://${id}`;
}

/** A member id from a host and port: `HOST:PORT`, an IPv6 host in brackets. */
export function memberId(host: string, port: number): string {
  return tcpAddress(host, port).slice("tcp://".length);
}

function pickRandom<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0)
    picked.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]);
  return picked;
}
