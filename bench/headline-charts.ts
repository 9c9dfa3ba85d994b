/**
 * README's charts: one claim each, drawn from the committed results (nothing is measured
 * here). Run after a benchmark whose figures README quotes:
 *
 *   node -r ./bench/register.js bench/headline-charts.ts
 *
 * Writes docs/images/{scaling-16-threads,node-vs-redis,wasm-vs-ts}.svg.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BarChart, chartsSvg } from "./chart";

const RESULTS_DIR = path.join(__dirname, "results");
const IMAGES_DIR = path.join(__dirname, "..", "docs", "images");

function results<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(RESULTS_DIR, name), "utf8")) as T;
}

interface ScalingRun {
  system: string;
  workload: string;
  zipf: number;
  threads: number;
  opsPerSec: number;
}

/** Update-only throughput at 16 threads by skew: partitioned and fully replicated actors against the shared tables, weak skews included. */
function scalingChart(): BarChart {
  const { runs } = results<{ runs: ScalingRun[] }>("scaling-h200-16core.json");
  const skews = [...new Set(runs.map((run) => run.zipf))].sort((a, b) => a - b);
  const systems: Array<[string, string]> = [
    ["shared-locked", "locked table"],
    ["shared-hogwild", "hogwild table"],
    ["annakv-partitioned-wasm", "annakv partitioned"],
    ["annakv-full-wasm", "annakv full repl."],
  ];
  const opsOf = (system: string, zipf: number) =>
    runs.find((run) => run.system === system && run.workload === "update" && run.threads === 16 && run.zipf === zipf)
      ?.opsPerSec ?? NaN;
  return {
    title: "16 threads, update-only, 1 KiB values, by skew",
    yLabel: "ops/s",
    groups: skews.map((zipf) => `Zipf ${zipf}`),
    series: systems.map(([system, name]) => ({ name, values: skews.map((zipf) => opsOf(system, zipf)) })),
  };
}

interface ServerComparison {
  operation: string;
  keysPerRequest: number;
  annakv: { opsPerSecond: number };
  redis?: { opsPerSecond: number };
}

/** The node (one actor, two actors) against Redis on the same 2 cores, in the same client shape. */
function serverChart(): BarChart {
  const { comparisons } = results<{ comparisons: Record<string, ServerComparison[]> }>("server.json");
  const setups = ["annakv wasm x1", "annakv wasm x2"].filter((name) => comparisons[name] !== undefined);
  const groups = comparisons[setups[0]].map(
    ({ operation, keysPerRequest }) => `${operation}, ${keysPerRequest} key${keysPerRequest === 1 ? "" : "s"}/request`,
  );
  return {
    title: "The node vs Redis, 2 cores, 50 clients",
    yLabel: "keys/s",
    groups,
    series: [
      ...setups.map((setup) => ({
        name: setup.replace("wasm x1", "1 actor").replace("wasm x2", "2 actors"),
        values: comparisons[setup].map((comparison) => comparison.annakv.opsPerSecond),
      })),
      { name: "Redis", values: comparisons[setups[0]].map((comparison) => comparison.redis?.opsPerSecond ?? NaN) },
    ],
  };
}

type StoreFigures = Record<string, Record<string, { opsPerSecond: number }>>;

/** The Wasm store against its TypeScript twin, per key distribution, batch and per-op calls. */
function storeChart(): BarChart {
  const { opsPerSecond } = results<{ opsPerSecond: StoreFigures }>("store.json");
  const distributions = Object.keys(opsPerSecond);
  const paths = Object.keys(opsPerSecond[distributions[0]]);
  return {
    title: "The store alone: Wasm vs TypeScript, 1M keys",
    yLabel: "ops/s",
    groups: distributions,
    series: paths.map((name) => ({
      name,
      values: distributions.map((distribution) => opsPerSecond[distribution][name]?.opsPerSecond ?? NaN),
    })),
  };
}

function main(): void {
  const charts: Array<[string, BarChart]> = [
    ["scaling-16-threads.svg", scalingChart()],
    ["node-vs-redis.svg", serverChart()],
    ["wasm-vs-ts.svg", storeChart()],
  ];
  for (const [file, chart] of charts) {
    const target = path.join(IMAGES_DIR, file);
    writeFileSync(target, chartsSvg([chart]));
    console.log(`wrote ${path.relative(process.cwd(), target)}`);
  }
}

main();
