/**
 * The consistency benchmark (`npm run bench:consistency`, docs/consistency.md §6): each
 * level against eventual on the same workload. Transactions of `--operations` (6)
 * operations, reads and writes half each, keys uniform and Zipf 1 over `--keys` preloaded
 * keys per lattice type, 64-byte values; `--sessions` closed loops split over
 * `--processes` generator processes (2, or one per node); `--warmup-seconds` then
 * `--seconds` a cell, after one unkept cell of eventual that warms the nodes. With
 * `--rounds N` each skew's levels run N times in turn, each ratio against its own round's
 * eventual, and the targets and charts take the median. One node by default. With
 * `--nodes 3` the nodes are a cluster on 127.0.0.1–3 (`--global-replication` copies of
 * each key, 2 by default), and generator process i sends to node i mod 3.
 *
 *   node -r ./bench/register.js bench/consistency/main.ts [--seconds N] [--warmup-seconds N]
 *     [--keys N] [--sessions N] [--processes N] [--levels a,b] [--skews 0,1] [--threads N]
 *     [--nodes N] [--global-replication N] [--port-offset N] [--seed N] [--rounds N] [--causal-accept-lag-ms N]
 *     [--out FILE.json]
 *
 * Writes FILE.json and FILE.svg (bench/results/consistency-2core.* by default, or
 * consistency-3node-2core.* with three nodes).
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AnnaClient } from "../../src/client/anna-client";
import type { AnnaClientCounters } from "../../src/client/base-client";
import { encodeLww, encodeMultiCausal } from "../../src/lattices/values";
import { encodeDottedCausalWire } from "../../src/lattices/dotted-causal";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { encodeStamped } from "../../src/lattices/causal-stamp";
import { encodeCausalLww } from "../../src/lattices/causal-lww";
import type { BarChart } from "../chart";
import { type BenchNode, killNodes, startCluster, tupleErrorsOf } from "../cluster/nodes";
import { STATS_INTERVAL_MS } from "../cluster/preload";
import { runJsonProcess } from "../child-processes";
import { CpuTrail } from "../cpu";
import { sleep } from "../cluster/wait";
import { LatencyHistogram } from "../latency";
import { positiveInteger } from "../options";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import type { GeneratorResult } from "./generator";
import { KeyKind, keyKindOf, keyName, Level, LEVELS } from "./levels";

const RESULT_NAME = "consistency-2core";
const GENERATOR_PATH = path.resolve(__dirname, "generator.ts");
const PRELOAD_BATCH_KEYS = 1000;
const PRELOAD_ATTEMPTS_MAX = 3;
const VALUE_BYTES = 64;
/** docs/consistency.md §6: each level's throughput as a multiple of eventual's, and why. */
const TARGETS: Partial<Record<Level, { ratioMin: number; why: string }>> = {
  sessions: { ratioMin: 0.9, why: "client work only" },
  "read-uncommitted": { ratioMin: 0.9, why: "client work only" },
  "read-committed": { ratioMin: 1.0, why: "3 reads + 1 commit round trip against 6" },
  "item-cut": { ratioMin: 1.0, why: "as read committed, repeated reads cached" },
  "read-atomic": { ratioMin: 0.6, why: "2 commit rounds, values sent again, a window on every read" },
  "causal-single-key": { ratioMin: 0.8, why: "a floor join and a dot request per write" },
  "causal-multi-key": { ratioMin: 0.5, why: "dependency metadata, fetch rounds" },
  "causal-multi-key-lww": { ratioMin: 0.5, why: "dependency stamps, fetch rounds; no clocks" },
};

interface BenchOptions {
  seconds: number;
  warmupSeconds: number;
  keyCount: number;
  sessions: number;
  processes: number;
  levels: Level[];
  skews: number[];
  threads: number;
  nodes: number;
  globalReplication: number;
  portOffset: number;
  seed: number;
  /** How many times each skew's levels run in turn, each round with its own eventual cell. */
  rounds: number;
  /** The nodes' --causal-accept-lag-ms; undefined: their default. */
  causalAcceptLagMs: number | undefined;
}

