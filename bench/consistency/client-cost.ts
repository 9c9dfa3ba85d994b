/**
 * What a level's client work costs, with no network and no node: `--sessions` sessions of
 * one client run the consistency bench's transactions (6 operations, reads and writes half
 * each, keys uniform or Zipf over `--keys` keys) against a store in the same process that
 * answers at once, merging with the lattices' own functions and reporting a stable time
 * `STABLE_LAG_MICROS` behind the clock and rising in steps of `STABLE_STEP_MICROS`, as a
 * node reports one. `--level`: causal+
 * (`causal-multi-key-lww`, the default), `causal-single-key` (dot requests, named by
 * the store as a node's actor names them; keys absent at the start), `sessions` (all four guarantees) or `eventual`
 * (the typed LWW calls alone: what any level pays at least). Reported: the process's CPU
 * (every thread: the collector's too) per transaction, the median of `--phases` phases. On
 * the 2-core VM the consistency bench's ratios mix this cost with the transport's and the
 * node's, all on shared cores; this is the level's share alone.
 *
 * With `--baseline-dist PATH` (the compiled `dist/` of another commit's worktree) the same
 * phases also run on that build, alternating with this one in the same process: the way
 * to compare two builds on a VM that drifts between minutes.
 *
 *   npm run bench:client-cost -- [--level L] [--skew S]
 *     [--keys N] [--sessions N] [--phases N] [--phase-ms N] [--baseline-dist PATH] [--machine NAME] [--out-dir DIR]
 * writes <out-dir>/client-cost-<machine>-zipf<S>.json and .svg (`<cores>core`, bench/results by default); with a
 * level other than causal+, client-cost-<level>-<machine>-zipf<S>.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { GetOptions, KeyTransport, PutOutcome, PutTuple, ValueRead } from "../../src/consistency/transport";
import { positiveInteger } from "../options";
import { machineInfo, RESULTS_DIR, round, writeResults } from "../report";
import { KeyChooser, Prng } from "../workload";

const VALUE_BYTES = 64;
const OPERATIONS_PER_TRANSACTION = 6;
/** How far behind the clock the store reports its stable time: about what one node reports (docs/consistency.md §6). */
const STABLE_LAG_MICROS = 50_000;
/** A node's stable time rises when its actors' stability rounds end, every ~10 ms (docs/causal-stability.md §6). */
const STABLE_STEP_MICROS = 10_000;
const EPOCH = 1;
/** The preload's stamp: well below any stable time, as a long-running store's old values are. */
const PRELOAD_AGE_MICROS = 10_000_000;

const { values } = parseArgs({
  options: Object.fromEntries(
    ["level", "skew", "keys", "sessions", "phases", "phase-ms", "baseline-dist", "machine", "out-dir"].map((name) => [
      name,
      { type: "string" as const },
    ]),
  ),
});
const LEVELS = ["causal-multi-key-lww", "causal-single-key", "sessions", "eventual"] as const;
type ClientLevel = (typeof LEVELS)[number];
const level = (values.level ?? "causal-multi-key-lww") as ClientLevel;
if (!LEVELS.includes(level)) throw new RangeError(`--level must be one of ${LEVELS.join(", ")}, got ${values.level}`);
const skew = Number(values.skew ?? "1");
if (!(skew >= 0)) throw new RangeError(`--skew must be >= 0, got ${values.skew}`);
const keyCount = positiveInteger(values.keys, 100_000, "--keys");
const sessionCount = positiveInteger(values.sessions, 64, "--sessions");
const phases = positiveInteger(values.phases, 16, "--phases");
const phaseMs = positiveInteger(values["phase-ms"], 1500, "--phase-ms");
const machine = values.machine ?? `${availableParallelism()}core`;
const outDir = values["out-dir"] ?? RESULTS_DIR;
/** This tree's build: the bench runs against compiled code, as a baseline must. */
const THIS_DIST = path.resolve(__dirname, "../../dist");

/** A session's reads and writes, whatever its level. */
interface SessionCalls {
  get(key: string): Promise<unknown>;
  put(key: string, value: Uint8Array): Promise<unknown>;
}

/** One build's sessions over its own store and preload (and, for causal+, cut). */
interface Client {
  readonly name: string;
  readonly sessions: SessionCalls[];
}

