/**
 * A steady GET/PUT load through AnnaClient, counted in 1-second windows of the wall clock,
 * for measuring a cluster while its membership changes. AnnaClient (not the bench's
 * load generator) because it does what a client of a changing cluster must: it follows
 * `invalidate` and WRONG_THREAD to the new replicas and retries a silent replica elsewhere;
 * the load generator resolves owners once and would only count the moved keys as errors.
 *
 * As a process (one of several), each of `callsInFlight` loops calls getMany or putMany
 * on `keysPerRequest` distinct uniform keys and calls again once answered. Every closed
 * window is printed as a JSON line; on SIGTERM it stops issuing, waits for its calls, prints
 * the rest and exits 0. startClientLoad() runs such processes and adds up their windows.
 */
import { ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { AnnaClient, MonotonicMicrosClock } from "../../src/client/anna-client";
import { AnnaClientError, PutTuple } from "../../src/client/base-client";
import { encodeLww } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import { Prng } from "../workload";
import { benchKey } from "./keys";
import { spawnBenchScript } from "../child-processes";
import { sleep, waitUntil } from "./wait";
import { exitWhenDone } from "../child-main";

export interface ClientLoadOptions {
  routingAddresses: string[];
  keyCount: number;
  keysPerRequest: number;
  callsInFlight: number;
  putFraction: number;
  valueBytes: number;
  seed: number;
  /** AnnaClient's wait for one reply; a call makes up to 3 attempts. */
  timeoutMs: number;
}

/** Calls answered (or failed) within one second of the wall clock. */
export interface LoadWindow {
  /** Whole seconds since the epoch at the window's start. */
  second: number;
  calls: number;
  /** Keys in the calls answered without error. */
  keys: number;
  /** Calls that threw, by AnnaClientError code ("OTHER" for anything else). */
  errors: Record<string, number>;
  /** Time of the calls ended in the window, summed and the longest (a call that outlived one timeout was retried). */
  callMsTotal: number;
  callMsMax: number;
  callsOverTimeout: number;
  /** The client's routing lookups and resent tuples in the window (AnnaClient.counters): keys that moved. */
  routingRequests: number;
  tuplesResent: number;
}

const VALUE_POOL_SIZE = 1024;
const STOP_DRAIN_MS = 15_000;

function emptyWindow(second: number): LoadWindow {
  return {
    second,
    calls: 0,
    keys: 0,
    errors: {},
    callMsTotal: 0,
    callMsMax: 0,
    callsOverTimeout: 0,
    routingRequests: 0,
    tuplesResent: 0,
  };
}

/** `count` distinct uniform key indexes (AnnaClient refuses a key twice in one call). */
function distinctKeys(random: Prng, keyCount: number, count: number): string[] {
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(random.int(keyCount));
  return [...chosen].map(benchKey);
}

async function runClientLoad(options: ClientLoadOptions): Promise<void> {
  const client = new AnnaClient({ routingAddresses: options.routingAddresses, timeoutMs: options.timeoutMs });
  const random = new Prng(options.seed);
  const clock = new MonotonicMicrosClock();
  const values = Array.from({ length: VALUE_POOL_SIZE }, () => random.fill(new Uint8Array(options.valueBytes)));
  const windows = new Map<number, LoadWindow>();
  const windowOf = (second: number) => windows.get(second) ?? windows.set(second, emptyWindow(second)).get(second)!;
  let stopping = false;
  process.once("SIGTERM", () => (stopping = true));
  const flush = (beforeSecond: number) => {
    for (const [second, window] of windows) {
      if (second >= beforeSecond) continue;
      process.stdout.write(JSON.stringify(window) + "\n");
      windows.delete(second);
    }
  };
  const flushTimer = setInterval(() => flush(Math.floor(Date.now() / 1000)), 200);
  const counted = { ...client.counters };
  const record = (startedMs: number, keys: number, error?: unknown) => {
    const callMs = performance.now() - startedMs;
    const window = windowOf(Math.floor(Date.now() / 1000));
    window.routingRequests += client.counters.routingRequests - counted.routingRequests;
    window.tuplesResent += client.counters.tuplesResent - counted.tuplesResent;
    Object.assign(counted, client.counters);
    window.calls++;
    window.callMsTotal += callMs;
    window.callMsMax = Math.max(window.callMsMax, callMs);
    if (callMs > options.timeoutMs) window.callsOverTimeout++;
    if (error === undefined) {
      window.keys += keys;
      return;
    }
    const code = error instanceof AnnaClientError ? error.code : "OTHER";
    window.errors[code] = (window.errors[code] ?? 0) + 1;
    console.error(`client-load: ${code}: ${(error as Error).message}`);
  };
  const loop = async () => {
    while (!stopping) {
      const keys = distinctKeys(random, options.keyCount, options.keysPerRequest);
      const startedMs = performance.now();
      try {
        if (random.next() < options.putFraction) {
          const puts: PutTuple[] = keys.map((key) => ({
            key,
            type: LatticeType.LWW,
            payload: encodeLww({ timestamp: clock.next(), value: values[random.int(VALUE_POOL_SIZE)] }),
          }));
          await client.putMany(puts);
        } else await client.getMany(keys);
        record(startedMs, keys.length);
      } catch (error) {
        record(startedMs, keys.length, error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.callsInFlight }, loop));
  clearInterval(flushTimer);
  flush(Infinity);
  await client.close();
}

function parseOptions(argv: string[]): ClientLoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(
      [
        "routing-addresses",
        "key-count",
        "keys-per-request",
        "calls-in-flight",
        "put-fraction",
        "value-bytes",
        "seed",
        "timeout-ms",
      ].map((flag) => [flag, { type: "string" as const }]),
    ),
  });
  const number = (flag: string) => {
    const value = Number(values[flag]);
    if (!Number.isFinite(value)) throw new RangeError(`--${flag} must be a number, got ${values[flag]}`);
    return value;
  };
  return {
    routingAddresses: String(values["routing-addresses"]).split(","),
    keyCount: number("key-count"),
    keysPerRequest: number("keys-per-request"),
    callsInFlight: number("calls-in-flight"),
    putFraction: number("put-fraction"),
    valueBytes: number("value-bytes"),
    seed: number("seed"),
    timeoutMs: number("timeout-ms"),
  };
}