function parseRun(): { options: BenchOptions; jsonPath: string } {
  const { values } = parseArgs({
    options: Object.fromEntries(
      [
        "seconds",
        "warmup-seconds",
        "keys",
        "sessions",
        "processes",
        "levels",
        "skews",
        "threads",
        "nodes",
        "global-replication",
        "port-offset",
        "seed",
        "rounds",
        "causal-accept-lag-ms",
        "out",
      ].map((name) => [name, { type: "string" as const }]),
    ),
  });
  const nodes = positiveInteger(values.nodes, 1, "--nodes");
  const levels = (values.levels?.split(",") ?? [...LEVELS]) as Level[];
  for (const level of levels)
    if (!LEVELS.includes(level)) throw new RangeError(`--levels: no level ${level} (${LEVELS.join(", ")})`);
  // Every other level is a ratio to eventual's throughput in the same skew.
  if (!levels.includes("eventual")) levels.unshift("eventual");
  const skews = (values.skews ?? "0,1").split(",").map(Number);
  for (const skew of skews) if (!(skew >= 0)) throw new RangeError(`--skews: ${values.skews}`);
  const options: BenchOptions = {
    seconds: positiveInteger(values.seconds, 30, "--seconds"),
    warmupSeconds: positiveInteger(values["warmup-seconds"], 5, "--warmup-seconds"),
    keyCount: positiveInteger(values.keys, 100_000, "--keys"),
    sessions: positiveInteger(values.sessions, 64, "--sessions"),
    processes: positiveInteger(values.processes, Math.max(2, nodes), "--processes"),
    levels,
    skews,
    threads: positiveInteger(values.threads, 2, "--threads"),
    nodes,
    globalReplication: positiveInteger(values["global-replication"], Math.min(nodes, 2), "--global-replication"),
    // Clear of bench:fuzz (14400) and bench:soak (14700).
    portOffset: positiveInteger(values["port-offset"], 15_000, "--port-offset"),
    seed: positiveInteger(values.seed, 1, "--seed"),
    rounds: positiveInteger(values.rounds, 1, "--rounds"),
    causalAcceptLagMs:
      values["causal-accept-lag-ms"] === undefined
        ? undefined
        : positiveInteger(values["causal-accept-lag-ms"], 0, "--causal-accept-lag-ms"),
  };
  if (options.globalReplication > nodes)
    throw new RangeError(`--global-replication (${options.globalReplication}) must be at most --nodes (${nodes})`);
  if (options.sessions < options.processes)
    throw new RangeError(`--sessions (${options.sessions}) must be at least --processes (${options.processes})`);
  const name = nodes === 1 ? RESULT_NAME : `consistency-${nodes}node-2core`;
  return { options, jsonPath: path.resolve(values.out ?? path.join(RESULTS_DIR, `${name}.json`)) };
}

/**
 * Writes every key of the key spaces the levels use, so that no read finds a key absent.
 * Multi-causal and causal LWW keys get what a multi-key session writes (a stamped value,
 * in an envelope or an LWW value, docs/causal-stability.md): a bare value has no stamp, so
 * no session could ever count it stable, and every session that read one would list it on
 * all its writes.
 */
