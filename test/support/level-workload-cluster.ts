/**
 * The workload on real nodes (docs/consistency.md §5): three node processes on 127.0.0.1–3
 * (test/support/cluster.ts), 2 actors each, global and local replication 2 (every key on
 * two actors of each of two nodes), gossip every 20 ms, anti-entropy every second; 8
 * sessions over 4 AnnaClients with 300 ms time-outs. AnnaClient sends a key to one replica
 * per client, so each session reads through the four clients in turn: successive reads
 * meet different replicas, as the levels must expect. A seeded nemesis drops gossip
 * between nodes (the fault file's `drop-remote-records`, then `drop-remote-gossip`) and stops a node with SIGSTOP for
 * 1 s (under the failure timeout) once per cycle, and in runs of 20 s or more kills a node
 * (SIGKILL) once, for 5 s (past the failure timeout: the survivors declare it dead and take
 * its keys), then starts it again empty, to rejoin and be filled; each fault is logged into
 * the history.
 * Start-up waits until every actor serves the keys the routing service sends it; healing
 * ends the faults, waits for the membership and then for the replicas to agree.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AnnaClient } from "../../src/client/anna-client";
import { wallClockMicros } from "../../src/consistency/clock";
import type { SessionContext } from "../../src/consistency/session";
import type { KeyTransport } from "../../src/consistency/transport";
import { TransactionNumbers } from "../../src/consistency/write-id";
import { startCluster, startClusterNode, waitForCluster, type ClusterNode } from "./cluster";
import { waitFor } from "./node-process";
import { HistoryRecorder } from "./history/recorder";
import {
  runLevelWorkload,
  type WorkloadEnvironment,
  type WorkloadOptions,
  type WorkloadResult,
} from "./level-workload";
import type { LevelRow } from "./level-workload-levels";
import { Random } from "./random";

const CLUSTER_NODE_COUNT = 3;
export const CLUSTER_PROCESS_COUNT = 8;
const CLIENT_COUNT = 4;
const CLIENT_TIMEOUT_MS = 300;
const ANTI_ENTROPY_PERIOD_MS = 1000;
/** A fault of each kind per cycle; a shorter run is one cycle. */
const NEMESIS_CYCLE_MS = 5000;
/** Under the failure timeout (3 s): the node stays a member, and its requests time out meanwhile. */
const SIGSTOP_MS = 1000;
/** Runs this long or longer kill a node once; shorter ones (the test suite's) do not. */
const KILL_RUN_MS_MIN = 20_000;
/** Past the failure timeout (3 s) and a heartbeat or two: the node is declared dead before it comes back. */
const KILLED_MS = 5000;
const MEMBERSHIP_SETTLE_MS = 30_000;
/** After healing, gossip and an anti-entropy round or two bring every replica level; past this, what differs is NC. */
const CONVERGENCE_TIMEOUT_MS = 20_000;
const CONVERGENCE_POLL_MS = 100;
/** The final reads come after the faults: a replica slower than this is stuck, not busy. */
const FINAL_READ_TIMEOUT_MS = 2000;
const CLUSTER_KEY_COUNT = 5;
/** Keys whose replicas, together, are very likely every actor of the cluster (each key is on 4 of the 6). */
const SERVING_PROBE_KEY_COUNT = 32;
const ACTORS_SERVING_TIMEOUT_MS = 10_000;

