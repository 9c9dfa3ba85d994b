/**
 * annakv against Redis on one machine (`npm run bench:server`): the closed-loop generator
 * against `annakv start`, then redis-benchmark against redis-server, at the same
 * concurrency, keyspace, key and value sizes. Single-key requests face unpipelined Redis;
 * 16-key requests face `-P 16`. Also the transport floor (bench/echo-floor.ts): an echo
 * server on the node's transport at the same concurrency and frame sizes. The generator
 * and the echo's client use `--client-transport` (bench/client-link.ts): `zmtp` (default,
 * the lean client) or `zeromq` (libzmq through zeromq.js). Writes bench/results/server.json
 * and server.svg (server-zeromq-client.*, server-1-connections.* ... for other client shapes).
 *
 * On a many-core machine (bench/server-device/run.sh): `--generators G` runs the annakv
 * load in G generator processes side by side and redis-benchmark with `--threads G`;
 * `--redis-io-threads 1,4` measures Redis as it comes and with 4 I/O threads.
 *
 *   node -r ./bench/register.js bench/server.ts [--quick] [--setups wasm:2,wasm:1,ts:2] [--concurrency N]
 *     [--client-transport zmtp|zeromq] [--connections N] [--rounds N] [--generators G]
 *     [--redis-io-threads 1,4] [--warmup-ms MS] [--duration-ms MS] [--no-floors] [--no-mixes]
 *     [--no-redis] [--key-count N] [--port-offset N] [--machine NAME] [--out-dir DIR]
 *
 * Compiled to JavaScript (bench/server-device/package.sh) it runs the same way, with no
 * TypeScript at run time.
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { ACTOR_REQUEST_BASE_PORT, metricsPort, ROUTING_BASE_PORT } from "../src/protocol/ports";
import { encodeKeyRequest, encodeKeyResponse, RequestType } from "../src/protocol/anna";
import type { BarChart } from "./chart";
import type { EchoFloorResult } from "./echo-floor";
import { benchScriptPath, runJsonProcess, spawnBenchScript } from "./child-processes";
import { LoadOptions, LoadResult, runLoadInProcesses } from "./load-generator";
import {
  findRedisTools,
  preloadRedis,
  RedisBenchmarkResult,
  RedisMultiKeyResult,
  RedisTools,
  runRedisBenchmark,
  runRedisMultiKeyBenchmark,
  startRedis,
  waitForPort,
} from "./redis";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "./report";
import { FULL_CONFIG, NodeSetup, parseConfig, ServerBenchConfig, setupName } from "./server-config";
import { lwwPayloadBytes } from "./workload";

const REPO_ROOT = path.resolve(__dirname, "..");
const CLI_PATH = path.join(REPO_ROOT, "dist/cli/main.js");
const ECHO_FLOOR_PATH = benchScriptPath("echo-floor");
const NODE_START_TIMEOUT_MS = 30_000;
const NODE_STOP_TIMEOUT_MS = 15_000;

/** One annakv measurement: what ran, what the generator saw, where the actors' time went. */
interface AnnakvRun {
  name: string;
  keysPerRequest: number;
  skew: number;
  putFraction: number;
  /** Without its latency histogram (the summary keeps the quantiles). */
  result: Omit<LoadResult, "histogram">;
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

function actorTimeShares(
  before: ActorCountersSnapshot[] | undefined,
  after: ActorCountersSnapshot[] | undefined,
): ActorTimeShares | null {
  if (before === undefined || after === undefined) return null;
  const delta = after.map(({ tid, counters }) => {
    const old = before.find((actor) => actor.tid === tid)?.counters ?? {
      getTuples: 0,
      putTuples: 0,
      decodeMs: 0,
      storeMs: 0,
      encodeMs: 0,
    };
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

async function startAnnakv(config: ServerBenchConfig, { engine, threads }: NodeSetup): Promise<RunningNode> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const args = [
    CLI_PATH,
    "start",
    "--threads",
    String(threads),
    "--port-offset",
    String(config.portOffset),
    "--engine",
    engine,
    "--log-level",
    "warn",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const ports = [ROUTING_BASE_PORT, ...Array.from({ length: threads }, (_, tid) => ACTOR_REQUEST_BASE_PORT + tid)].map(
    (port) => port + config.portOffset,
  );
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

async function measureAnnakv(
  config: ServerBenchConfig,
  setup: NodeSetup,
): Promise<{ runs: AnnakvRun[]; nodeExitCode: number | null }> {
  const node = await startAnnakv(config, setup);
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
      clientTransport: config.clientTransport,
      connections: config.connections,
    };
    // Every key written once first, so every GET finds its key, as after Redis's preload.
    await runLoadInProcesses({ ...common, keysPerRequest: 1, preload: true, warmupMs: 0, durationMs: 0 }, 1);
    const compared = comparisonPlans(config).map(({ operation, keysPerRequest }) => ({
      name: `${operation}-${keysPerRequest}`,
      keysPerRequest,
      skew: 0,
      putFraction: operation === "put" ? 1 : 0,
    }));
    const mixes = [1, config.batchKeys].map((keysPerRequest) => ({
      name: `zipf-mix-${keysPerRequest}`,
      keysPerRequest,
      skew: config.zipfSkew,
      putFraction: 0.5,
    }));
    for (const { name, ...plan } of config.mixes ? [...compared, ...mixes] : compared) {
      const countersBefore = await actorCounters(config);
      const { histogram, ...result } = await runLoadInProcesses({ ...common, ...plan }, config.generators);
      await new Promise((resolve) => setTimeout(resolve, ACTOR_STATS_SETTLE_MS));
      const actorTime = actorTimeShares(countersBefore, await actorCounters(config));
      console.log(
        `${setupName(setup)} ${name}: ${Math.round(result.opsPerSecond)} ops/s, p50 ${result.latencyMsP50.toFixed(3)} ms, p99 ${result.latencyMsP99.toFixed(3)} ms, node ${result.serverCpuCores.toFixed(2)} cores, generator ${result.generatorCpuCores.toFixed(2)} cores, errors ${JSON.stringify(result.tupleErrors)}, lost ${result.lostRequests}, actor time ${JSON.stringify(actorTime)}`,
      );
      runs.push({
        name,
        keysPerRequest: plan.keysPerRequest,
        skew: plan.skew,
        putFraction: plan.putFraction,
        result,
        actorTime,
      });
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

interface RedisRuns {
  version: string;
  ioThreads: number;
  unpipelined: RedisBenchmarkResult;
  pipelined: RedisBenchmarkResult;
  /** Redis's own multi-key commands, batchKeys keys each, in the unpipelined runs' shape. */
  multiKey: { put: RedisMultiKeyResult; get: RedisMultiKeyResult };
}

async function measureRedis(config: ServerBenchConfig, tools: RedisTools, ioThreads: number): Promise<RedisRuns> {
  const redis = await startRedis(tools, config.redisPort, ioThreads);
  try {
    await preloadRedis(tools, config.redisPort, config.keyCount, config.valueBytes);
    // The same shape as annakv's clients: `connections` clients, each with its share of the
    // requests in flight (redis-benchmark -c 50; with one connection, -c 1 -P 50).
    const inFlightPerConnection = Math.round(config.concurrency / config.connections);
    const common = {
      port: config.redisPort,
      concurrency: config.connections,
      valueBytes: config.valueBytes,
      keyCount: config.keyCount,
      serverPid: redis.process.pid!,
      threads: config.generators,
    };
    const unpipelined = await runRedisBenchmark(tools, {
      ...common,
      requests: config.redisRequests,
      pipeline: inFlightPerConnection,
    });
    const pipelined = await runRedisBenchmark(tools, {
      ...common,
      requests: config.redisRequestsPipelined,
      pipeline: config.batchKeys * inFlightPerConnection,
    });
    const name = redisSetupName(ioThreads);
    for (const run of [unpipelined, pipelined]) {
      for (const test of run.tests)
        console.log(
          `${name} ${run.command.replace(/^.*?(-c \d+)/, "$1")} ${test.test}: ${Math.round(test.opsPerSecond)} ops/s, p50 ${test.latencyMsP50} ms, p99 ${test.latencyMsP99} ms`,
        );
    }
    // The same keys per request as annakv's: one MSET/MGET of batchKeys keys where -P sends batchKeys SET/GETs.
    const multiKeyCommon = {
      ...common,
      requests: Math.round(config.redisRequestsPipelined / config.batchKeys),
      pipeline: inFlightPerConnection,
      keysPerCommand: config.batchKeys,
    };
    const multiKey = {
      put: await runRedisMultiKeyBenchmark(tools, { ...multiKeyCommon, command: "MSET" }),
      get: await runRedisMultiKeyBenchmark(tools, { ...multiKeyCommon, command: "MGET" }),
    };
    for (const run of Object.values(multiKey))
      console.log(
        `${name} ${run.command.replace(/^.*?(-c \d+)/, "$1").slice(0, 60)}...: ${Math.round(run.keysPerSecond)} keys/s, p50 ${run.latencyMsP50} ms, p99 ${run.latencyMsP99} ms`,
      );
    return { version: redis.version, ioThreads, unpipelined, pipelined, multiKey };
  } finally {
    await redis.stop();
  }
}

/** A Redis setup's name in logs, JSON keys and chart legends: "redis", "redis io-threads 4". */
function redisSetupName(ioThreads: number): string {
  return ioThreads === 1 ? "redis" : `redis io-threads ${ioThreads}`;
}

/** The four comparisons, as (operation, keys per request) in the order they are reported. */
function comparisonPlans(config: ServerBenchConfig): Array<{ operation: "put" | "get"; keysPerRequest: number }> {
  return [1, config.batchKeys].flatMap((keysPerRequest) =>
    (["put", "get"] as const).map((operation) => ({ operation, keysPerRequest })),
  );
}

/** Sizes of the KeyRequest and KeyResponse frames one comparison exchanges (8-digit ids, as the generator's). */
function frameBytes(
  config: ServerBenchConfig,
  operation: "put" | "get",
  keysPerRequest: number,
): { requestBytes: number; replyBytes: number } {
  const key = "k".repeat(config.keyBytes);
  const payload = new Uint8Array(lwwPayloadBytes(config.valueBytes));
  const isPut = operation === "put";
  const requestBytes = encodeKeyRequest({
    type: isPut ? RequestType.PUT : RequestType.GET,
    tuples: Array.from({ length: keysPerRequest }, () => (isPut ? { key, lattice_type: 1, payload } : { key })),
    response_address: "tcp://127.0.0.1:40000",
    request_id: "00000000",
  }).length;
  // Fields at their proto3 default left out, as the node writes its replies.
  const replyBytes = encodeKeyResponse({
    type: isPut ? RequestType.PUT : RequestType.GET,
    tuples: Array.from({ length: keysPerRequest }, () =>
      isPut ? { key, lattice_type: 1 } : { key, lattice_type: 1, payload },
    ),
    response_id: "00000000",
  }).length;
  return { requestBytes, replyBytes };
}

interface TransportFloor extends EchoFloorResult {
  operation: "put" | "get";
  keysPerRequest: number;
  replyBytes: number;
  /** requestsPerSecond x keysPerRequest: the most ops/s a Node.js server on this transport could answer this client here. */
  opsPerSecond: number;
}

/**
 * The echo at each comparison's frame sizes, concurrency and clients, on as many threads
 * as each setup has actors (one port each); comparisons take the best of them.
 */
async function measureTransportFloors(config: ServerBenchConfig): Promise<TransportFloor[]> {
  const floors: TransportFloor[] = [];
  const threadCounts = [...new Set(config.setups.map((setup) => setup.threads))];
  for (const threads of threadCounts)
    for (const { operation, keysPerRequest } of comparisonPlans(config)) {
      const { requestBytes, replyBytes } = frameBytes(config, operation, keysPerRequest);
      const common = { port: config.echoPort, threads };
      const server = spawnBenchScript(ECHO_FLOOR_PATH, { role: "server", ...common, replyBytes }, [
        "ignore",
        "ignore",
        "inherit",
      ]);
      try {
        for (let tid = 0; tid < threads; tid++) await waitForPort(config.echoPort + tid, NODE_START_TIMEOUT_MS);
        const result = await runJsonProcess<EchoFloorResult>(ECHO_FLOOR_PATH, {
          role: "client",
          ...common,
          connections: config.connections,
          requestBytes,
          concurrency: config.concurrency,
          warmupMs: config.warmupMs,
          durationMs: config.durationMs,
          serverPid: server.pid!,
          clientTransport: config.clientTransport,
        });
        const floor = {
          ...result,
          operation,
          keysPerRequest,
          replyBytes,
          opsPerSecond: result.requestsPerSecond * keysPerRequest,
        };
        console.log(
          `echo floor ${operation}-${keysPerRequest} on ${threads} thread(s) (${requestBytes} B requests, ${replyBytes} B replies): ${Math.round(floor.opsPerSecond)} ops/s, p50 ${floor.latencyMsP50.toFixed(3)} ms, server ${floor.serverCpuCores.toFixed(2)} cores, client ${floor.clientCpuCores.toFixed(2)} cores`,
        );
        floors.push(floor);
      } finally {
        server.kill("SIGKILL");
        await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.once("exit", resolve)));
      }
    }
  return floors;
}

/** redis-benchmark's flags for the comparison with annakv requests of `keysPerRequest` keys. */
function redisShape(config: ServerBenchConfig, keysPerRequest: number): string {
  const pipeline = (keysPerRequest === 1 ? 1 : config.batchKeys) * Math.round(config.concurrency / config.connections);
  const threads = config.generators > 1 ? ` --threads ${config.generators}` : "";
  return `-c ${config.connections}${pipeline > 1 ? ` -P ${pipeline}` : ""}${threads}`;
}

/** A Redis setup's SET or GET figures in the shape of a comparison with `keysPerRequest`-key requests. */
function redisFigures(redis: RedisRuns, operation: "put" | "get", keysPerRequest: number) {
  const run = keysPerRequest === 1 ? redis.unpipelined : redis.pipelined;
  const test = run.tests.find((one) => one.test === (operation === "put" ? "SET" : "GET"));
  return (
    test && {
      opsPerSecond: Math.round(test.opsPerSecond),
      latencyMsP50: test.latencyMsP50,
      latencyMsP99: test.latencyMsP99,
      serverCpuCores: round(run.serverCpuCores),
      generatorCpuCores: round(run.generatorCpuCores),
    }
  );
}

/**
 * The four comparisons: annakv's figures, Redis's (the first Redis setup), the transport
 * floor's, and the ratios; with the other Redis setups' figures and ratios beside them.
 */
function compare(config: ServerBenchConfig, runs: AnnakvRun[], redisRuns: RedisRuns[], floors: TransportFloor[]) {
  const redis: RedisRuns | undefined = redisRuns[0];
  const otherRedis = redisRuns.slice(1);
  return comparisonPlans(config).map(({ operation, keysPerRequest }) => {
    const annakv = runs.find((run) => run.name === `${operation}-${keysPerRequest}`)!.result;
    const redisResult = redis && redisFigures(redis, operation, keysPerRequest);
    const multiKey = keysPerRequest === 1 ? undefined : redis?.multiKey[operation];
    const floor = floors
      .filter((f) => f.operation === operation && f.keysPerRequest === keysPerRequest)
      .reduce<TransportFloor | undefined>(
        (best, f) => (best === undefined || f.opsPerSecond > best.opsPerSecond ? f : best),
        undefined,
      );
    return {
      name: `${operation} ${keysPerRequest === 1 ? "1 key" : `${keysPerRequest} keys`}/request vs ${redisShape(config, keysPerRequest)}`,
      keysPerRequest,
      operation,
      annakv: {
        opsPerSecond: Math.round(annakv.opsPerSecond),
        latencyMsP50: round(annakv.latencyMsP50),
        latencyMsP99: round(annakv.latencyMsP99),
        serverCpuCores: round(annakv.serverCpuCores),
        generatorCpuCores: round(annakv.generatorCpuCores),
      },
      redis: redisResult,
      /** The other Redis setups (more io-threads), each with annakv's ratio to it. */
      otherRedis: otherRedis.map((other) => {
        const figures = redisFigures(other, operation, keysPerRequest);
        return {
          name: redisSetupName(other.ioThreads),
          ...figures,
          annakvToRedisOpsRatio: figures ? round(annakv.opsPerSecond / figures.opsPerSecond) : null,
        };
      }),
      /** Redis's MSET/MGET of as many keys per request as annakv's: the other fair reading of "16 keys a request". */
      redisMultiKey: multiKey && {
        command: `${operation === "put" ? "MSET" : "MGET"} of ${keysPerRequest} keys, ${redisShape(config, 1)}`,
        opsPerSecond: Math.round(multiKey.keysPerSecond),
        latencyMsP50: multiKey.latencyMsP50,
        latencyMsP99: multiKey.latencyMsP99,
        serverCpuCores: round(multiKey.serverCpuCores),
        generatorCpuCores: round(multiKey.generatorCpuCores),
      },
      annakvToRedisMultiKeyOpsRatio: multiKey ? round(annakv.opsPerSecond / multiKey.keysPerSecond) : null,
      transportFloor: floor && {
        serverThreads: floor.serverThreads,
        opsPerSecond: Math.round(floor.opsPerSecond),
        latencyMsP50: round(floor.latencyMsP50),
        latencyMsP99: round(floor.latencyMsP99),
      },
      annakvToRedisOpsRatio: redisResult ? round(annakv.opsPerSecond / redisResult.opsPerSecond) : null,
      annakvToRedisP99Ratio: redisResult ? round(annakv.latencyMsP99 / redisResult.latencyMsP99) : null,
      annakvToFloorOpsRatio: floor ? round(annakv.opsPerSecond / floor.opsPerSecond) : null,
      floorToRedisOpsRatio: floor && redisResult ? round(floor.opsPerSecond / redisResult.opsPerSecond) : null,
    };
  });
}

type Comparison = ReturnType<typeof compare>[number];

function charts(comparisonsBySetup: Map<string, Comparison[]>, config: ServerBenchConfig): BarChart[] {
  const first = [...comparisonsBySetup.values()][0];
  const groups = first.map(({ operation, keysPerRequest }) => `${operation} x${keysPerRequest}`);
  const series = (metric: "opsPerSecond" | "latencyMsP50" | "latencyMsP99") => [
    ...[...comparisonsBySetup].map(([name, comparisons]) => ({
      name,
      values: comparisons.map((c) => c.annakv[metric]),
    })),
    { name: "redis", values: first.map((c) => c.redis?.[metric] ?? NaN) },
    ...first[0].otherRedis.map(({ name }, index) => ({
      name,
      values: first.map((c) => c.otherRedis[index][metric] ?? NaN),
    })),
    { name: "echo floor", values: first.map((c) => c.transportFloor?.[metric] ?? NaN) },
  ];
  const setting = `${config.concurrency} in flight, ${config.keyCount.toLocaleString("en")} keys, ${config.valueBytes} B values`;
  return [
    { title: `annakv vs Redis: ops/s (${setting})`, yLabel: "ops/s", groups, series: series("opsPerSecond") },
    { title: "annakv vs Redis: p50 request latency", yLabel: "ms", groups, series: series("latencyMsP50") },
    { title: "annakv vs Redis: p99 request latency", yLabel: "ms", groups, series: series("latencyMsP99") },
  ];
}

/** One round: every setup, the floors and Redis measured once, and the comparisons they give. */
async function measureRound(config: ServerBenchConfig, index: number, tools: RedisTools | undefined) {
  console.log(`round ${index + 1} of ${config.rounds}`);
  const measured = new Map<string, Awaited<ReturnType<typeof measureAnnakv>>>();
  for (const setup of config.setups) measured.set(setupName(setup), await measureAnnakv(config, setup));
  const floors = config.floors ? await measureTransportFloors(config) : [];
  const redisRuns: RedisRuns[] = [];
  if (tools)
    for (const ioThreads of config.redisIoThreads) redisRuns.push(await measureRedis(config, tools, ioThreads));
  const redis = redisRuns[0];
  return {
    comparisons: new Map(
      [...measured].map(([name, { runs }]) => [name, compare(config, runs, redisRuns, floors)] as const),
    ),
    redisVersion: redis?.version ?? null,
    annakvRuns: Object.fromEntries([...measured].map(([name, { runs }]) => [name, runs])),
    annakvExitCodeOnSigterm: Object.fromEntries([...measured].map(([name, { nodeExitCode }]) => [name, nodeExitCode])),
    redisRuns: redisRuns.map(({ version, ...runs }) => runs),
    transportFloors: floors,
  };
}

/**
 * Per setup and comparison, the round with the median annakv/Redis ratio (all its figures
 * from that one round), with every round's ratio beside it.
 */
function medianRounds(
  rounds: Array<Map<string, Comparison[]>>,
): Map<string, Array<Comparison & { ratiosByRound: Array<number | null> }>> {
  const names = [...rounds[0].keys()];
  return new Map(
    names.map((name) => [
      name,
      rounds[0].get(name)!.map((_, index) => {
        const candidates = rounds.map((round) => round.get(name)![index]);
        const byRatio = [...candidates].sort((a, b) => (a.annakvToRedisOpsRatio ?? 0) - (b.annakvToRedisOpsRatio ?? 0));
        return {
          ...byRatio[Math.floor((byRatio.length - 1) / 2)],
          ratiosByRound: candidates.map((c) => c.annakvToRedisOpsRatio),
        };
      }),
    ]),
  );
}

async function main(): Promise<void> {
  const { config, quick } = parseConfig();
  const started = performance.now();
  console.log(`server bench: ${JSON.stringify(config)}`);
  const tools = config.redisIoThreads.length > 0 ? findRedisTools() : undefined;
  if (tools === undefined && config.redisIoThreads.length > 0)
    console.warn(
      "redis-server, redis-benchmark or redis-cli not found (apt-get install -y redis-server redis-tools): recording annakv only",
    );
  const rounds = [];
  for (let index = 0; index < config.rounds; index++) rounds.push(await measureRound(config, index, tools));
  const comparisonsBySetup = medianRounds(rounds.map((round) => round.comparisons));
  const result = {
    benchmark: "server",
    machine: { name: config.machine ?? null, ...machineInfo() },
    config,
    redisVersion: rounds[0].redisVersion,
    comparisons: Object.fromEntries(comparisonsBySetup),
    rounds: rounds.map(({ comparisons, redisVersion, ...round }) => ({
      ...round,
      comparisons: Object.fromEntries(comparisons),
    })),
    target: "annakv ops/s >= Redis ops/s in both comparisons (median round)",
    runSeconds: round((performance.now() - started) / 1000),
  };
  // One file per client shape, so runs with other clients sit beside the default one.
  const variant = [
    config.clientTransport === FULL_CONFIG.clientTransport ? "" : `-${config.clientTransport}-client`,
    config.connections === FULL_CONFIG.connections ? "" : `-${config.connections}-connections`,
  ].join("");
  // A named run (--machine) is named by that alone: its config is in the file.
  const name = config.machine === undefined ? `server${variant}` : `server-${config.machine}`;
  for (const file of writeResults(
    config.outDir ?? (quick ? QUICK_RESULTS_DIR : RESULTS_DIR),
    name,
    result,
    charts(comparisonsBySetup, config),
  ))
    console.log(`wrote ${file}`);
  for (const [name, comparisons] of comparisonsBySetup) {
    console.table(
      comparisons.map((c) => ({
        setup: name,
        comparison: c.name,
        annakvOps: c.annakv.opsPerSecond,
        redisOps: c.redis?.opsPerSecond,
        ratio: c.annakvToRedisOpsRatio,
        ratiosByRound: c.ratiosByRound.join(" "),
        redisMultiKeyOps: c.redisMultiKey?.opsPerSecond,
        ratioToMultiKey: c.annakvToRedisMultiKeyOpsRatio,
        floorOps: c.transportFloor?.opsPerSecond,
        ofFloor: c.annakvToFloorOpsRatio,
        annakvP99: c.annakv.latencyMsP99,
        redisP99: c.redis?.latencyMsP99,
        otherRedisRatios: c.otherRedis.map((other) => `${other.name}: ${other.annakvToRedisOpsRatio}`).join("; "),
      })),
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
