/**
 * The Redis side of the server benchmark: Debian's redis-server and redis-benchmark,
 * driven at the same concurrency, keyspace and value size as the annakv generator.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import { CpuWatcher, processCpuSeconds } from "./cpu";

export interface RedisTools {
  server: string;
  benchmark: string;
  cli: string;
}

/** The three binaries on PATH, or undefined if any is missing (`apt-get install redis-server redis-tools`). */
export function findRedisTools(): RedisTools | undefined {
  const find = (name: string) => {
    const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    return which.status === 0 ? which.stdout.trim() : undefined;
  };
  const server = find("redis-server");
  const benchmark = find("redis-benchmark");
  const cli = find("redis-cli");
  return server && benchmark && cli ? { server, benchmark, cli } : undefined;
}

export interface RedisServer {
  process: ChildProcess;
  port: number;
  version: string;
  stop(): Promise<void>;
}

/** An in-memory Redis with no persistence, as a cache-like store comparable to annakv. */
export async function startRedis(tools: RedisTools, port: number, ioThreads = 1): Promise<RedisServer> {
  if (!(Number.isInteger(ioThreads) && ioThreads >= 1))
    throw new RangeError(`Redis io-threads must be a positive integer, got ${ioThreads}`);
  const version = spawnSync(tools.server, ["--version"], { encoding: "utf8" }).stdout.trim();
  // io-threads > 1: Redis reads and writes its sockets on that many threads (commands still
  // run on one), the way it is run to use a many-core machine.
  const threading = ioThreads > 1 ? ["--io-threads", String(ioThreads), "--io-threads-do-reads", "yes"] : [];
  const child = spawn(
    tools.server,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...threading],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, 10_000);
  return {
    process: child,
    port,
    version,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** redis-benchmark's keys under `-r`: "key:" and a 12-digit number, 16 bytes like the annakv keys. */
function redisKey(index: number): string {
  return `key:${String(index).padStart(12, "0")}`;
}

/** SETs every key once through `redis-cli --pipe`, so GETs find their keys as annakv's do after its preload. */
export async function preloadRedis(
  tools: RedisTools,
  port: number,
  keyCount: number,
  valueBytes: number,
): Promise<void> {
  const value = "x".repeat(valueBytes);
  const commands: string[] = [];
  for (let index = 0; index < keyCount; index++) {
    const key = redisKey(index);
    commands.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
  }
  const result = spawnSync(tools.cli, ["-p", String(port), "--pipe"], { input: commands.join(""), encoding: "utf8" });
  if (result.status !== 0 || !/errors: 0, replies: \d+/.test(result.stdout)) {
    throw new Error(`redis-cli --pipe failed: ${result.stdout} ${result.stderr}`);
  }
}

export interface RedisBenchmarkOptions {
  port: number;
  requests: number;
  concurrency: number;
  valueBytes: number;
  keyCount: number;
  /** 1 = unpipelined; 16 = `-P 16`. */
  pipeline: number;
  /** Pid of the redis-server, to report its CPU use. */
  serverPid: number;
  /** redis-benchmark's own threads (`--threads`; 1 = its default, one): so that it is not the limit on many cores. */
  threads: number;
}

export interface RedisTestResult {
  test: string;
  opsPerSecond: number;
  latencyMsMean: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsMax: number;
}

export interface RedisBenchmarkResult {
  command: string;
  tests: RedisTestResult[];
  /** Over the whole run (SET and GET): cores used by redis-server and by redis-benchmark. */
  serverCpuCores: number;
  generatorCpuCores: number;
  seconds: number;
}

export async function runRedisBenchmark(
  tools: RedisTools,
  options: RedisBenchmarkOptions,
): Promise<RedisBenchmarkResult> {
  const args = [
    "-p",
    String(options.port),
    "-t",
    "set,get",
    "-n",
    String(options.requests),
    "-c",
    String(options.concurrency),
    "-d",
    String(options.valueBytes),
    "-r",
    String(options.keyCount),
    ...(options.pipeline > 1 ? ["-P", String(options.pipeline)] : []),
    ...threadFlags(options.threads),
    "--csv",
  ];
  const run = await runRedisBenchmarkProcess(tools, args, options.serverPid);
  return {
    command: `redis-benchmark ${args.join(" ")}`,
    tests: parseRedisCsv(run.stdout),
    serverCpuCores: run.serverCpuCores,
    generatorCpuCores: run.generatorCpuCores,
    seconds: run.seconds,
  };
}

function threadFlags(threads: number): string[] {
  return threads > 1 ? ["--threads", String(threads)] : [];
}

/** Runs redis-benchmark with `args`: its CSV output, and the cores it and redis-server used meanwhile. */
async function runRedisBenchmarkProcess(
  tools: RedisTools,
  args: string[],
  serverPid: number,
): Promise<{ stdout: string; seconds: number; serverCpuCores: number; generatorCpuCores: number }> {
  const serverCpuBefore = processCpuSeconds(serverPid);
  const startedMs = performance.now();
  const child = spawn(tools.benchmark, args, { stdio: ["ignore", "pipe", "pipe"] });
  const generatorCpu = new CpuWatcher(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const generatorCpuSeconds = generatorCpu.stop();
  const seconds = (performance.now() - startedMs) / 1000;
  if (code !== 0) throw new Error(`redis-benchmark exited with ${code}: ${stderr}`);
  return {
    stdout,
    seconds,
    serverCpuCores: (processCpuSeconds(serverPid) - serverCpuBefore) / seconds,
    generatorCpuCores: generatorCpuSeconds / seconds,
  };
}

export interface RedisMultiKeyOptions extends Omit<RedisBenchmarkOptions, "pipeline"> {
  /** MSET or MGET of `keysPerCommand` random keys: Redis's own way to touch many keys in one request. */
  command: "MSET" | "MGET";
  keysPerCommand: number;
  /** Commands each connection keeps in flight (`-P`; 1 = unpipelined). */
  pipeline: number;
}

export interface RedisMultiKeyResult extends RedisTestResult {
  command: string;
  /** opsPerSecond is commands/s; this is keys/s (x keysPerCommand), the unit annakv's figures use. */
  keysPerSecond: number;
  serverCpuCores: number;
  generatorCpuCores: number;
}

/**
 * One redis-benchmark run of a custom MSET or MGET command. Every `__rand_int__` in the
 * command is drawn separately (so one command's keys are independent, as the annakv
 * generator's are) and padded to 12 digits: `key:__rand_int__` is the same 16-byte key as
 * the SET/GET tests' and the preload's.
 */
export async function runRedisMultiKeyBenchmark(
  tools: RedisTools,
  options: RedisMultiKeyOptions,
): Promise<RedisMultiKeyResult> {
  const value = "x".repeat(options.valueBytes);
  const commandArgs: string[] = [options.command];
  for (let i = 0; i < options.keysPerCommand; i++)
    commandArgs.push("key:__rand_int__", ...(options.command === "MSET" ? [value] : []));
  const args = [
    "-p",
    String(options.port),
    "-n",
    String(options.requests),
    "-c",
    String(options.concurrency),
    "-r",
    String(options.keyCount),
    ...(options.pipeline > 1 ? ["-P", String(options.pipeline)] : []),
    ...threadFlags(options.threads),
    "--csv",
    ...commandArgs,
  ];
  const run = await runRedisBenchmarkProcess(tools, args, options.serverPid);
  const [test] = parseRedisCsv(run.stdout);
  if (test === undefined) throw new Error(`redis-benchmark printed no result for ${options.command}: ${run.stdout}`);
  return {
    ...test,
    command: `redis-benchmark ${args.map((arg) => (arg === value ? `<${options.valueBytes} B>` : arg)).join(" ")}`,
    keysPerSecond: test.opsPerSecond * options.keysPerCommand,
    serverCpuCores: run.serverCpuCores,
    generatorCpuCores: run.generatorCpuCores,
  };
}

/** Parses redis-benchmark 7's --csv: a header row, then one quoted row per test. */
export function parseRedisCsv(csv: string): RedisTestResult[] {
  const rows = csv
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((cell) => cell.replace(/^"|"$/g, "")));
  const header = rows[0];
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`redis-benchmark CSV has no column ${name}: ${header.join(",")}`);
    return index;
  };
  const columns = {
    test: column("test"),
    rps: column("rps"),
    mean: column("avg_latency_ms"),
    p50: column("p50_latency_ms"),
    p99: column("p99_latency_ms"),
    max: column("max_latency_ms"),
  };
  return rows.slice(1).map((row) => ({
    test: row[columns.test],
    opsPerSecond: Number(row[columns.rps]),
    latencyMsMean: Number(row[columns.mean]),
    latencyMsP50: Number(row[columns.p50]),
    latencyMsP99: Number(row[columns.p99]),
    latencyMsMax: Number(row[columns.max]),
  }));
}
