/**
 * The soak (`npm run bench:soak`): ten minutes of mixed load on one real node. AnnaClients
 * that connect and disconnect, LWW puts and gets of 16 B to 1 MiB values, a hot key
 * (load.ts); a client whose replies are read slowly and one whose are never read
 * (slow-readers.ts). Each second: the node's RSS, its errors and dropped replies, the
 * clients' latency p50/p99 (sampler.ts). The target: RSS flat after warm-up (within 10%)
 * and no errors but those the node's limits produce by design.
 *
 *   node -r ./bench/register.js bench/soak/main.ts [--seconds N] [--warmup-seconds N] [--clients N] [--keys N] [--seed N] [--port-offset N] [--threads N] [--out FILE.json]
 *
 * Writes FILE.json and FILE.svg: bench/results/soak-2core.* by default. Exits 1 when a
 * target is missed.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { routingAddress } from "../../src/protocol/ports";
import type { LineChart } from "../chart";
import { BenchNode, NodeExit } from "../cluster/nodes";
import { sleep, waitUntil } from "../cluster/wait";
import { MIB } from "../fuzz/memory";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import { ClientLoad } from "./load";
import { classifyErrors, counterIncrements, RSS_FLAT_TOLERANCE, rssSummary, Sample, SecondSampler } from "./sampler";
import { ownerOf, SlowReader } from "./slow-readers";
import { positiveInteger } from "../options";

const RESULT_NAME = "soak-2core";
const HOST = "127.0.0.1";
const BIG_KEY = "soak-big";
/** Each slow reader asks for the 1 MiB value this often: 10 MiB/s, past what the slow one reads. */
const SLOW_READER_REQUESTS_PER_SECOND = 10;
const SLOW_READER_READS_PER_SECOND = 4;
/**
 * Warm-up: half the run, at most a minute. On 2 cores the slow readers' queues reach their
 * bound in ~15 s and the keys their mix of sizes in ~30 s; RSS is flat from then on.
 */
const WARMUP_SHARE = 0.5;
const WARMUP_SECONDS_MAX = 60;

interface SoakOptions {
  seconds: number;
  warmupSeconds: number;
  clients: number;
  keyCount: number;
  seed: number;
  portOffset: number;
  threads: number;
}

const DEFAULTS = {
  seconds: 600,
  clients: 8,
  keyCount: 1000,
  seed: 1,
  // Clear of the other benchmarks' offsets (bench:fuzz takes 14400) and the tests' (15300 up).
  portOffset: 14_700,
  threads: 2,
};

function parseRun(): { options: SoakOptions; jsonPath: string } {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["seconds", "warmup-seconds", "clients", "keys", "seed", "port-offset", "threads", "out"].map((name) => [
        name,
        { type: "string" as const },
      ]),
    ),
  });
  const seconds = positiveInteger(values.seconds, DEFAULTS.seconds, "--seconds");
  const warmupSeconds = positiveInteger(
    values["warmup-seconds"],
    Math.min(WARMUP_SECONDS_MAX, Math.max(1, Math.round(seconds * WARMUP_SHARE))),
    "--warmup-seconds",
  );
  if (warmupSeconds >= seconds)
    throw new RangeError(`--warmup-seconds (${warmupSeconds}) must be shorter than the run (${seconds})`);
  const options: SoakOptions = {
    seconds,
    warmupSeconds,
    clients: positiveInteger(values.clients, DEFAULTS.clients, "--clients"),
    keyCount: positiveInteger(values.keys, DEFAULTS.keyCount, "--keys"),
    seed: positiveInteger(values.seed, DEFAULTS.seed, "--seed"),
    portOffset: positiveInteger(values["port-offset"], DEFAULTS.portOffset, "--port-offset"),
    threads: positiveInteger(values.threads, DEFAULTS.threads, "--threads"),
  };
  return { options, jsonPath: path.resolve(values.out ?? path.join(RESULTS_DIR, `${RESULT_NAME}.json`)) };
}

interface SoakRun {
  samples: Sample[];
  load: ClientLoad;
  slowReaders: Array<{ readsPerSecond: number; requestsSent: number; repliesRead: number }>;
  nodeTotals: ReturnType<typeof counterIncrements>;
  stop: { exit: NodeExit; ms: number };
}