if (require.main === module) exitWhenDone(runClientLoad(parseOptions(process.argv.slice(2))));

/** Client-load processes running, their windows added up by second. */
export class RunningClientLoad {
  private readonly windows = new Map<number, LoadWindow>();
  private readonly exits: Array<Promise<number | null>>;

  constructor(private readonly children: ChildProcess[]) {
    this.exits = children.map((child) => new Promise((resolve) => child.once("exit", resolve)));
    for (const child of children) {
      createInterface({ input: child.stdout! }).on("line", (line) => this.add(JSON.parse(line) as LoadWindow));
    }
  }

  private add(window: LoadWindow): void {
    const total =
      this.windows.get(window.second) ??
      this.windows.set(window.second, emptyWindow(window.second)).get(window.second)!;
    total.calls += window.calls;
    total.keys += window.keys;
    total.callMsTotal += window.callMsTotal;
    total.callMsMax = Math.max(total.callMsMax, window.callMsMax);
    total.callsOverTimeout += window.callsOverTimeout;
    total.routingRequests += window.routingRequests;
    total.tuplesResent += window.tuplesResent;
    for (const [code, count] of Object.entries(window.errors)) total.errors[code] = (total.errors[code] ?? 0) + count;
  }

  /** Waits until the load has answered its first calls. */
  async started(timeoutMs: number): Promise<void> {
    await waitUntil(() => [...this.windows.values()].some((window) => window.calls > 0), {
      timeoutMs,
      pollMs: 100,
      what: () => "the client load to answer its first calls",
    });
  }

  /** Stops every process and returns the whole windows, in order. */
  async stop(): Promise<LoadWindow[]> {
    for (const child of this.children) child.kill("SIGTERM");
    const codes = await Promise.race([Promise.all(this.exits), sleep(STOP_DRAIN_MS).then(() => undefined)]);
    if (codes === undefined || codes.some((code) => code !== 0)) {
      for (const child of this.children) child.kill("SIGKILL");
      throw new Error(`client-load processes did not stop cleanly (exit codes ${JSON.stringify(codes)})`);
    }
    return this.everySecond();
  }

  /** The windows in order, a second in which no call ended among them as an empty one: it is a real zero. */
  private everySecond(): LoadWindow[] {
    const seconds = [...this.windows.keys()];
    if (seconds.length === 0) return [];
    const windows: LoadWindow[] = [];
    for (let second = Math.min(...seconds); second <= Math.max(...seconds); second++)
      windows.push(this.windows.get(second) ?? emptyWindow(second));
    return windows;
  }
}

export function startClientLoad(options: ClientLoadOptions, processes: number): RunningClientLoad {
  const script = path.resolve(__filename);
  return new RunningClientLoad(
    Array.from({ length: processes }, (_, index) =>
      spawnBenchScript(script, { ...options, seed: options.seed + index }),
    ),
  );
}
