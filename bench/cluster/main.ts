/**
 * What clustering costs on this machine (`npm run bench:cluster`): failure detection,
 * re-replication and handoff of many keys, serving throughput during a join, the bytes
 * gossip and anti-entropy send, and throughput against node count at equal actors. Every
 * cluster is real `annakv start` processes on 127.0.0.N; see bench/cluster/README.md.
 *
 *   node -r ./bench/register.js bench/cluster/main.ts [--quick] [--out FILE.json] [--only failure,handoff,join,gossip,nodes] [--handoff-keys N] [--port-offset N] [--logs DIR] [--commit HASH]
 *
 * Writes FILE.json and FILE.svg: bench/results/cluster-2core.* by default, or
 * bench/results/tmp/cluster-2core.* with --quick.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "../report";
import { ClusterFigures, clusterCharts } from "./charts";
import {
  ClusterBenchConfig,
  FULL_CONFIG,
  PORT_OFFSET_MAX,
  PORT_OFFSET_SLOTS,
  PORT_OFFSET_STEP,
  QUICK_CONFIG,
} from "./config";
import { measureFailureDetection } from "./failure-detection";
import { measureGossipCost } from "./gossip-cost";
import { measureHandoff } from "./handoff";
import { measureJoinThroughput } from "./join-throughput";
import { measureNodeCount } from "./node-count";
import { keepNodeLogs, killAllNodes } from "./nodes";
import { positiveInteger } from "../options";

const SECTIONS = ["failure", "handoff", "join", "gossip", "nodes"] as const;
type Section = (typeof SECTIONS)[number];
const RESULT_NAME = "cluster-2core";
const FULL_SIZE_HANDOFF_KEYS = 1_000_000;

interface Run {
  /** The commit measured, when given (a tree exported with `git archive`, not a checkout); otherwise asked of git. */
  commit: string | undefined;
  config: ClusterBenchConfig;
  quick: boolean;
  sections: Section[];
  jsonPath: string;
}

function parseRun(): Run {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      "handoff-keys": { type: "string" },
      "port-offset": { type: "string" },
      logs: { type: "string" },
      commit: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  if (values.logs !== undefined) keepNodeLogs(path.resolve(values.logs));
  const config: ClusterBenchConfig = structuredClone(quick ? QUICK_CONFIG : FULL_CONFIG);
  config.handoff.keyCount = positiveInteger(values["handoff-keys"], config.handoff.keyCount, "--handoff-keys");
  config.portOffset = positiveInteger(values["port-offset"], config.portOffset, "--port-offset");
  if (config.portOffset + (PORT_OFFSET_SLOTS - 1) * PORT_OFFSET_STEP > PORT_OFFSET_MAX) {
    throw new RangeError(
      `--port-offset ${config.portOffset} leaves no room for ${PORT_OFFSET_SLOTS} clusters ${PORT_OFFSET_STEP} apart up to ${PORT_OFFSET_MAX} (ports below the ephemeral range)`,
    );
  }
  const sections =
    values.only === undefined
      ? [...SECTIONS]
      : values.only.split(",").map((name) => {
          if (!(SECTIONS as readonly string[]).includes(name))
            throw new RangeError(`--only takes ${SECTIONS.join(", ")}; got ${name}`);
          return name as Section;
        });
  const jsonPath = path.resolve(
    values.out ?? path.join(quick ? QUICK_RESULTS_DIR : RESULTS_DIR, `${RESULT_NAME}.json`),
  );
  return { commit: values.commit, config, quick, sections, jsonPath };
}

/** The commit measured, and the files that differed from it (another engineer may be editing src/ meanwhile). */
function commitInfo(given: string | undefined): { commit: string; uncommittedPaths: string[] } {
  if (given !== undefined) return { commit: given, uncommittedPaths: [] };
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: path.resolve(__dirname, "../.."), encoding: "utf8" });
  try {
    // Porcelain lines are "XY path": two status columns, a space, the path.
    return {
      commit: git("rev-parse", "HEAD").trim(),
      uncommittedPaths: git("status", "--porcelain")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.slice(3)),
    };
  } catch {
    return { commit: "unknown", uncommittedPaths: [] };
  }
}