function loadClient(name: string, dist: string): Client {
  if (!existsSync(path.join(dist, "consistency/causal-session.js")))
    throw new Error(`${dist} holds no compiled consistency levels: run \`npm run build:ts\` there first`);
  const load = (module: string) => require(path.join(dist, module));
  const { mergePayloads } = load("lattices/merge");
  const { LatticeType } = load("lattices/lattice-type");
  const { DotIssuer } = load("actor/dot-issuer");
  const { dotRequestOf, encodeDot } = load("lattices/dot-requests");
  // Dot requests named as a node's actor names them (docs/protocol.md "Dot requests").
  const issuer = new DotIssuer();
  const dotted = (type: number, stored: StoredValue | undefined, payload: Uint8Array) => {
    const request = type === LatticeType.DOTTED_CAUSAL ? dotRequestOf(payload) : undefined;
    if (request === undefined) return undefined;
    const { dot, payload: merged } = issuer.dotted(request, stored);
    return { payload: merged, dot: encodeDot(dot) as Uint8Array };
  };
  const store = instantStore(mergePayloads, LatticeType.NONE, dotted);
  const value = new Uint8Array(VALUE_BYTES).fill(0x61);
  if (level === "causal-single-key") {
    // Keys start absent: a single-key session's first write of a key is a blind one, as on a fresh node.
    const { CausalSession } = load("consistency/causal-session");
    const { CausalCut } = load("consistency/causal-cut");
    const sessions = Array.from(
      { length: sessionCount },
      () => new CausalSession({ transport: store.transport, cut: new CausalCut() }, { scope: "single-key" }),
    );
    return { name, sessions };
  }
  if (level !== "causal-multi-key-lww") {
    const { encodeLww, decodeLww } = load("lattices/values");
    const preloadStamp = BigInt(Date.now() * 1000 - PRELOAD_AGE_MICROS);
    for (let index = 0; index < keyCount; index++)
      store.values.set(keyOf(index), { type: LatticeType.LWW, payload: encodeLww({ timestamp: preloadStamp, value }) });
    return { name, sessions: Array.from({ length: sessionCount }, () => lwwCalls()) };

    function lwwCalls(): SessionCalls {
      if (level === "sessions") {
        const { Session } = load("consistency/session");
        const { TransactionNumbers } = load("consistency/write-id");
        const session = new Session(
          { transport: store.transport, transactionNumbers: new TransactionNumbers() },
          {
            guarantees: "all",
          },
        );
        return { get: (key) => session.getLww(key), put: (key, bytes) => session.putLww(key, bytes) };
      }
      // Eventual: what AnnaClient's getLww and putLww do around the transport (HybridClock as its clock).
      const { HybridClock } = load("consistency/clock");
      const clock = new HybridClock();
      return {
        get: async (key) => {
          const read = (await store.transport.getMany([key])).get(key);
          return read && decodeLww(read.payload);
        },
        put: (key, bytes) =>
          store.transport.putManySettled([
            { key, type: LatticeType.LWW, payload: encodeLww({ timestamp: clock.next(), value: bytes }) },
          ]),
      };
    }
  }
  const { CausalSession } = load("consistency/causal-session");
  const { CausalCut, CAUSAL_CUT_LIMITS_DEFAULT } = load("consistency/causal-cut");
  const { causalLwwVersions } = load("consistency/causal-lww-versions");
  const { encodeCausalLww } = load("lattices/causal-lww");
  const writer = new TextEncoder().encode("preload");
  const stampMicros = Date.now() * 1000 - PRELOAD_AGE_MICROS;
  for (let index = 0; index < keyCount; index++) {
    const payload = encodeCausalLww({
      stampMicros,
      baseMicros: 0,
      writer,
      dependencyStamps: [],
      value,
      epoch: EPOCH,
      baseEpoch: 0,
    });
    store.values.set(keyOf(index), { type: LatticeType.LWW, payload });
  }
  const lwwCut = new CausalCut(CAUSAL_CUT_LIMITS_DEFAULT, causalLwwVersions);
  const sessions = Array.from(
    { length: sessionCount },
    () => new CausalSession({ transport: store.transport, cut: new CausalCut(), lwwCut }, { scope: "multi-key-lww" }),
  );
  return { name, sessions };
}

interface StoredValue {
  type: number;
  payload: Uint8Array;
}

/**
 * A store that answers every call at once (a microtask later), one replica, stable time a
 * lag behind the clock; `dotted` serves a dot request (the value to merge, and the dot to
 * answer), undefined for any other write.
 */