/** Starts the node, preloads, runs the load, the slow readers and the sampler for the run's seconds, stops the node. */
async function soak(options: SoakOptions): Promise<SoakRun> {
  const node = await BenchNode.start({
    index: 1,
    portOffset: options.portOffset,
    threads: options.threads,
    globalReplication: 1,
  });
  const routing = routingAddress(HOST, options.portOffset);
  const load = new ClientLoad({
    routingAddress: routing,
    clients: options.clients,
    keyCount: options.keyCount,
    seed: options.seed,
  });
  const slowReaders: SlowReader[] = [];
  const sampler = new SecondSampler(node, load);
  try {
    await waitUntil(() => node.ready(), { timeoutMs: 30_000, pollMs: 50, what: () => "the node to serve" });
    await load.preload(BIG_KEY);
    const owner = await ownerOf(routing, BIG_KEY);
    for (const readsPerSecond of [SLOW_READER_READS_PER_SECOND, 0]) {
      slowReaders.push(
        new SlowReader({
          actorAddress: owner,
          key: BIG_KEY,
          requestsPerSecond: SLOW_READER_REQUESTS_PER_SECOND,
          readsPerSecond,
        }),
      );
    }
    await sampler.start();
    load.start();
    for (const reader of slowReaders) await reader.start();
    await sleep(options.seconds * 1000 + 200);
    sampler.stop();
    for (const reader of slowReaders) reader.stop();
    await load.stop();
    const stopStartedMs = performance.now();
    const exit = await node.stop("SIGTERM");
    return {
      samples: sampler.samples.slice(0, options.seconds),
      load,
      slowReaders: slowReaders.map((reader) => ({
        readsPerSecond: reader.options.readsPerSecond,
        requestsSent: reader.requestsSent,
        repliesRead: reader.repliesRead,
      })),
      nodeTotals: counterIncrements(sampler.last!, sampler.first!),
      stop: { exit, ms: performance.now() - stopStartedMs },
    };
  } finally {
    sampler.stop();
    for (const reader of slowReaders) reader.stop();
    if (node.isRunning()) await node.stop("SIGKILL");
  }
}

function charts(samples: readonly Sample[], referenceBytes: number, warmupSeconds: number): LineChart[] {
  const labelEvery = samples.length <= 120 ? 10 : 60;
  const groups = samples.map((sample) => (sample.second % labelEvery === 0 ? String(sample.second) : ""));
  const of = (read: (sample: Sample) => number) => samples.map(read);
  return [
    {
      kind: "line",
      title: `Node RSS each second (warm-up: first ${warmupSeconds} s; dashed: +${RSS_FLAT_TOLERANCE * 100}% of RSS at its end)`,
      yLabel: "MiB",
      xLabel: "seconds",
      groups,
      series: [{ name: "RSS", values: of((sample) => sample.rssBytes / MIB) }],
      reference: {
        name: "target bound",
        values: of((sample) =>
          sample.second > warmupSeconds ? ((1 + RSS_FLAT_TOLERANCE) * referenceBytes) / MIB : NaN,
        ),
      },
    },
    {
      kind: "line",
      title: "Request latency of the regular clients, each second",
      yLabel: "ms",
      xLabel: "seconds",
      groups,
      series: [
        { name: "p50", values: of((sample) => sample.latencyMsP50) },
        { name: "p99", values: of((sample) => sample.latencyMsP99) },
      ],
    },
    {
      kind: "line",
      title: "Operations and replies dropped (slow readers), each second",
      yLabel: "per second",
      xLabel: "seconds",
      groups,
      series: [
        { name: "operations", values: of((sample) => sample.operations) },
        { name: "replies dropped", values: of((sample) => sample.node.repliesDropped) },
      ],
    },
  ];
}

/** Numbers to 3 significant digits (integers kept), so the JSON diffs readably. */
function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, item) => (typeof item === "number" ? round(item) : item)));
}

async function main(): Promise<void> {
  const { options, jsonPath } = parseRun();
  const machine = machineInfo();
  console.log(
    `soak: ${options.seconds} s (warm-up ${options.warmupSeconds} s), ${options.clients} clients, ${options.keyCount} keys + a hot key, node on port offset ${options.portOffset} with ${options.threads} actors`,
  );
  const run = await soak(options);
  const rss = rssSummary(run.samples, options.warmupSeconds);
  const errors = classifyErrors(run.nodeTotals, run.load.errorsTotal);
  const unexpectedCount = Object.values(errors.unexpected).reduce((sum, count) => sum + count, 0);
  const targets = {
    rssFlatAfterWarmup: {
      target: `RSS after warm-up at most ${Math.round(100 * (1 + RSS_FLAT_TOLERANCE))}% of its mean over warm-up's last seconds`,
      measured: rss.rssPeakGrowthAfterWarmup,
      met: rss.rssPeakGrowthAfterWarmup <= RSS_FLAT_TOLERANCE,
    },
    unexpectedErrors: {
      target: "0 (only the errors the limits produce by design)",
      measured: unexpectedCount,
      met: unexpectedCount === 0,
    },
    stopExitCode: { target: "0 on SIGTERM", measured: run.stop.exit.code, met: run.stop.exit.code === 0 },
  };
  const latency = run.load.histogramTotal.summary();
  const output = {
    benchmark: "soak",
    machine,
    options,
    targets,
    rss,
    rssGrowthAfterWarmup: rss.rssGrowthAfterWarmup,
    operations: run.load.operations,
    operationsPerSecond: run.load.operations / options.seconds,
    clientsOpened: run.load.clientsOpened,
    latency,
    errors,
    nodeTotals: run.nodeTotals,
    slowReaders: run.slowReaders,
    stop: run.stop,
    samples: run.samples,
  };
  const paths = writeResults(
    path.dirname(jsonPath),
    path.basename(jsonPath, ".json"),
    rounded(output),
    charts(run.samples, rss.atWarmupEndBytes, options.warmupSeconds),
  );
  console.log(JSON.stringify({ targets, rss, latency, errors }, null, 2));
  console.log(`wrote ${paths.join(", ")}`);
  process.exitCode = Object.values(targets).every((target) => target.met) ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
