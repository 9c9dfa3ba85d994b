/**
 * How far the stable time trails the clock (docs/causal-stability.md §10), idle: one node,
 * then a cluster of `--nodes` (3) on 127.0.0.1–N at global replication 2. A client on this
 * machine reads `--keys` absent keys every `--interval-ms` for `--seconds` and takes, from
 * each answer, its clock minus the stable time the answer carries (the client and nodes
 * share one clock). What is written within the trail stays unstable: writers list it and
 * readers close it.
 *
 *   node -r ./bench/register.js bench/consistency/stable-trail.ts [--seconds N] [--nodes N]
 *     [--interval-ms N] [--port-offset N] [--causal-accept-lag-ms N] [--out FILE.json]
 *
 * Writes FILE.json and FILE.svg (bench/results/consistency-stable-trail/stable-trail-2core.* by default).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { AnnaClient } from "../../src/client/anna-client";
import { type BenchNode, killNodes, startCluster } from "../cluster/nodes";
import { sleep, waitUntil } from "../cluster/wait";
import { positiveInteger } from "../options";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";

const KEYS = ["trail-a", "trail-b", "trail-c"];
const FIRST_REPORT_TIMEOUT_MS = 30_000;

interface Options {
  seconds: number;
  nodes: number;
  intervalMs: number;
  portOffset: number;
  causalAcceptLagMs: number | undefined;
}

interface Trail {
  nodes: number;
  samples: number;
  /** Answers without a stable time (none yet, or a change of members). */
  answersWithoutStableTime: number;
  trailMs: { p10: number; p50: number; p90: number; max: number };
}

function parseRun(): { options: Options; jsonPath: string } {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["seconds", "nodes", "interval-ms", "port-offset", "causal-accept-lag-ms", "out"].map((name) => [
        name,
        { type: "string" as const },
      ]),
    ),
  });
  const options: Options = {
    seconds: positiveInteger(values.seconds, 5, "--seconds"),
    nodes: positiveInteger(values.nodes, 3, "--nodes"),
    intervalMs: positiveInteger(values["interval-ms"], 20, "--interval-ms"),
    portOffset: positiveInteger(values["port-offset"], 15000, "--port-offset"),
    causalAcceptLagMs:
      values["causal-accept-lag-ms"] === undefined
        ? undefined
        : positiveInteger(values["causal-accept-lag-ms"], 0, "--causal-accept-lag-ms"),
  };
  if (options.nodes < 2) throw new RangeError("--nodes must be at least 2 (one node is measured first anyway)");
  const jsonPath = path.resolve(
    values.out ?? path.join(RESULTS_DIR, "consistency-stable-trail", "stable-trail-2core.json"),
  );
  return { options, jsonPath };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

async function measure(options: Options, count: number): Promise<Trail> {
  const nodes: BenchNode[] = await startCluster(count, {
    portOffset: options.portOffset,
    threads: 2,
    globalReplication: Math.min(count, 2),
    args: options.causalAcceptLagMs === undefined ? [] : [`--causal-accept-lag-ms=${options.causalAcceptLagMs}`],
  });
  const client = new AnnaClient({ routingAddress: nodes[0].routingAddress });
  try {
    const trailOfRead = async (): Promise<number[] | undefined> => {
      const values = await client.getMany(KEYS, { absentAsValues: true });
      const receivedMs = Date.now();
      const stable = [...values.values()].map((value) => value?.stableMicros);
      if (stable.some((micros) => micros === undefined)) return undefined;
      return stable.map((micros) => receivedMs - micros! / 1000);
    };
    await waitUntil(async () => (await trailOfRead()) !== undefined, {
      timeoutMs: FIRST_REPORT_TIMEOUT_MS,
      pollMs: 100,
      what: () => `a stable time from ${count} node(s)`,
    });
    const trails: number[] = [];
    let withoutStableTime = 0;
    const endMs = performance.now() + options.seconds * 1000;
    while (performance.now() < endMs) {
      const trail = await trailOfRead();
      if (trail === undefined) withoutStableTime++;
      else trails.push(...trail);
      await sleep(options.intervalMs);
    }
    trails.sort((a, b) => a - b);
    return {
      nodes: count,
      samples: trails.length,
      answersWithoutStableTime: withoutStableTime,
      trailMs: {
        p10: round(percentile(trails, 0.1)),
        p50: round(percentile(trails, 0.5)),
        p90: round(percentile(trails, 0.9)),
        max: round(trails.at(-1)!),
      },
    };
  } finally {
    await client.close();
    await killNodes(nodes);
  }
}

async function main(): Promise<void> {
  const { options, jsonPath } = parseRun();
  const machine = machineInfo();
  const trails: Trail[] = [];
  for (const count of [1, options.nodes]) {
    trails.push(await measure(options, count));
    console.log(JSON.stringify(trails.at(-1)));
  }
  const written = writeResults(
    path.dirname(jsonPath),
    path.basename(jsonPath, ".json"),
    { benchmark: "stable-trail", machine, options, trails },
    [
      {
        title: "How far the stable time trails the clock, idle (p10 / p50 / p90)",
        yLabel: "ms",
        groups: trails.map((trail) => `${trail.nodes} node(s)`),
        series: (["p10", "p50", "p90"] as const).map((name) => ({
          name,
          values: trails.map((trail) => trail.trailMs[name]),
        })),
      },
    ],
  );
  console.log(`wrote ${written.join(", ")}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