async function preload(client: AnnaClient, kinds: ReadonlySet<KeyKind>, keyCount: number): Promise<void> {
  const value = new Uint8Array(VALUE_BYTES).fill(0x61);
  // Stamps name the cluster's epoch, which any answer carries (docs/causal-stability.md §7).
  const probe = keyName("multi-causal", 0);
  const epoch = (await client.getMany([probe], { absentAsValues: true })).get(probe)?.stableEpoch ?? 0;
  const preloadClock = [{ key: new TextEncoder().encode("preload"), value: 1 }];
  // Stamped now: the node refuses stamps at or below its accept floor, a moment behind its clock.
  const stampedNow = () => ({
    stampMicros: Date.now() * 1000,
    baseMicros: 0,
    writer: preloadClock[0].key,
    dependencyStamps: [],
    value,
    epoch,
    baseEpoch: 0,
  });
  const payloads: Record<KeyKind, () => { type: LatticeType; payload: Uint8Array }> = {
    lww: () => ({ type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value }) }),
    // One version under a dot of its own (a replica id "preload"), as a plain PUT of the type, not a dot request.
    "dotted-causal": () => ({
      type: LatticeType.DOTTED_CAUSAL,
      payload: encodeDottedCausalWire({
        context: { vector: preloadClock, cloud: [] },
        versions: [{ dot: { id: preloadClock[0].key, counter: 1 }, value }],
      }),
    }),
    "causal-lww": () => ({ type: LatticeType.LWW, payload: encodeCausalLww(stampedNow()) }),
    "multi-causal": () => {
      const element = encodeEnvelope({ clock: preloadClock, value: encodeStamped(stampedNow()) });
      return {
        type: LatticeType.MULTI_CAUSAL,
        payload: encodeMultiCausal({ vectorClock: { preload: 1 }, dependencies: [], values: [element] }),
      };
    },
  };
  for (const kind of kinds) {
    for (let first = 0; first < keyCount; first += PRELOAD_BATCH_KEYS) {
      let keys = Array.from({ length: Math.min(keyCount, first + PRELOAD_BATCH_KEYS) - first }, (_, i) =>
        keyName(kind, first + i),
      );
      // A batch that waited past a short --causal-accept-lag-ms is refused STALE_STAMP, as a session's write
      // would be: stamped again and sent again, as a session does, at most PRELOAD_ATTEMPTS_MAX times.
      for (let attempt = 1; keys.length > 0; attempt++) {
        const payload = payloads[kind]();
        const outcomes = await client.putManySettled(keys.map((key) => ({ key, ...payload })));
        keys = [];
        for (const [key, outcome] of outcomes) {
          if (outcome.status === "applied") continue;
          const stale = outcome.status === "refused" && outcome.acceptFloorMicros !== undefined;
          if (!stale || attempt === PRELOAD_ATTEMPTS_MAX) throw outcome.error;
          keys.push(key);
        }
      }
    }
  }
}

interface Cell {
  level: Level;
  skew: number;
  /** Which round of `--rounds` (from 1); its ratio is to that round's eventual cell. */
  round: number;
  transactionsPerSecond: number;
  ratioToEventual: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsMean: number;
  failures: Record<string, number>;
  /**
   * Writes the nodes refused STALE_STAMP during the cell, warm-up included (the actors'
   * counters, up to a second late): each one a session stamped again and sent again.
   */
  staleStampRefusals: number;
  keyRequestsPerTransaction: number;
  keyRequestBytesPerTransaction: number;
  /** Address lookups the clients sent to routing, per transaction: keys not yet in their caches, or whose addresses went stale. */
  routingRequestsPerTransaction: number;
  /** Tuples the clients sent again (answered WRONG_THREAD, or not answered in time), per transaction. */
  tuplesResentPerTransaction: number;
  /** Times a client marked every cached address stale, over the cell (all clients). */
  addressCacheInvalidations: number;
  /** The generator processes' CPU time per transaction: on a machine they share with the node, what a level's client work costs in throughput. */
  clientCpuMsPerTransaction: number;
  /**
   * The nodes' CPU time per transaction (every node process, all threads, over the
   * generators' measured seconds): the other half of what a transaction costs the machine.
   */
  serverCpuMsPerTransaction: number;
}

/** The measured seconds of the unkept first cell (after its generators' own warm-up), at most `--seconds`. */
const WARMUP_CELL_SECONDS = 5;

