/**
 * One load-generator process of the consistency benchmark: `--sessions` closed loops of
 * one level on one AnnaClient, each running transactions of `--operations` operations
 * (reads or writes with probability one half, keys drawn uniform or Zipf), for a warm-up
 * and then `--seconds`. Prints one JSON line: transactions committed, failures by code,
 * the latency histogram, the requests and bytes the client sent, and the CPU time the
 * process used while measuring (all its threads: zeromq's I/O thread and V8's helpers too).
 */
import { parseArgs } from "node:util";
import { AnnaClient } from "../../src/client/anna-client";
import type { AnnaClientCounters } from "../../src/client/base-client";
import { exitWhenDone } from "../child-main";
import { HistogramSnapshot, LatencyHistogram } from "../latency";
import { positiveInteger } from "../options";
import { KeyChooser, Prng } from "../workload";
import { keyKindOf, keyName, Level, LEVELS, openLevelSession, Operation } from "./levels";

export interface GeneratorResult {
  transactions: number;
  failures: Record<string, number>;
  latency: HistogramSnapshot;
  /** The client's counters over the measured seconds: requests, bytes, routing lookups, resends (AnnaClientCounters). */
  counters: AnnaClientCounters;
  /** The process's CPU time (user + system, every thread) over the measured seconds. */
  cpuMs: number;
  seconds: number;
  /** When the measured seconds began and ended, by the wall clock (ms since the epoch): the window the nodes' CPU is read over. */
  measuredFromEpochMs: number;
  measuredToEpochMs: number;
}

const VALUE_BYTES = 64;
/** A client's replies can lag under overload: give a call this long before TIMEOUT, as a patient user would. */
const CLIENT_TIMEOUT_MS = 2000;

function options() {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["routing", "level", "skew", "sessions", "operations", "keys", "seconds", "warmup-seconds", "seed"].map(
        (name) => [name, { type: "string" as const }],
      ),
    ),
  });
  const level = values.level as Level;
  if (!LEVELS.includes(level)) throw new RangeError(`--level must be one of ${LEVELS.join(", ")}, got ${values.level}`);
  if (values.routing === undefined) throw new RangeError("--routing is required");
  const skew = Number(values.skew ?? "0");
  if (!(skew >= 0)) throw new RangeError(`--skew must be >= 0, got ${values.skew}`);
  return {
    routing: values.routing,
    level,
    skew,
    sessions: positiveInteger(values.sessions, 32, "--sessions"),
    operations: positiveInteger(values.operations, 6, "--operations"),
    keyCount: positiveInteger(values.keys, 100_000, "--keys"),
    seconds: positiveInteger(values.seconds, 30, "--seconds"),
    warmupSeconds: positiveInteger(values["warmup-seconds"], 5, "--warmup-seconds"),
    seed: positiveInteger(values.seed, 1, "--seed"),
  };
}

async function generate(): Promise<GeneratorResult> {
  const config = options();
  const client = new AnnaClient({ routingAddress: config.routing, timeoutMs: CLIENT_TIMEOUT_MS });
  const chooser = new KeyChooser(config.keyCount, config.skew);
  const kind = keyKindOf(config.level);
  // A long-running client has its keys' replica addresses cached; a cold cache costs a routing round trip per
  // new key, more per transaction the slower the level (fewer transactions warm it), so every level starts warm.
  await client.addressesOf(Array.from({ length: config.keyCount }, (_, index) => keyName(kind, index)));
  const latency = new LatencyHistogram();
  const failures: Record<string, number> = {};
  let transactions = 0;
  let measuring = false;
  const startMs = performance.now();
  const measureFromMs = startMs + config.warmupSeconds * 1000;
  const endMs = measureFromMs + config.seconds * 1000;
  let countersAtStart: AnnaClientCounters = { ...client.counters };
  let cpuAtStart = process.cpuUsage();
  let cpuMs = 0;
  let measuredFromEpochMs = NaN;
  let measuredToEpochMs = NaN;

  const loop = async (index: number) => {
    const random = new Prng(config.seed * 1_000_003 + index);
    const value = random.bytes(VALUE_BYTES);
    let session = openLevelSession(client, config.level);
    while (performance.now() < endMs) {
      const operations: Operation[] = Array.from({ length: config.operations }, () => ({
        kind: random.next() < 0.5 ? "read" : "write",
        key: keyName(kind, chooser.choose(random)),
      }));
      const began = performance.now();
      try {
        await session.run(operations, value);
        if (measuring) {
          transactions++;
          latency.record(performance.now() - began);
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        if (measuring) failures[code] = (failures[code] ?? 0) + 1;
        // A session whose state is full cannot go on: a user would open a new one.
        if (code === "SESSION_LIMIT") {
          session.close();
          session = openLevelSession(client, config.level);
        }
      }
    }
    session.close();
  };
  const warmupOver = setTimeout(() => {
    measuring = true;
    countersAtStart = { ...client.counters };
    cpuAtStart = process.cpuUsage();
    measuredFromEpochMs = Date.now();
  }, measureFromMs - startMs);
  try {
    await Promise.all(Array.from({ length: config.sessions }, (_, index) => loop(index)));
    const cpu = process.cpuUsage(cpuAtStart);
    cpuMs = (cpu.user + cpu.system) / 1000;
    measuredToEpochMs = Date.now();
  } finally {
    clearTimeout(warmupOver);
    await client.close();
  }
  return {
    transactions,
    failures,
    latency: latency.snapshot(),
    counters: countersSince(countersAtStart, client.counters),
    cpuMs,
    seconds: config.seconds,
    measuredFromEpochMs,
    measuredToEpochMs,
  };
}

function countersSince(start: AnnaClientCounters, now: AnnaClientCounters): AnnaClientCounters {
  const since = { ...now };
  for (const name of Object.keys(since) as (keyof AnnaClientCounters)[]) since[name] -= start[name];
  return since;
}

exitWhenDone(generate());