export interface ConsistencyCluster {
  /** The nodes as they are now: a restarted node replaces the killed one at its index. */
  readonly nodes: readonly ClusterNode[];
  /** Read by every node each gossip tick (ANNAKV_FAULT_FILE). */
  readonly faultFile: string;
  /** SIGKILLs node `index` (0-based) and waits for it to exit. */
  kill(index: number): Promise<void>;
  /** Starts node `index` again, empty, joining through another node (a new incarnation). */
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsistencyCluster(portOffset: number): Promise<ConsistencyCluster> {
  const directory = mkdtempSync(path.join(os.tmpdir(), "annakv-consistency-"));
  const faultFile = path.join(directory, "faults");
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    for (const node of [...nodes].reverse()) {
      node.process.child.kill("SIGCONT");
      await node.process.stop("SIGKILL");
    }
    rmSync(directory, { recursive: true, force: true });
  };
  const nodeOptions = {
    portOffset,
    threads: 2,
    globalReplication: 2,
    env: { ANNAKV_FAULT_FILE: faultFile },
    args: ["--local-replication=2", `--anti-entropy-period-ms=${ANTI_ENTROPY_PERIOD_MS}`],
  };
  try {
    nodes.push(...(await startCluster(CLUSTER_NODE_COUNT, nodeOptions)));
    await waitForActorsServing(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  const kill = async (index: number) => {
    await nodes[index].process.stop("SIGKILL");
  };
  const restart = async (index: number) => {
    // Through every other node: one of them may be stopped (SIGSTOP) just then.
    const seeds = nodes.filter((_, other) => other !== index).map((node) => node.host);
    const args = [...nodeOptions.args, `--join=${seeds.join(",")}`];
    nodes[index] = await startClusterNode({ ...nodeOptions, args, index: nodes[index].index });
  };
  return { nodes, faultFile, kill, restart, stop };
}

/**
 * Waits until every actor the routing service names for a spread of keys answers for them.
 * Nodes say they are ready when their membership is; an actor that still places keys by an
 * older layout refuses them (WRONG_THREAD), and a run on it would fail only at its final
 * reads, 20 s later, each time: better to say so once, here.
 */
async function waitForActorsServing(nodes: readonly ClusterNode[]): Promise<void> {
  const routingAddresses = nodes.map((node) => node.routingAddress);
  const keys = Array.from({ length: SERVING_PROBE_KEY_COUNT }, (_, index) => `probe-${index}`);
  let refusing = new Set<string>();
  await waitFor(
    async () => {
      // A fresh client each time: its addresses come from the routing service as it is now.
      const client = new AnnaClient({ routingAddresses, timeoutMs: FINAL_READ_TIMEOUT_MS });
      try {
        refusing = new Set();
        for (const key of keys) {
          for (const replica of await client.replicasOf(key)) {
            await client.getFromReplica(replica, [key]).catch(() => refusing.add(replica));
          }
        }
        return refusing.size === 0;
      } finally {
        await client.close();
      }
    },
    ACTORS_SERVING_TIMEOUT_MS,
    () =>
      `actors named by the routing service refuse its keys (WRONG_THREAD or no answer): ${[...refusing].join(", ")}; ` +
      "an actor started while the layout changed may have missed it",
  );
}

export interface ClusterRunOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly transactionsMax: number;
  /** Paced runs (see WorkloadOptions.rounds); none: sessions run flat out. */
  readonly rounds?: WorkloadOptions["rounds"];
  /** Per process, cycled: how far its wall clock is off, in microseconds. */
  readonly clockSkewsMicros: readonly bigint[];
  /** Keys of this run start with it, apart from other runs on the same cluster. */
  readonly keyPrefix: string;
  readonly keyCount?: number;
}

/** Runs `row` on `cluster` under the nemesis, heals, and checks the history. */
export async function runOnCluster(
  cluster: ConsistencyCluster,
  row: LevelRow,
  options: ClusterRunOptions,
): Promise<WorkloadResult> {
  const routingAddresses = cluster.nodes.map((node) => node.routingAddress);
  const clients = Array.from(
    { length: CLIENT_COUNT },
    () => new AnnaClient({ routingAddresses, timeoutMs: CLIENT_TIMEOUT_MS }),
  );
  const recorder = new HistoryRecorder({ output: { kind: "memory" } });
  const schedule = nemesisSchedule(options.durationMs, new Random(options.seed));
  const nemesis = new Nemesis(cluster, schedule, recorder);
  const environment = new ClusterEnvironment(cluster, clients, nemesis, options.clockSkewsMicros);
  try {
    return await runLevelWorkload({
      row,
      environment,
      recorder,
      seed: options.seed,
      processCount: CLUSTER_PROCESS_COUNT,
      keys: Array.from({ length: options.keyCount ?? CLUSTER_KEY_COUNT }, (_, i) => `${options.keyPrefix}k${i}`),
      transactionsMax: options.transactionsMax,
      deadlineMs: performance.now() + options.durationMs,
      rounds: options.rounds,
      // A killed node loses what it had not gossiped (put acks 1), as the simulator's crashes do; a
      // stopped one keeps what it holds. Without a kill, no acknowledged write may be lost.
      allowLostWrites: schedule.some((window) => window.fault === "kill"),
    });
  } finally {
    await nemesis.stop();
    await environment.close();
    await Promise.all(clients.map((client) => client.close()));
  }
}

class ClusterEnvironment implements WorkloadEnvironment {
  /** Real nodes: sessions poll as their defaults say. */
  readonly rowEnvironment = {};
  private readonly transactionNumbers: TransactionNumbers[];
  /** A client that saw every replica agree, its routing answers fresh: where the final reads go. */
  private finalReader: AnnaClient | undefined;