async function measureCell(
  options: BenchOptions,
  nodes: readonly BenchNode[],
  level: Level,
  skew: number,
): Promise<Omit<Cell, "round" | "ratioToEventual" | "staleStampRefusals">> {
  const routings = nodes.map((node) => node.routingAddress);
  const sessionsPer = Math.floor(options.sessions / options.processes);
  const serverCpu = new CpuTrail(nodes.map((node) => node.pid));
  const results = await Promise.all(
    Array.from({ length: options.processes }, (_, index) =>
      runJsonProcess<GeneratorResult>(
        GENERATOR_PATH,
        {
          routing: routings[index % routings.length],
          level,
          skew,
          sessions: sessionsPer + (index < options.sessions % options.processes ? 1 : 0),
          keys: options.keyCount,
          seconds: options.seconds,
          warmupSeconds: options.warmupSeconds,
          seed: options.seed * 101 + index,
        },
        (options.seconds + options.warmupSeconds + 60) * 1000,
      ),
    ),
  ).finally(() => serverCpu.stop());
  const serverCpuMs =
    1000 *
    serverCpu.secondsBetween(
      Math.min(...results.map((result) => result.measuredFromEpochMs)),
      Math.max(...results.map((result) => result.measuredToEpochMs)),
    );
  const latency = new LatencyHistogram();
  const failures: Record<string, number> = {};
  let transactions = 0;
  const counters: AnnaClientCounters = {
    keyRequests: 0,
    keyRequestBytes: 0,
    routingRequests: 0,
    tuplesResent: 0,
    addressCacheInvalidations: 0,
  };
  let cpuMs = 0;
  for (const result of results) {
    cpuMs += result.cpuMs;
    latency.add(result.latency);
    transactions += result.transactions;
    for (const name of Object.keys(counters) as (keyof AnnaClientCounters)[]) counters[name] += result.counters[name];
    for (const [code, count] of Object.entries(result.failures)) failures[code] = (failures[code] ?? 0) + count;
  }
  const summary = latency.summary();
  return {
    level,
    skew,
    transactionsPerSecond: round(transactions / options.seconds),
    latencyMsP50: round(summary.latencyMsP50),
    latencyMsP99: round(summary.latencyMsP99),
    latencyMsMean: round(summary.latencyMsMean),
    failures,
    keyRequestsPerTransaction: round(counters.keyRequests / Math.max(1, transactions)),
    keyRequestBytesPerTransaction: round(counters.keyRequestBytes / Math.max(1, transactions)),
    routingRequestsPerTransaction: round(counters.routingRequests / Math.max(1, transactions)),
    tuplesResentPerTransaction: round(counters.tuplesResent / Math.max(1, transactions)),
    addressCacheInvalidations: counters.addressCacheInvalidations,
    clientCpuMsPerTransaction: round(cpuMs / Math.max(1, transactions)),
    serverCpuMsPerTransaction: round(serverCpuMs / Math.max(1, transactions)),
  };
}

/** STALE_STAMP refusals the nodes' actors have made so far (their counters, reported each second). */
async function staleStampRefusals(nodes: readonly BenchNode[]): Promise<number> {
  const statuses = await Promise.all(nodes.map((node) => node.status()));
  return statuses.reduce((refusals, status) => refusals + (tupleErrorsOf(status).STALE_STAMP ?? 0), 0);
}

