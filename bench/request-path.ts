/**
 * One actor's request path without sockets (`npm run bench:request-path`): the request
 * handler (src/actor/handlers/request.ts: read the frames, plan, run, encode the
 * responses) on pre-encoded KeyRequest frames, one frame per call as from one client at a
 * time, responses dropped. Microseconds of one thread's time per request, for each request
 * server (the Wasm core serving the burst itself, as the node does; the TypeScript batch
 * server over the Wasm engine, the path before the core served requests; the batch server
 * over the TS engine), GET and PUT, 1 and 16 keys per request, with one actor (every key
 * local) and with two (placement on each key, and hot-key sampling as in the node, where
 * selective replication is on below full replication; requests carry only keys of actor 0,
 * as the load generator routes them). What is left of a served request's time is the transport's
 * (bench/echo-floor.ts measures that part). Writes bench/results/request-path.json and .svg.
 *
 *   node -r ./bench/register.js bench/request-path.ts [--quick]
 */
import { parseArgs } from "node:util";
import { handleRequestFrames, RequestContext } from "../src/actor/handlers/request";
import { emptyCounters } from "../src/actor/stats";
import { createStore } from "../src/core/create-store";
import { DEFAULT_LIMITS } from "../src/core/limits";
import type { EngineName } from "../src/core/store";
import { loadWasmModule } from "../src/core/wasm-store";
import { LatticeType } from "../src/lattices/lattice-type";
import { encodeKeyRequest, RequestType } from "../src/protocol/anna";
import { actorAccessSampler } from "../src/actor/access-sampler";
import { BatchRequestServer, requestServerFor } from "../src/actor/request-servers";
import { singleNodePlacement } from "../src/routing/cluster-placement";
import type { BarChart } from "./chart";
import { machineInfo, QUICK_RESULTS_DIR, RESULTS_DIR, round, writeResults } from "./report";
import { KeySpace, Prng, randomLwwPayload } from "./workload";
import { DotIssuer } from "../src/actor/dot-issuer";

interface RequestPathConfig {
  keyCount: number;
  keyBytes: number;
  valueBytes: number;
  /** Distinct frames per case; timed calls cycle through them. */
  framesPerCase: number;
  /** Timed time per case and repeat; each case reports its median repeat. */
  caseMs: number;
  repeats: number;
  seed: number;
}

const FULL_CONFIG: RequestPathConfig = {
  keyCount: 100_000,
  keyBytes: 16,
  valueBytes: 64,
  framesPerCase: 2000,
  caseMs: 1000,
  repeats: 3,
  seed: 20240601,
};
const QUICK_CONFIG: RequestPathConfig = {
  ...FULL_CONFIG,
  keyCount: 20_000,
  framesPerCase: 500,
  caseMs: 200,
  repeats: 1,
};

/** Request servers (src/actor/request-servers.ts), each on its engine. */
const SERVERS = [
  { name: "wasm", engine: "wasm", inCore: true },
  { name: "wasm-batch", engine: "wasm", inCore: false },
  { name: "ts", engine: "ts", inCore: false },
] as const;
type ServerName = (typeof SERVERS)[number]["name"];
const ACTOR_COUNTS = [1, 2] as const;
const SHAPES = [
  { name: "get-1", type: RequestType.GET, keysPerRequest: 1 },
  { name: "put-1", type: RequestType.PUT, keysPerRequest: 1 },
  { name: "get-16", type: RequestType.GET, keysPerRequest: 16 },
  { name: "put-16", type: RequestType.PUT, keysPerRequest: 16 },
] as const;
/** Clients whose reply addresses the frames carry in turn, as the server bench's. */
const CLIENTS = 50;
/** Room for the largest request of the bench (the node's own bound is an option). */
const TUPLES_PER_REQUEST_MAX = 1024;

interface CaseResult {
  server: ServerName;
  engine: EngineName;
  actors: number;
  shape: string;
  keysPerRequest: number;
  microsecondsPerRequest: number;
  nanosecondsPerTuple: number;
}

/** An actor 0's request context over a store holding every key it owns. */
function actorContext(
  config: RequestPathConfig,
  server: (typeof SERVERS)[number],
  actors: number,
  keys: KeySpace,
  ownKeys: number[],
): RequestContext {
  const { engine } = server;
  const store = createStore({
    engine,
    limits: DEFAULT_LIMITS,
    wasmModule: engine === "wasm" ? loadWasmModule() : undefined,
  });
  const random = new Prng(config.seed);
  for (const index of ownKeys) store.put(keys.key(index), LatticeType.LWW, randomLwwPayload(config.valueBytes, random));
  return {
    tid: 0,
    server: server.inCore ? requestServerFor(store) : new BatchRequestServer(store),
    placement: singleNodePlacement(actors, 1),
    // As in the node, where selective replication is on (the default) below full replication.
    accessSampler: actors > 1 ? actorAccessSampler() : undefined,
    replies: { sendCopy: () => undefined },
    counters: emptyCounters(),
    maxTuplesPerRequest: TUPLES_PER_REQUEST_MAX,
    limits: DEFAULT_LIMITS,
    dots: { issuer: new DotIssuer(), store },
    reportBadFrame: (reason) => {
      throw new Error(`bench frame refused: ${reason}`);
    },
  };
}

