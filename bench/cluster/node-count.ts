/**
 * Throughput against node count at the same total actors: one node of two actors against
 * two nodes of one actor (global replication 1, local replication 1: every key on one
 * actor either way), driven alike by the bench's load generator in a process of its own
 * (`concurrency` requests of `keysPerRequest` keys in flight, each sent to its key's
 * actor, found through node 1's routing service).
 *
 * Both clusters run side by side (the idle one costs a heartbeat every 500 ms), so that the
 * two runs compared are seconds apart: per round and operation (PUT, then GET) one setup
 * then the other, the order alternating from round to round (A B, B A, A B, ...) against
 * the machine's drift. Each figure is the median over rounds; every run records the CPU
 * the nodes, the generator and everything else on the machine took.
 */
import path from "node:path";
import type { LoadOptions, LoadResult } from "../load-generator";
import { ClusterBenchConfig, clusterOptions } from "./config";
import { BenchNode, killNodes, startCluster } from "./nodes";
import { runJsonProcess } from "../child-processes";
import { CpuTrace } from "./samplers";
import { median } from "./stats";

const GENERATOR_PATH = path.resolve(__dirname, "../load-generator.ts");
const RUN_TIMEOUT_MS = 120_000;
/** The generator's drain and exit after its measured window ends: a few ms to answer what is in flight, and the process's exit. */
const GENERATOR_EXIT_MS = 100;

interface Setup {
  name: string;
  nodes: number;
  threadsPerNode: number;
}

const SETUPS: readonly Setup[] = [
  { name: "1 node x 2 actors", nodes: 1, threadsPerNode: 2 },
  { name: "2 nodes x 1 actor", nodes: 2, threadsPerNode: 1 },
];

type Operation = "put" | "get";
const OPERATIONS: readonly Operation[] = ["put", "get"];

export interface PhaseRun {
  opsPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
  tupleErrors: Record<string, number>;
  lostRequests: number;
  generatorCpuCores: number;
  /** Over the generator's measured window (taken as the one that ended as it exited): the setup's node processes together. */
  nodesCpuCores: number;
  /** The machine's busy cores less the nodes' and the generator's: the other cluster, the orchestrator, and anyone else on the machine. */
  otherCpuCores: number;
}

export interface NodeCountResult {
  setups: string[];
  keys: number;
  keysPerRequest: number;
  concurrency: number;
  rounds: Array<Record<string, Record<Operation, PhaseRun>>>;
  /** Per operation and setup, the median over rounds of ops/s. */
  medianOpsPerSecond: Record<Operation, Record<string, number>>;
  /** Per operation: 2 nodes x 1 actor over 1 node x 2 actors, the median of the rounds' ratios, and each round's. */
  ratioTwoNodesToOne: Record<Operation, number>;
  ratiosByRound: Record<Operation, number[]>;
}

function generatorOptions(config: ClusterBenchConfig, nodes: readonly BenchNode[]): Partial<LoadOptions> {
  const options = config.nodeCount;
  return {
    host: nodes[0].host,
    portOffset: nodes[0].options.portOffset,
    concurrency: options.concurrency,
    keysPerRequest: options.keysPerRequest,
    keyCount: options.keyCount,
    valueBytes: config.valueBytes,
    skew: 0,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    seed: config.seed,
  };
}

async function runPhase(
  config: ClusterBenchConfig,
  nodes: readonly BenchNode[],
  operation: Operation,
): Promise<PhaseRun> {
  const trace = new CpuTrace(nodes);
  const result = await runJsonProcess<LoadResult>(
    GENERATOR_PATH,
    { ...generatorOptions(config, nodes), putFraction: operation === "put" ? 1 : 0 },
    RUN_TIMEOUT_MS,
  );
  trace.stop();
  const measuredEndMs = performance.now() - GENERATOR_EXIT_MS;
  const { nodesCpuCores, machineBusyCores } = trace.coresBetween(
    measuredEndMs - result.measuredSeconds * 1000,
    measuredEndMs,
  );
  return {
    opsPerSecond: Math.round(result.opsPerSecond),
    latencyMsP50: result.latencyMsP50,
    latencyMsP99: result.latencyMsP99,
    tupleErrors: result.tupleErrors,
    lostRequests: result.lostRequests,
    generatorCpuCores: result.generatorCpuCores,
    nodesCpuCores,
    otherCpuCores: Math.max(0, machineBusyCores - nodesCpuCores - result.generatorCpuCores),
  };
}

