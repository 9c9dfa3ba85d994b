/**
 * Filling a cluster with keys before a measurement, and waiting for the copies to settle:
 * key-loader processes write key ranges side by side, then the nodes' key counts are
 * polled until they add up to every key times its replicas.
 */
import path from "node:path";
import type { KeyLoadResult } from "./key-loader";
import { BenchNode, keyCounts } from "./nodes";
import { waitUntil } from "./wait";
import { runJsonProcess } from "../child-processes";
import { sum } from "./stats";

const KEY_LOADER_PATH = path.join(__dirname, "key-loader.ts");
/** Actors post their counters (key counts among them) to /status once a second. */
export const STATS_INTERVAL_MS = 1000;

export interface PreloadOptions {
  keyCount: number;
  processes: number;
  batchKeys: number;
  callsInFlight: number;
  valueBytes: number;
  seed: number;
  timeoutMs: number;
}

export interface PreloadResult {
  keys: number;
  processes: number;
  batchKeys: number;
  /** Wall time of the whole load (every process), and the keys per second it makes. */
  seconds: number;
  keysPerSecond: number;
  /** putMany calls that threw (each tried again) and keys never acknowledged, over every process. */
  errors: Record<string, number>;
  keysNotWritten: number;
}

/** Writes keys 0..keyCount-1 once, split into equal ranges over `processes` key loaders. */
export async function preloadKeys(nodes: readonly BenchNode[], options: PreloadOptions): Promise<PreloadResult> {
  const startedMs = performance.now();
  const share = Math.ceil(options.keyCount / options.processes);
  const results = await Promise.all(
    Array.from({ length: options.processes }, (_, index) => {
      const firstKey = index * share;
      return runJsonProcess<KeyLoadResult>(
        KEY_LOADER_PATH,
        {
          routing: nodes.map((node) => node.routingAddress),
          firstKey,
          keyCount: Math.min(share, options.keyCount - firstKey),
          batchKeys: options.batchKeys,
          callsInFlight: options.callsInFlight,
          valueBytes: options.valueBytes,
          seed: options.seed + index,
        },
        options.timeoutMs,
      );
    }),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  const errors: Record<string, number> = {};
  for (const result of results)
    for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
  return {
    keys: options.keyCount,
    processes: options.processes,
    batchKeys: options.batchKeys,
    seconds,
    keysPerSecond: options.keyCount / seconds,
    errors,
    keysNotWritten: sum(results.map((result) => result.keysNotWritten)),
  };
}

/**
 * Polls until the nodes' key counts add up to `copies` (and `also` holds); returns ms from
 * `sinceMs`. Key counts reach /status once a second, so this is known to about a second.
 */
export async function waitForCopies(
  nodes: readonly BenchNode[],
  copies: number,
  sinceMs: number,
  timeoutMs: number,
  also: (counts: number[]) => boolean = () => true,
): Promise<number> {
  let last: number[] = [];
  await waitUntil(
    async () => {
      last = await keyCounts(nodes);
      return sum(last) === copies && also(last);
    },
    {
      timeoutMs,
      pollMs: 100,
      what: () =>
        `${copies} copies on ${nodes.map((node) => node.host).join(", ")} (they hold ${last.join(" + ")} = ${sum(last)})`,
    },
  );
  return performance.now() - sinceMs;
}