function instantStore(
  mergePayloads: (type: number, stored: Uint8Array | undefined, incoming: Uint8Array) => Uint8Array | null,
  noneType: number,
  dotted: (
    type: number,
    stored: StoredValue | undefined,
    payload: Uint8Array,
  ) => { payload: Uint8Array; dot: Uint8Array } | undefined,
) {
  const values = new Map<string, StoredValue>();
  const stable = () => {
    const lagging = Date.now() * 1000 - STABLE_LAG_MICROS;
    return { stableMicros: lagging - (lagging % STABLE_STEP_MICROS), stableEpoch: EPOCH };
  };
  const getMany = async (keys: readonly string[], options?: GetOptions) => {
    await null;
    const answers = new Map<string, ValueRead | undefined>();
    for (const key of keys) {
      const stored = values.get(key);
      if (stored !== undefined) answers.set(key, { ...stored, ...stable() });
      else
        answers.set(
          key,
          options?.absentAsValues ? { type: noneType, payload: new Uint8Array(0), ...stable() } : undefined,
        );
    }
    return answers;
  };
  const putManySettled = async (puts: readonly PutTuple[]) => {
    await null;
    const outcomes = new Map<string, PutOutcome>();
    for (const { key, type, payload } of puts) {
      const dot = dotted(type, values.get(key), payload);
      const merged = mergePayloads(type, values.get(key)?.payload, dot?.payload ?? payload);
      if (merged === null) throw new Error(`invariant: the bench wrote a malformed value of ${key}`);
      values.set(key, { type, payload: merged });
      outcomes.set(key, { status: "applied", ...stable(), ...(dot === undefined ? {} : { dot: dot.dot }) });
    }
    return outcomes;
  };
  const transport: KeyTransport = {
    getMany,
    putManySettled,
    putToReplica: (_replica, puts) => putManySettled(puts),
    replicasOf: async () => ["instant"],
    getFromReplica: (_replica, keys, options) => getMany(keys, options),
  };
  return { values, transport };
}

const keyOf = (index: number) => `c${index}`;

/** Runs every session's transactions for `phaseMs`; returns the CPU µs per transaction. */
async function runPhase(client: Client, seed: number, chooser: KeyChooser): Promise<number> {
  const value = new Uint8Array(VALUE_BYTES).fill(0x62);
  const endMs = performance.now() + phaseMs;
  const cpuBefore = process.cpuUsage();
  let transactions = 0;
  await Promise.all(
    client.sessions.map(async (session, index) => {
      const random = new Prng(seed * 1_000_003 + index);
      while (performance.now() < endMs) {
        for (let operation = 0; operation < OPERATIONS_PER_TRANSACTION; operation++) {
          const key = keyOf(chooser.choose(random));
          if (random.next() < 0.5) await session.get(key);
          else await session.put(key, value);
        }
        transactions++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return (cpu.user + cpu.system) / Math.max(1, transactions);
}

const median = (samples: readonly number[]) => [...samples].sort((a, b) => a - b)[samples.length >> 1];

async function main(): Promise<void> {
  const clients = [loadClient("this build", THIS_DIST)];
  if (values["baseline-dist"] !== undefined)
    clients.push(loadClient("baseline", path.resolve(values["baseline-dist"])));
  const chooser = new KeyChooser(keyCount, skew);
  // A first phase each warms the code and fills the cuts a little; not kept.
  for (const client of clients) await runPhase(client, 0, chooser);
  const samples = clients.map(() => [] as number[]);
  for (let phase = 1; phase <= phases; phase++) {
    // Alternated, and the first of each pair alternated too, so that neither build always follows the other.
    const order = phase % 2 === 0 ? clients.map((_, index) => index) : clients.map((_, index) => index).reverse();
    for (const index of order) samples[index].push(await runPhase(clients[index], phase, chooser));
  }
  const builds = clients.map((client, index) => ({
    build: client.name,
    cpuMicrosPerTransaction: round(median(samples[index])),
    phases: samples[index].map(round),
  }));
  const result = {
    bench: "client-cost",
    level,
    machine: machineInfo(),
    settings: {
      skew,
      keyCount,
      sessionCount,
      phases,
      phaseMs,
      stableLagMicros: STABLE_LAG_MICROS,
      stableStepMicros: STABLE_STEP_MICROS,
      valueBytes: VALUE_BYTES,
    },
    baselineDist: values["baseline-dist"],
    builds,
    ratioToBaseline:
      builds.length === 2 ? round(builds[0].cpuMicrosPerTransaction / builds[1].cpuMicrosPerTransaction) : undefined,
  };
  const levelPart = level === "causal-multi-key-lww" ? "" : `${level}-`;
  const written = writeResults(outDir, `client-cost-${levelPart}${machine}-zipf${skew}`, result, [
    {
      title: `${level} client CPU per transaction, in process (Zipf ${skew}, median of ${phases} phases)`,
      yLabel: "µs",
      groups: builds.map((build) => build.build),
      series: [{ name: "CPU per transaction", values: builds.map((build) => build.cpuMicrosPerTransaction) }],
    },
  ]);
  console.log(
    JSON.stringify({
      builds: builds.map(({ build, cpuMicrosPerTransaction }) => ({ build, cpuMicrosPerTransaction })),
      ratioToBaseline: result.ratioToBaseline,
    }),
  );
  for (const file of written) console.log(`wrote ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