  constructor(
    private readonly cluster: ConsistencyCluster,
    private readonly clients: readonly AnnaClient[],
    private readonly nemesis: Nemesis,
    private readonly clockSkewsMicros: readonly bigint[],
  ) {
    // One per client, as AnnaClient.session() shares its client's.
    this.transactionNumbers = clients.map(() => new TransactionNumbers());
  }

  get transport(): KeyTransport {
    if (this.finalReader === undefined) throw new Error("invariant: final reads before healing");
    return this.finalReader;
  }

  sessionContext(process: number): SessionContext {
    const own = Math.floor(process / (CLUSTER_PROCESS_COUNT / CLIENT_COUNT));
    const skew = this.clockSkewsMicros[process % this.clockSkewsMicros.length];
    return {
      transport: readsInTurn(this.clients, own),
      transactionNumbers: this.transactionNumbers[own],
      nowMicros: () => wallClockMicros() + skew,
    };
  }

  // Real processes interleave by themselves: no gate.
  async turn(): Promise<void> {}

  finished(): void {}

  async heal(keys: readonly string[]): Promise<void> {
    await this.nemesis.stop();
    await waitForCluster(this.cluster.nodes, CLUSTER_NODE_COUNT, MEMBERSHIP_SETTLE_MS);
    this.finalReader = await agreedReader(this.cluster, keys);
  }

  async close(): Promise<void> {
    await this.finalReader?.close();
  }
}

/** Writes through client `own`; each read through the next client, so that successive reads meet other replicas. */
function readsInTurn(clients: readonly AnnaClient[], own: number): KeyTransport {
  let reads = 0;
  const client = clients[own];
  return {
    getMany: (keys, options) => clients[(own + reads++) % clients.length].getMany(keys, options),
    putManySettled: (puts, options) => client.putManySettled(puts, options),
    putToReplica: (replica, puts, options) => client.putToReplica(replica, puts, options),
    replicasOf: (key) => client.replicasOf(key),
    getFromReplica: (replica, keys, options) => client.getFromReplica(replica, keys, options),
  };
}

/**
 * Polls until every replica of every key holds the same payload, or the time-out passes
 * (what differs then, the checker reports). Each poll asks the routing service afresh, with
 * a new client: a node stopped past the failure timeout by a busy machine moves keys, and a
 * client's cached addresses would go on asking replicas that no longer hold them.
 */
async function agreedReader(cluster: ConsistencyCluster, keys: readonly string[]): Promise<AnnaClient> {
  const routingAddresses = cluster.nodes.map((node) => node.routingAddress);
  const deadline = performance.now() + CONVERGENCE_TIMEOUT_MS;
  for (;;) {
    const reader = new AnnaClient({ routingAddresses, timeoutMs: FINAL_READ_TIMEOUT_MS });
    if ((await replicasAgree(reader, keys)) || performance.now() >= deadline) return reader;
    await reader.close();
    await sleep(CONVERGENCE_POLL_MS);
  }
}

/** Whether every replica of each key holds the same payload (or none): false while one does not answer. */
export async function replicasAgree(transport: KeyTransport, keys: readonly string[]): Promise<boolean> {
  try {
    for (const key of keys) {
      const payloads = new Set<string>();
      for (const replica of await transport.replicasOf(key)) {
        const read = (await transport.getFromReplica(replica, [key])).get(key);
        payloads.add(read === undefined ? "" : Buffer.from(read.payload).toString("hex"));
      }
      if (payloads.size > 1) return false;
    }
    return true;
  } catch {
    // A replica that does not answer yet (just resumed, busy, or no longer holding the key) does not agree yet.
    return false;
  }
}

/** Faults of the actors' gossip between nodes (src/actor/faults.ts): records only, or all of it. */
type DropFault = "drop-remote-records" | "drop-remote-gossip";

function isDropFault(fault: FaultWindow["fault"]): fault is DropFault {
  return fault === "drop-remote-records" || fault === "drop-remote-gossip";
}

interface FaultWindow {
  readonly fault: DropFault | "sigstop" | "kill";
  readonly startMs: number;
  readonly endMs: number;
  /** For sigstop and kill: which node (0-based). */
  readonly node: number;
}

/**
 * Per cycle: records between nodes dropped from 10% to 30% of it, then all gossip between
 * them (handoffs and acknowledgements too: no causal round completes, and replicas of a
 * causal key differ for that long) from 30% to 50%; a seeded node stopped from
 * 25% for SIGSTOP_MS (both faults at once for a while). In a run of KILL_RUN_MS_MIN or more,
 * once: a seeded node killed at 40% of the run, started again KILLED_MS later.
 */
function nemesisSchedule(durationMs: number, random: Random): FaultWindow[] {
  const cycleMs = Math.min(durationMs, NEMESIS_CYCLE_MS);
  const windows: FaultWindow[] = [];
  for (let cycleStartMs = 0; cycleStartMs + cycleMs <= durationMs; cycleStartMs += cycleMs) {
    windows.push(
      {
        fault: "drop-remote-records",
        startMs: cycleStartMs + 0.1 * cycleMs,
        endMs: cycleStartMs + 0.3 * cycleMs,
        node: -1,
      },
      // After the records window in this list, so that at 30% the records fault ends before this one starts.
      {
        fault: "drop-remote-gossip",
        startMs: cycleStartMs + 0.3 * cycleMs,
        endMs: cycleStartMs + 0.5 * cycleMs,
        node: -1,
      },
    );
    const stopMs = cycleStartMs + 0.25 * cycleMs;
    windows.push({
      fault: "sigstop",
      startMs: stopMs,
      endMs: stopMs + Math.min(SIGSTOP_MS, 0.7 * cycleMs),
      node: random.int(CLUSTER_NODE_COUNT),
    });
  }
  if (durationMs >= KILL_RUN_MS_MIN) {
    const killMs = 0.4 * durationMs;
    windows.push({ fault: "kill", startMs: killMs, endMs: killMs + KILLED_MS, node: random.int(CLUSTER_NODE_COUNT) });
  }
  return windows;
}

/** Applies a schedule of fault windows from its start; `stop` ends it, and every fault still on. */
class Nemesis {
  private readonly active = new Set<FaultWindow>();
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  /** Killed nodes starting again: not awaited by the schedule, whose other faults go on meanwhile. */
  private readonly restarts: Promise<void>[] = [];