/** Starts a setup's cluster on its own port offset and writes every key once. */
async function startSetup(config: ClusterBenchConfig, setup: Setup, portOffset: number): Promise<BenchNode[]> {
  const nodes = await startCluster(
    setup.nodes,
    clusterOptions(config, portOffset, setup.threadsPerNode, 1, ["--local-replication=1"]),
  );
  try {
    await runJsonProcess<LoadResult>(
      GENERATOR_PATH,
      { ...generatorOptions(config, nodes), keysPerRequest: 1, preload: true, warmupMs: 0, durationMs: 0 },
      RUN_TIMEOUT_MS,
    );
    return nodes;
  } catch (error) {
    await killNodes(nodes);
    throw error;
  }
}

async function measureRound(
  config: ClusterBenchConfig,
  clusters: ReadonlyMap<Setup, BenchNode[]>,
  round: number,
): Promise<Record<string, Record<Operation, PhaseRun>>> {
  const order = round % 2 === 0 ? SETUPS : [...SETUPS].reverse();
  const runs: Record<string, Record<Operation, PhaseRun>> = Object.fromEntries(
    SETUPS.map((setup) => [setup.name, {} as Record<Operation, PhaseRun>]),
  );
  for (const operation of OPERATIONS) {
    for (const setup of order) {
      runs[setup.name][operation] = await runPhase(config, clusters.get(setup)!, operation);
      console.log(
        `round ${round + 1}, ${setup.name} ${operation}-${config.nodeCount.keysPerRequest}: ${JSON.stringify(runs[setup.name][operation])}`,
      );
    }
  }
  return runs;
}

export async function measureNodeCount(
  config: ClusterBenchConfig,
  portOffsets: readonly number[],
): Promise<NodeCountResult> {
  const clusters = new Map<Setup, BenchNode[]>();
  const rounds: NodeCountResult["rounds"] = [];
  try {
    for (const [index, setup] of SETUPS.entries())
      clusters.set(setup, await startSetup(config, setup, portOffsets[index]));
    for (let round = 0; round < config.nodeCount.rounds; round++)
      rounds.push(await measureRound(config, clusters, round));
  } finally {
    for (const nodes of clusters.values()) await killNodes(nodes);
  }
  const [one, two] = SETUPS.map((setup) => setup.name);
  const ratiosByRound = Object.fromEntries(
    OPERATIONS.map((op) => [op, rounds.map((runs) => runs[two][op].opsPerSecond / runs[one][op].opsPerSecond)]),
  ) as Record<Operation, number[]>;
  return {
    setups: SETUPS.map((setup) => setup.name),
    keys: config.nodeCount.keyCount,
    keysPerRequest: config.nodeCount.keysPerRequest,
    concurrency: config.nodeCount.concurrency,
    rounds,
    medianOpsPerSecond: Object.fromEntries(
      OPERATIONS.map((op) => [
        op,
        Object.fromEntries(SETUPS.map(({ name }) => [name, median(rounds.map((runs) => runs[name][op].opsPerSecond))])),
      ]),
    ) as NodeCountResult["medianOpsPerSecond"],
    ratioTwoNodesToOne: Object.fromEntries(OPERATIONS.map((op) => [op, median(ratiosByRound[op])])) as Record<
      Operation,
      number
    >,
    ratiosByRound,
  };
}