/** Runs each section in turn, each cluster on its own port offsets; notes how long each took. */
async function measure(
  run: Run,
): Promise<{ figures: Partial<ClusterFigures>; sectionSeconds: Partial<Record<Section, number>> }> {
  const offset = (slot: number) => run.config.portOffset + slot * PORT_OFFSET_STEP;
  const figures: Partial<ClusterFigures> = {};
  const sectionSeconds: Partial<Record<Section, number>> = {};
  const measurements: Record<Section, () => Promise<void>> = {
    failure: async () => void (figures.failureDetection = await measureFailureDetection(run.config, offset(0))),
    handoff: async () => void (figures.handoff = await measureHandoff(run.config, offset(1))),
    join: async () => void (figures.joinThroughput = await measureJoinThroughput(run.config, offset(2))),
    gossip: async () => void (figures.gossipCost = await measureGossipCost(run.config, [offset(3), offset(4)])),
    nodes: async () => void (figures.nodeCount = await measureNodeCount(run.config, [offset(5), offset(6)])),
  };
  for (const section of run.sections) {
    const startedMs = performance.now();
    await measurements[section]();
    sectionSeconds[section] = (performance.now() - startedMs) / 1000;
  }
  return { figures, sectionSeconds };
}

/** The targets the design sets, against what was measured. */
function targets(figures: Partial<ClusterFigures>) {
  const join = figures.joinThroughput;
  const nodes = figures.nodeCount;
  const leave = figures.handoff?.leave;
  return {
    // Issue #13: serving during a join at least half of before. The mean over the join is
    // that figure; the worst second is held to the same bar, stricter than the issue asks.
    joinMeanToBefore: join && {
      target: ">= 0.5 (the joiner's process start-up apart)",
      measured: join.meanToBeforeRatio,
      met: join.meanToBeforeRatio >= 0.5,
    },
    joinMinWindowToBefore: join && {
      target: ">= 0.5",
      measured: join.minToBeforeRatio,
      met: join.minToBeforeRatio >= 0.5,
    },
    joinRequestErrors: join && { target: "0", measured: join.errorCount, met: join.errorCount === 0 },
    twoNodesToOneNodeOps: nodes && {
      target: ">= 0.8 (each operation)",
      measured: nodes.ratioTwoNodesToOne,
      met: Object.values(nodes.ratioTwoNodesToOne).every((ratio) => ratio >= 0.8),
    },
    leaveExitCode: leave && { target: "0", measured: leave.exit.code, met: leave.exit.code === 0 },
  };
}

/** Numbers to 3 significant digits (integers kept), so the JSON diffs readably. */
function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, item) => (typeof item === "number" ? round(item) : item)));
}

async function main(): Promise<void> {
  const run = parseRun();
  const startedMs = performance.now();
  const loadAverageAtStart = os.loadavg();
  const date = new Date().toISOString();
  console.log(
    `cluster bench (${run.quick ? "quick" : "full"}): ${run.sections.join(", ")}; ${JSON.stringify(run.config)}`,
  );
  const { figures, sectionSeconds } = await measure(run);
  const notes = [
    `${os.availableParallelism()} cores shared by every process: nodes (one actor thread + a main thread each), the load processes and this orchestrator, none pinned; the nodes' and generators' CPU use is recorded where it matters (nodeCount).`,
    ...(run.config.handoff.keyCount < FULL_SIZE_HANDOFF_KEYS && run.sections.includes("handoff")
      ? [
          `handoff measured with ${run.config.handoff.keyCount} keys, not ${FULL_SIZE_HANDOFF_KEYS}${run.quick ? " (--quick)" : ""}`,
        ]
      : []),
  ];
  const result = {
    benchmark: "cluster",
    quick: run.quick,
    machine: {
      ...machineInfo(),
      date,
      finishedAt: new Date().toISOString(),
      loadAverage1mAtStart: loadAverageAtStart[0],
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    ...commitInfo(run.commit),
    config: run.config,
    notes,
    targets: targets(figures),
    ...figures,
    sectionSeconds,
    runSeconds: (performance.now() - startedMs) / 1000,
  };
  const directory = path.dirname(run.jsonPath);
  const name = path.basename(run.jsonPath, ".json");
  for (const file of writeResults(directory, name, rounded(result), clusterCharts(figures)))
    console.log(`wrote ${file}`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllNodes();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    killAllNodes();
    process.exit(1);
  },
);