  constructor(
    private readonly cluster: ConsistencyCluster,
    windows: readonly FaultWindow[],
    private readonly recorder: HistoryRecorder,
  ) {
    this.done = this.run(windows);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
    for (const window of [...this.active]) await this.end(window);
    await Promise.all(this.restarts);
    // Whatever a failed run left behind: no fault outlives the nemesis.
    rmSync(this.cluster.faultFile, { force: true });
    for (const node of this.cluster.nodes) node.process.child.kill("SIGCONT");
  }

  private async run(windows: readonly FaultWindow[]): Promise<void> {
    const startedMs = performance.now();
    const changes = windows
      .flatMap((window) => [
        { atMs: window.startMs, window, starts: true },
        { atMs: window.endMs, window, starts: false },
      ])
      .sort((a, b) => a.atMs - b.atMs);
    for (const change of changes) {
      const waitMs = startedMs + change.atMs - performance.now();
      try {
        if (waitMs > 0) await sleep(waitMs, undefined, { signal: this.abort.signal });
      } catch {
        return; // stopped
      }
      if (this.abort.signal.aborted) return;
      if (change.starts) await this.start(change.window);
      else if (this.active.has(change.window)) await this.end(change.window);
    }
  }

  private async start(window: FaultWindow): Promise<void> {
    this.active.add(window);
    if (isDropFault(window.fault)) writeFileSync(this.cluster.faultFile, `${window.fault}\n`);
    else if (window.fault === "sigstop") this.cluster.nodes[window.node].process.child.kill("SIGSTOP");
    else await this.cluster.kill(window.node);
    this.recorder.fault("start", window.fault, this.detail(window));
  }

  private async end(window: FaultWindow): Promise<void> {
    this.active.delete(window);
    if (window.fault === "kill") {
      // Ends once the node serves again (seconds): the schedule's other faults must not wait for it.
      const restart = this.cluster.restart(window.node);
      this.restarts.push(restart.then(() => void this.recorder.fault("end", window.fault, this.detail(window))));
      return;
    }
    if (isDropFault(window.fault)) rmSync(this.cluster.faultFile, { force: true });
    else this.cluster.nodes[window.node].process.child.kill("SIGCONT");
    this.recorder.fault("end", window.fault, this.detail(window));
  }

  private detail(window: FaultWindow): string {
    return isDropFault(window.fault) ? "between every pair of nodes" : this.cluster.nodes[window.node].host;
  }
}