async function main(): Promise<void> {
  const { options, jsonPath } = parseRun();
  const machine = machineInfo();
  console.log(
    `consistency bench: ${options.levels.join(", ")} at skews ${options.skews.join(", ")}; ` +
      `${options.sessions} sessions over ${options.processes} processes, ${options.seconds} s a cell`,
  );
  const nodes: BenchNode[] = await startCluster(options.nodes, {
    portOffset: options.portOffset,
    threads: options.threads,
    globalReplication: options.globalReplication,
    args: options.causalAcceptLagMs === undefined ? [] : [`--causal-accept-lag-ms=${options.causalAcceptLagMs}`],
  });
  const cells: Cell[] = [];
  try {
    const client = new AnnaClient({ routingAddress: nodes[0].routingAddress });
    try {
      await preload(client, new Set(options.levels.map(keyKindOf)), options.keyCount);
    } finally {
      await client.close();
    }
    // The preload's own refusals (stamped keys re-stamped) reach the actors' counters within a report: not the first cell's.
    await sleep(STATS_INTERVAL_MS + 200);
    // A first cell on fresh nodes ran slow in most runs (eventual, always first, at half its usual rate in some),
    // which inflated every ratio of its skew: one unkept cell of eventual's reads and writes warms the nodes first.
    await measureCell(
      { ...options, seconds: Math.min(options.seconds, WARMUP_CELL_SECONDS) },
      nodes,
      "eventual",
      options.skews[0],
    );
    for (const skew of options.skews) {
      // Each round measures eventual again: a ratio is to eventual measured minutes apart at most, not the run's first.
      for (let roundNumber = 1; roundNumber <= options.rounds; roundNumber++) {
        let eventual = NaN;
        for (const level of options.levels) {
          const refusalsBefore = await staleStampRefusals(nodes);
          const cell = await measureCell(options, nodes, level, skew);
          const staleStampRefusalsInCell = (await staleStampRefusals(nodes)) - refusalsBefore;
          if (level === "eventual") eventual = cell.transactionsPerSecond;
          cells.push({
            ...cell,
            round: roundNumber,
            ratioToEventual: round(cell.transactionsPerSecond / eventual),
            staleStampRefusals: staleStampRefusalsInCell,
          });
          console.log(JSON.stringify(cells.at(-1)));
        }
      }
    }
  } finally {
    // SIGTERM would make each member of a cluster hand its keys to members that are leaving too.
    if (nodes.length > 1) await killNodes(nodes);
    else {
      const exit = await nodes[0].stop("SIGTERM");
      if (exit.code !== 0) console.error(`the node exited ${JSON.stringify(exit)}`);
    }
  }
  /** Per level and skew, the median over the rounds of a cell's figure (the lower middle one of an even count). */
  const medianOf = (level: Level, skew: number, value: (cell: Cell) => number) => {
    const values = cells
      .filter((cell) => cell.level === level && cell.skew === skew)
      .map(value)
      .sort((a, b) => a - b);
    return values.length === 0 ? NaN : values[(values.length - 1) >> 1];
  };
  const targets = Object.fromEntries(
    options.skews.flatMap((skew) =>
      options.levels
        .filter((level) => TARGETS[level] !== undefined)
        .map((level) => {
          const ratios = cells.filter((c) => c.level === level && c.skew === skew).map((c) => c.ratioToEventual);
          const measured = medianOf(level, skew, (cell) => cell.ratioToEventual);
          return [
            `${level} at Zipf ${skew}`,
            {
              target: `>= ${TARGETS[level]!.ratioMin} of eventual (${TARGETS[level]!.why})`,
              measured,
              ...(ratios.length > 1 ? { range: [Math.min(...ratios), Math.max(...ratios)] } : {}),
              met: measured >= TARGETS[level]!.ratioMin,
            },
          ];
        }),
    ),
  );
  const groups = options.levels;
  const bySkew = (value: (cell: Cell) => number) =>
    options.skews.map((skew) => ({
      name: `Zipf ${skew}`,
      values: groups.map((level) => medianOf(level, skew, value)),
    }));
  const charts: BarChart[] = [
    {
      title: "Throughput relative to eventual (transactions of 6 operations)",
      yLabel: "x eventual",
      groups,
      series: bySkew((c) => c.ratioToEventual),
    },
    { title: "Transaction latency p99", yLabel: "ms", groups, series: bySkew((c) => c.latencyMsP99) },
    {
      title: "Requests per transaction",
      yLabel: "requests",
      groups,
      series: bySkew((c) => c.keyRequestsPerTransaction),
    },
  ];
  const result = {
    benchmark:
      `consistency levels against eventual, ${options.nodes === 1 ? "one node" : `${options.nodes} nodes`} ` +
      "(docs/consistency.md §6)",
    machine: { ...machine, loadAverage1mAtEnd: os.loadavg()[0] },
    options,
    targets,
    cells,
  };
  for (const file of writeResults(path.dirname(jsonPath), path.basename(jsonPath, ".json"), result, charts))
    console.log(`wrote ${file}`);
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
