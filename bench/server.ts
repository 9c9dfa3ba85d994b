/**
 * annakv against Redis on one machine (`npm run bench:server`): the closed-loop generator
 * against `annakv start`, then redis-benchmark against redis-server, at the same
 * concurrency, keyspace, key and value sizes. Single-key requests face unpipelined Redis;
 * 16-key requests face `-P 16`. Writes bench/results/server.json and server.svg.
 *
 *   node -r ./bench/register.js bench/server.ts [--quick] [--engines wasm,ts] [--threads N]
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { EngineName } from "../src/core/store";
import { ACTOR_REQUEST_BASE_PORT, metricsPort, ROUTING_BASE_PORT } from "../src/node/ports";
import type { BarChart } from "./chart";
import type { LoadOptions, LoadResult } from "./load-generator";
import { findRedisTools, preloadRedis, RedisBenchmarkResult, RedisTools, runRedisBenchmark, startRedis, waitForPort } from "./redis";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "./report";

interface ServerBenchConfig {
  /** Engines measured in one run, one node after the other, each against the same Redis run. */
  engines: EngineName[];
  threads: number;
  /** Far from the test suite's offsets, so a bench and the tests can share the machine. */
  portOffset: number;
  redisPort: number;
  concurrency: number;
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  /** Keys per request of the pipelined comparison, and Redis's -P. */
  batchKeys: number;
  zipfSkew: number;
  warmupMs: number;
  durationMs: number;
  /** redis-benchmark -n, per test (SET, GET): unpipelined and pipelined runs. */
  redisRequests: number;
  redisRequestsPipelined: number;
  seed: number;
}

const FULL_CONFIG: ServerBenchConfig = {
  engines: ["wasm", "ts"],
  threads: 2,
  portOffset: 3100,
  redisPort: 7399,
  concurrency: 50,
  keyCount: 100_000,
  keyBytes: 16,
  valueBytes: 64,
  batchKeys: 16,
  zipfSkew: 1.0,
  warmupMs: 1000,
  durationMs: 5000,
  redisRequests: 300_000,
  redisRequestsPipelined: 2_000_000,
  seed: 20240601,
};

const QUICK_CONFIG: ServerBenchConfig = { ...FULL_CONFIG, warmupMs: 300, durationMs: 1500, redisRequests: 50_000, redisRequestsPipelined: 300_000 };

const REPO_ROOT = path.resolve(__dirname, "..");
const CLI_PATH = path.join(REPO_ROOT, "dist/cli/main.js");
const REGISTER_PATH = path.join(__dirname, "register.js");
const GENERATOR_PATH = path.join(__dirname, "load-generator.ts");
const NODE_START_TIMEOUT_MS = 30_000;
const NODE_STOP_TIMEOUT_MS = 15_000;

/** One annakv measurement: what ran, what the generator saw, where the actors' time went. */
interface AnnakvRun {
  name: string;
  keysPerRequest: number;
  skew: number;
  putFraction: number;
  result: LoadResult;
  actorTime: ActorTimeShares | null;
}

/** Shares of the actors' request-handling time by stage, and of tuples by actor (skew shows here). */
interface ActorTimeShares {
  decodeShare: number;
  storeShare: number;
  encodeShare: number;
  /** Actor busy ms (decode + store + encode) per 1000 tuples. */
  busyMsPerThousandTuples: number;
  tupleShareByActor: number[];
}

interface ActorCountersSnapshot {
  tid: number;
  counters: { getTuples: number; putTuples: number; decodeMs: number; storeMs: number; encodeMs: number };
}

/** Actors post their counters every second: wait that long after a run before reading them. */
const ACTOR_STATS_SETTLE_MS = 1200;