function encodeFrames(
  config: RequestPathConfig,
  shape: (typeof SHAPES)[number],
  keys: KeySpace,
  ownKeys: number[],
): Uint8Array[] {
  const random = new Prng(config.seed + shape.keysPerRequest);
  return Array.from({ length: config.framesPerCase }, (_, r) => {
    const tuples = Array.from({ length: shape.keysPerRequest }, () => {
      const key = keys.keyString(ownKeys[Math.floor(random.next() * ownKeys.length)]);
      return shape.type === RequestType.PUT
        ? { key, lattice_type: LatticeType.LWW, payload: randomLwwPayload(config.valueBytes, random) }
        : { key };
    });
    const responseAddress = `tcp://127.0.0.1:${40000 + (r % CLIENTS)}`;
    return Buffer.from(
      encodeKeyRequest({
        type: shape.type,
        tuples,
        response_address: responseAddress,
        request_id: String(r).padStart(8, "0"),
      }),
    );
  });
}

/** Microseconds per request over `caseMs`, one frame per handler call. */
function timeCase(context: RequestContext, frames: Uint8Array[], caseMs: number): number {
  const burst: Uint8Array[] = [frames[0]];
  let requests = 0;
  const startedMs = performance.now();
  const endMs = startedMs + caseMs;
  while (performance.now() < endMs) {
    for (const frame of frames) {
      burst[0] = frame;
      handleRequestFrames(context, burst);
    }
    requests += frames.length;
  }
  const errors = Object.keys(context.counters.tupleErrors).filter((name) => name !== "KEY_DNE");
  if (errors.length > 0) throw new Error(`tuples refused: ${JSON.stringify(context.counters.tupleErrors)}`);
  return ((performance.now() - startedMs) * 1000) / requests;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function main(): void {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  const quick = values.quick ?? false;
  const config = quick ? QUICK_CONFIG : FULL_CONFIG;
  const started = performance.now();
  const keys = new KeySpace(config.keyCount, config.keyBytes);
  const results: CaseResult[] = [];
  for (const actors of ACTOR_COUNTS) {
    const placement = singleNodePlacement(actors, 1);
    const ownKeys = Array.from({ length: config.keyCount }, (_, index) => index).filter(
      (index) => placement.replicationAt(keys.key(index), 0) > 0,
    );
    const frames = SHAPES.map((shape) => encodeFrames(config, shape, keys, ownKeys));
    for (const server of SERVERS) {
      const context = actorContext(config, server, actors, keys, ownKeys);
      SHAPES.forEach((shape, index) => {
        timeCase(context, frames[index], config.caseMs / 4); // warm-up: the JIT settles
        const microseconds = median(
          Array.from({ length: config.repeats }, () => timeCase(context, frames[index], config.caseMs)),
        );
        const result = {
          server: server.name,
          engine: server.engine,
          actors,
          shape: shape.name,
          keysPerRequest: shape.keysPerRequest,
          microsecondsPerRequest: round(microseconds),
          nanosecondsPerTuple: round((microseconds * 1000) / shape.keysPerRequest),
        };
        console.log(
          `${server.name} server, ${actors} actor(s), ${shape.name}: ${microseconds.toFixed(2)} us/request, ${result.nanosecondsPerTuple} ns/tuple`,
        );
        results.push(result);
      });
    }
  }
  const pick = (server: ServerName, actors: number, shape: string) =>
    results.find((r) => r.server === server && r.actors === actors && r.shape === shape)!.microsecondsPerRequest;
  // Time ratios: how many times longer the other server takes than the core serving the burst.
  const serverRatios = SHAPES.flatMap((shape) =>
    ACTOR_COUNTS.map((actors) => ({
      shape: shape.name,
      actors,
      wasmBatchToCoreTimeRatio: round(pick("wasm-batch", actors, shape.name) / pick("wasm", actors, shape.name)),
      tsToCoreTimeRatio: round(pick("ts", actors, shape.name) / pick("wasm", actors, shape.name)),
    })),
  );
  const chart: BarChart = {
    title: `Request handler time per request, no sockets (${config.keyCount.toLocaleString("en")} keys, ${config.valueBytes} B LWW values)`,
    yLabel: "us/request",
    groups: SHAPES.map((shape) => shape.name),
    series: SERVERS.flatMap((server) =>
      ACTOR_COUNTS.map((actors) => ({
        name: `${server.name}, ${actors} actor(s)`,
        values: SHAPES.map((shape) => pick(server.name, actors, shape.name)),
      })),
    ),
  };
  const result = {
    benchmark: "request-path",
    machine: machineInfo(),
    config,
    results,
    serverRatios,
    runSeconds: round((performance.now() - started) / 1000),
  };
  for (const file of writeResults(quick ? QUICK_RESULTS_DIR : RESULTS_DIR, "request-path", result, [chart]))
    console.log(`wrote ${file}`);
}

main();
