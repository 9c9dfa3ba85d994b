/**
 * Writes a range of keys once, through AnnaClient.putMany (the client a user would load a
 * cluster with: it asks routing where keys live and sends each replica one request of its
 * keys), `batchKeys` keys a call and `callsInFlight` calls at once. Run as a process of
 * its own, so that its CPU is not the orchestrator's; prints one JSON line (KeyLoadResult).
 *
 *   node -r ./bench/register.js bench/cluster/key-loader.ts --routing tcp://127.0.0.1:46450 --first-key 0 --key-count 500000
 */
import { parseArgs } from "node:util";
import { AnnaClient } from "../../src/client/anna-client";
import { AnnaClientError, PutTuple } from "../../src/client/base-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { Prng, randomLwwPayload } from "../workload";
import { benchKey } from "./keys";
import { exitWhenDone } from "../child-main";

export interface KeyLoadOptions {
  routingAddresses: string[];
  firstKey: number;
  keyCount: number;
  batchKeys: number;
  callsInFlight: number;
  valueBytes: number;
  seed: number;
}

export interface KeyLoadResult {
  keys: number;
  seconds: number;
  keysPerSecond: number;
  /** Calls that threw, by AnnaClientError code; each was tried again, up to TRIES_PER_BATCH_MAX. */
  errors: Record<string, number>;
  /** Keys whose batch failed every try. */
  keysNotWritten: number;
}

const TRIES_PER_BATCH_MAX = 3;
/** Long enough for a 1000-key request on a busy 2-core machine. */
const CLIENT_TIMEOUT_MS = 10_000;

function batchTuples(options: KeyLoadOptions, first: number, count: number, random: Prng): PutTuple[] {
  return Array.from({ length: count }, (_, i) => ({
    key: benchKey(first + i),
    type: LatticeType.LWW,
    payload: randomLwwPayload(options.valueBytes, random),
  }));
}

export async function loadKeys(options: KeyLoadOptions): Promise<KeyLoadResult> {
  const client = new AnnaClient({ routingAddresses: options.routingAddresses, timeoutMs: CLIENT_TIMEOUT_MS });
  const random = new Prng(options.seed);
  const errors: Record<string, number> = {};
  let keysNotWritten = 0;
  let nextKey = options.firstKey;
  const endKey = options.firstKey + options.keyCount;
  const startedMs = performance.now();
  const worker = async () => {
    while (nextKey < endKey) {
      const first = nextKey;
      const count = Math.min(options.batchKeys, endKey - first);
      nextKey += count;
      const tuples = batchTuples(options, first, count, random);
      for (let attempt = 1; ; attempt++) {
        try {
          await client.putMany(tuples);
          break;
        } catch (error) {
          const code = error instanceof AnnaClientError ? error.code : "OTHER";
          errors[code] = (errors[code] ?? 0) + 1;
          if (attempt === TRIES_PER_BATCH_MAX) {
            keysNotWritten += count;
            break;
          }
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.callsInFlight }, worker));
  } finally {
    await client.close();
  }
  const seconds = (performance.now() - startedMs) / 1000;
  return { keys: options.keyCount, seconds, keysPerSecond: options.keyCount / seconds, errors, keysNotWritten };
}

function parseOptions(argv: string[]): KeyLoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      routing: { type: "string" },
      "first-key": { type: "string", default: "0" },
      "key-count": { type: "string" },
      "batch-keys": { type: "string", default: "1000" },
      "calls-in-flight": { type: "string", default: "2" },
      "value-bytes": { type: "string", default: "64" },
      seed: { type: "string", default: "1" },
    },
  });
  if (values.routing === undefined || values["key-count"] === undefined)
    throw new Error("--routing and --key-count are required");
  return {
    routingAddresses: values.routing.split(","),
    firstKey: Number(values["first-key"]),
    keyCount: Number(values["key-count"]),
    batchKeys: Number(values["batch-keys"]),
    callsInFlight: Number(values["calls-in-flight"]),
    valueBytes: Number(values["value-bytes"]),
    seed: Number(values.seed),
  };
}

if (require.main === module) exitWhenDone(loadKeys(parseOptions(process.argv.slice(2))));