async function actorCounters(config: ServerBenchConfig): Promise<ActorCountersSnapshot[] | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort(config.portOffset)}/status`);
    return ((await response.json()) as { actors: ActorCountersSnapshot[] }).actors;
  } catch {
    return undefined;
  }
}

function actorTimeShares(before: ActorCountersSnapshot[] | undefined, after: ActorCountersSnapshot[] | undefined): ActorTimeShares | null {
  if (before === undefined || after === undefined) return null;
  const delta = after.map(({ tid, counters }) => {
    const old = before.find((actor) => actor.tid === tid)?.counters ?? { getTuples: 0, putTuples: 0, decodeMs: 0, storeMs: 0, encodeMs: 0 };
    return {
      tuples: counters.getTuples + counters.putTuples - old.getTuples - old.putTuples,
      decodeMs: counters.decodeMs - old.decodeMs,
      storeMs: counters.storeMs - old.storeMs,
      encodeMs: counters.encodeMs - old.encodeMs,
    };
  });
  const sum = (pick: (d: (typeof delta)[number]) => number) => delta.reduce((total, d) => total + pick(d), 0);
  const busyMs = sum((d) => d.decodeMs + d.storeMs + d.encodeMs);
  const tuples = sum((d) => d.tuples);
  return {
    decodeShare: round(sum((d) => d.decodeMs) / busyMs),
    storeShare: round(sum((d) => d.storeMs) / busyMs),
    encodeShare: round(sum((d) => d.encodeMs) / busyMs),
    busyMsPerThousandTuples: round((busyMs * 1000) / tuples),
    tupleShareByActor: delta.map((d) => round(d.tuples / tuples)),
  };
}

interface RunningNode {
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

async function startAnnakv(config: ServerBenchConfig, engine: EngineName): Promise<RunningNode> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const args = [CLI_PATH, "start", "--threads", String(config.threads), "--port-offset", String(config.portOffset), "--engine", engine, "--log-level", "warn"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const ports = [ROUTING_BASE_PORT, ...Array.from({ length: config.threads }, (_, tid) => ACTOR_REQUEST_BASE_PORT + tid)].map((port) => port + config.portOffset);
  const died = exited.then((code) => {
    throw new Error(`annakv exited with ${code} while starting:\n${output}`);
  });
  // Handled here so that the exit at SIGTERM, long after start, is no unhandled rejection.
  died.catch(() => undefined);
  await Promise.race([Promise.all(ports.map((port) => waitForPort(port, NODE_START_TIMEOUT_MS))), died]);
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), NODE_STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the generator in a process of its own, so it never shares the node's event loop. */
async function runGenerator(options: Partial<LoadOptions>): Promise<LoadResult> {
  const args = ["-r", REGISTER_PATH, GENERATOR_PATH];
  for (const [name, value] of Object.entries(options)) {
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    if (typeof value === "boolean") {
      if (value) args.push(flag);
    } else args.push(flag, String(value));
  }
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as LoadResult;
}

async function measureAnnakv(config: ServerBenchConfig, engine: EngineName): Promise<{ runs: AnnakvRun[]; nodeExitCode: number | null }> {
  const node = await startAnnakv(config, engine);
  const runs: AnnakvRun[] = [];
  try {
    const common: Partial<LoadOptions> = {
      portOffset: config.portOffset,
      concurrency: config.concurrency,
      keyCount: config.keyCount,
      keyBytes: config.keyBytes,
      valueBytes: config.valueBytes,
      warmupMs: config.warmupMs,
      durationMs: config.durationMs,
      seed: config.seed,
      serverPid: node.child.pid!,
    };
    // Every key written once first, so every GET finds its key, as after Redis's preload.
    await runGenerator({ ...common, keysPerRequest: 1, preload: true, warmupMs: 0, durationMs: 0 });
    const plans = [
      { name: "put-1", keysPerRequest: 1, skew: 0, putFraction: 1 },
      { name: "get-1", keysPerRequest: 1, skew: 0, putFraction: 0 },
      { name: `put-${config.batchKeys}`, keysPerRequest: config.batchKeys, skew: 0, putFraction: 1 },
      { name: `get-${config.batchKeys}`, keysPerRequest: config.batchKeys, skew: 0, putFraction: 0 },
      { name: `zipf-mix-1`, keysPerRequest: 1, skew: config.zipfSkew, putFraction: 0.5 },
      { name: `zipf-mix-${config.batchKeys}`, keysPerRequest: config.batchKeys, skew: config.zipfSkew, putFraction: 0.5 },
    ];
    for (const { name, ...plan } of plans) {
      const countersBefore = await actorCounters(config);
      const result = await runGenerator({ ...common, ...plan });
      await new Promise((resolve) => setTimeout(resolve, ACTOR_STATS_SETTLE_MS));
      const actorTime = actorTimeShares(countersBefore, await actorCounters(config));
      console.log(`annakv (${engine}) ${name}: ${Math.round(result.opsPerSecond)} ops/s, p50 ${result.latencyMsP50.toFixed(3)} ms, p99 ${result.latencyMsP99.toFixed(3)} ms, node ${result.serverCpuCores.toFixed(2)} cores, generator ${result.generatorCpuCores.toFixed(2)} cores, errors ${JSON.stringify(result.tupleErrors)}, lost ${result.lostRequests}, actor time ${JSON.stringify(actorTime)}`);
      runs.push({ name, keysPerRequest: plan.keysPerRequest, skew: plan.skew, putFraction: plan.putFraction, result, actorTime });
    }
  } catch (error) {
    console.error(`annakv output:\n${node.output()}`);
    throw error;
  } finally {
    const code = await node.stop();
    if (code !== 0) console.error(`annakv exited with ${code} on SIGTERM:\n${node.output()}`);
    console.log(`annakv stopped (exit code ${code})`);
  }
  return { runs, nodeExitCode: node.child.exitCode };
}

async function measureRedis(config: ServerBenchConfig, tools: RedisTools): Promise<{ version: string; unpipelined: RedisBenchmarkResult; pipelined: RedisBenchmarkResult }> {
  const redis = await startRedis(tools, config.redisPort);
  try {
    await preloadRedis(tools, config.redisPort, config.keyCount, config.valueBytes);
    const common = { port: config.redisPort, concurrency: config.concurrency, valueBytes: config.valueBytes, keyCount: config.keyCount, serverPid: redis.process.pid! };
    const unpipelined = await runRedisBenchmark(tools, { ...common, requests: config.redisRequests, pipeline: 1 });
    const pipelined = await runRedisBenchmark(tools, { ...common, requests: config.redisRequestsPipelined, pipeline: config.batchKeys });
    for (const run of [unpipelined, pipelined]) {
      for (const test of run.tests) console.log(`redis ${run.command.includes("-P") ? `-P ${config.batchKeys}` : "unpipelined"} ${test.test}: ${Math.round(test.opsPerSecond)} ops/s, p50 ${test.latencyMsP50} ms, p99 ${test.latencyMsP99} ms`);
    }
    return { version: redis.version, unpipelined, pipelined };
  } finally {
    await redis.stop();
  }
}

function parseConfig(): { config: ServerBenchConfig; quick: boolean } {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      engines: { type: "string" },
      threads: { type: "string" },
      concurrency: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const config = quick ? { ...QUICK_CONFIG } : { ...FULL_CONFIG };
  if (values.engines !== undefined) {
    const engines = values.engines.split(",");
    for (const engine of engines) if (engine !== "wasm" && engine !== "ts") throw new RangeError(`--engines takes wasm and/or ts, got ${engine}`);
    config.engines = engines as EngineName[];
  }
  if (values.threads !== undefined) config.threads = Number(values.threads);
  if (values.concurrency !== undefined) config.concurrency = Number(values.concurrency);
  return { config, quick };
}

/** The four comparisons (operation x keys per request): annakv's figures, Redis's and their ratio. */
function compare(config: ServerBenchConfig, runs: AnnakvRun[], redis: Awaited<ReturnType<typeof measureRedis>> | undefined) {
  const comparisons = [];
  for (const keysPerRequest of [1, config.batchKeys]) {
    for (const [operation, redisTest] of [["put", "SET"], ["get", "GET"]] as const) {
      const annakv = runs.find((run) => run.name === `${operation}-${keysPerRequest}`)!.result;
      const redisRun = keysPerRequest === 1 ? redis?.unpipelined : redis?.pipelined;
      const redisResult = redisRun?.tests.find((test) => test.test === redisTest);
      comparisons.push({
        name: `${operation} ${keysPerRequest === 1 ? "1 key/request vs unpipelined" : `${keysPerRequest} keys/request vs -P ${keysPerRequest}`}`,
        keysPerRequest,
        operation,
        annakv: {
          opsPerSecond: Math.round(annakv.opsPerSecond),
          latencyMsP50: round(annakv.latencyMsP50),
          latencyMsP99: round(annakv.latencyMsP99),
          serverCpuCores: round(annakv.serverCpuCores),
          generatorCpuCores: round(annakv.generatorCpuCores),
        },
        redis: redisResult && {
          opsPerSecond: Math.round(redisResult.opsPerSecond),
          latencyMsP50: redisResult.latencyMsP50,
          latencyMsP99: redisResult.latencyMsP99,
          serverCpuCores: round(redisRun!.serverCpuCores),
          generatorCpuCores: round(redisRun!.generatorCpuCores),
        },
        annakvToRedisOpsRatio: redisResult ? round(annakv.opsPerSecond / redisResult.opsPerSecond) : null,
        annakvToRedisP99Ratio: redisResult ? round(annakv.latencyMsP99 / redisResult.latencyMsP99) : null,
      });
    }
  }
  return comparisons;
}

function charts(comparisonsByEngine: Map<EngineName, ReturnType<typeof compare>>, config: ServerBenchConfig): BarChart[] {
  const first = [...comparisonsByEngine.values()][0];
  const groups = first.map(({ operation, keysPerRequest }) => `${operation} x${keysPerRequest}`);
  const series = (metric: "opsPerSecond" | "latencyMsP50" | "latencyMsP99") => [
    ...[...comparisonsByEngine].map(([engine, comparisons]) => ({ name: `annakv (${engine})`, values: comparisons.map((c) => c.annakv[metric]) })),
    { name: "redis", values: first.map((c) => c.redis?.[metric] ?? NaN) },
  ];
  const setting = `${config.concurrency} in flight, ${config.keyCount.toLocaleString("en")} keys, ${config.valueBytes} B values`;
  return [
    { title: `annakv vs Redis: ops/s (${setting})`, yLabel: "ops/s", groups, series: series("opsPerSecond") },
    { title: "annakv vs Redis: p50 request latency", yLabel: "ms", groups, series: series("latencyMsP50") },
    { title: "annakv vs Redis: p99 request latency", yLabel: "ms", groups, series: series("latencyMsP99") },
  ];
}

async function main(): Promise<void> {
  const { config, quick } = parseConfig();
  const started = performance.now();
  console.log(`server bench: ${JSON.stringify(config)}`);
  const measured = new Map<EngineName, Awaited<ReturnType<typeof measureAnnakv>>>();
  for (const engine of config.engines) measured.set(engine, await measureAnnakv(config, engine));
  const tools = findRedisTools();
  if (tools === undefined) console.warn("redis-server, redis-benchmark or redis-cli not found (apt-get install -y redis-server redis-tools): recording annakv only");
  const redis = tools && (await measureRedis(config, tools));
  const comparisonsByEngine = new Map([...measured].map(([engine, { runs }]) => [engine, compare(config, runs, redis)] as const));
  const result = {
    benchmark: "server",
    machine: machineInfo(),
    config,
    redisVersion: redis?.version ?? null,
    comparisons: Object.fromEntries(comparisonsByEngine),
    annakvRuns: Object.fromEntries([...measured].map(([engine, { runs }]) => [engine, runs])),
    annakvExitCodeOnSigterm: Object.fromEntries([...measured].map(([engine, { nodeExitCode }]) => [engine, nodeExitCode])),
    redisRuns: redis ? { unpipelined: redis.unpipelined, pipelined: redis.pipelined } : null,
    target: "annakv ops/s >= Redis ops/s in both comparisons",
    runSeconds: round((performance.now() - started) / 1000),
  };
  for (const file of writeResults(quick ? QUICK_RESULTS_DIR : RESULTS_DIR, "server", result, charts(comparisonsByEngine, config))) console.log(`wrote ${file}`);
  for (const [engine, comparisons] of comparisonsByEngine) console.table(comparisons.map((c) => ({ engine, comparison: c.name, annakvOps: c.annakv.opsPerSecond, redisOps: c.redis?.opsPerSecond, ratio: c.annakvToRedisOpsRatio, annakvP99: c.annakv.latencyMsP99, redisP99: c.redis?.latencyMsP99 })));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
