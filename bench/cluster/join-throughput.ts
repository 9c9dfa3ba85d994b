/**
 * Serving throughput during a join: two nodes of one actor, global replication 2 (each
 * holds every key), `keyCount` keys, and a steady GET/PUT load from AnnaClients in
 * processes of their own (bench/cluster/client-load.ts), counted in 1-second windows.
 * After `beforeSeconds` whole windows a third node joins; the load goes on until it is
 * ready plus `afterReadySeconds` and the copies are balanced (the old owners have dropped
 * what moved), then for `settledSeconds` more. Compares the windows during the join with
 * those before, and the settled ones too: what three node processes serve on this machine
 * once the join is over, which bounds what a join can keep. The whole windows while the
 * joiner's process starts (until it listens, welcomed by a member) are reported apart:
 * that start-up takes most of this shared machine's two cores for about a second, a cost
 * a real joiner pays on a machine of its own, not the cluster's.
 */
import { ClusterBenchConfig, clusterOptions } from "./config";
import { LoadWindow, startClientLoad } from "./client-load";
import { BenchNode, keyCountOf, killNodes, startCluster } from "./nodes";
import { sleep, waitUntil } from "./wait";
import { preloadKeys, waitForCopies } from "./preload";
import { ActorReport, ActorReportSampler, SecondCpuSampler } from "./samplers";
import { mean, sum } from "./stats";

const GLOBAL_REPLICATION = 2;
const LOAD_START_TIMEOUT_MS = 30_000;
const JOIN_TIMEOUT_MS = 120_000;
/** Past a window's end before the load stops: calls ended just before it are still counted in it. */
const WINDOW_CLOSE_MARGIN_MS = 20;

export interface JoinThroughputResult {
  keys: number;
  load: {
    clientProcesses: number;
    callsInFlight: number;
    keysPerRequest: number;
    putFraction: number;
    clientTimeoutMs: number;
  };
  /** Keys (tuples) answered per second: the mean of the whole windows before the join. */
  keysPerSecondBefore: number;
  /** Over the whole windows from the joiner's start until its readiness plus afterReadySeconds. */
  keysPerSecondDuringMin: number;
  keysPerSecondDuringMean: number;
  minToBeforeRatio: number;
  meanToBeforeRatio: number;
  /** The mean with the windows of the joiner's process start counted as during the join. */
  meanToBeforeRatioWithStart: number;
  /** The mean over the whole windows while the joiner's process started. */
  meanToBeforeRatioStarting: number;
  /** The mean over the windows before the joiner serves (keys being copied to it), and after (its old owners handing off and dropping, clients re-routing moved keys). */
  meanToBeforeRatioJoining: number;
  meanToBeforeRatioAfterReady: number;
  /** The mean over the windows after the copies are balanced: three nodes, no join left. */
  meanToBeforeRatioSettled: number;
  /** Calls that threw (AnnaClient gave up after its retries), over the whole run, by code. */
  errors: Record<string, number>;
  errorCount: number;
  joinerStartToListeningMs: number;
  joinerStartToReadyMs: number;
  /** Until the cluster held exactly two copies of every key, the joiner some of them. */
  joinerStartToBalancedMs: number;
  joinerKeysAtEnd: number;
  /** Every whole window: seconds from the joiner's start (window start), keys/s, errors, and the phase. */
  windows: Array<{
    secondsFromJoinStart: number;
    keysPerSecond: number;
    callsPerSecond: number;
    /** null in a window where no call ended. */
    callMsMean: number | null;
    callMsMax: number;
    /** Calls longer than the client's timeout: some request of theirs went unanswered and was sent again. */
    callsOverTimeout: number;
    /** The clients' routing lookups and tuples resent (WRONG_THREAD or no answer): keys found moved. */
    routingRequests: number;
    tuplesResent: number;
    errors: number;
    phase: "before" | "starting" | "join" | "after" | "settled";
    /** The machine's idle CPU share and the nodes' cores in the window (the joiner's start-up included). */
    machineIdleShare: number | null;
    nodesCpuCores: number | null;
  }>;
  /** Every actor counter report (about one a second per actor), seconds from the joiner's start: requests served and time spent on gossip. */
  actorReports: Array<Omit<ActorReport, "seenAtMs"> & { secondsFromJoinStart: number }>;
}

type Phase = JoinThroughputResult["windows"][number]["phase"];

/** When the join's steps happened (Date.now()). */
interface JoinTimes {
  measureStartMs: number;
  joinStartMs: number;
  /** The joiner listens: welcomed by a member, its process started. */
  listeningMs: number;
  readyMs: number;
  /** The end of the last window the join takes: ready plus afterReadySeconds, and balanced. */
  joinEndMs: number;
  endMs: number;
}

function phaseOf(window: LoadWindow, times: JoinTimes): Phase | undefined {
  const startMs = window.second * 1000;
  const windowEndMs = startMs + 1000;
  if (startMs < times.measureStartMs || windowEndMs > times.endMs) return undefined; // the warm-up, or cut short by the stop
  if (windowEndMs <= times.joinStartMs) return "before";
  if (windowEndMs <= times.listeningMs) return "starting";
  if (startMs < times.readyMs) return "join";
  return startMs < times.joinEndMs ? "after" : "settled";
}

function summarize(
  windows: LoadWindow[],
  cpu: SecondCpuSampler,
  times: JoinTimes,
): Pick<
  JoinThroughputResult,
  | "keysPerSecondBefore"
  | "keysPerSecondDuringMin"
  | "keysPerSecondDuringMean"
  | "minToBeforeRatio"
  | "meanToBeforeRatio"
  | "meanToBeforeRatioWithStart"
  | "meanToBeforeRatioStarting"
  | "meanToBeforeRatioJoining"
  | "meanToBeforeRatioAfterReady"
  | "meanToBeforeRatioSettled"
  | "errors"
  | "errorCount"
  | "windows"
> {
  const whole = windows.filter((window) => phaseOf(window, times) !== undefined);
  const keysIn = (phases: Phase[]) =>
    whole.filter((window) => phases.includes(phaseOf(window, times)!)).map((window) => window.keys);
  const before = mean(keysIn(["before"]));
  const during = keysIn(["join", "after"]);
  const errors: Record<string, number> = {};
  for (const window of windows)
    for (const [code, count] of Object.entries(window.errors)) errors[code] = (errors[code] ?? 0) + count;
  const duringMin = during.length === 0 ? NaN : Math.min(...during);
  return {
    keysPerSecondBefore: Math.round(before),
    keysPerSecondDuringMin: duringMin,
    keysPerSecondDuringMean: Math.round(mean(during)),
    minToBeforeRatio: duringMin / before,
    meanToBeforeRatio: mean(during) / before,
    meanToBeforeRatioWithStart: mean(keysIn(["starting", "join", "after"])) / before,
    meanToBeforeRatioStarting: mean(keysIn(["starting"])) / before,
    meanToBeforeRatioJoining: mean(keysIn(["join"])) / before,
    meanToBeforeRatioAfterReady: mean(keysIn(["after"])) / before,
    meanToBeforeRatioSettled: mean(keysIn(["settled"])) / before,
    errors,
    errorCount: sum(Object.values(errors)),
    windows: whole.map((window) => ({
      secondsFromJoinStart: Math.round((window.second * 1000 - times.joinStartMs) / 100) / 10,
      keysPerSecond: window.keys,
      callsPerSecond: window.calls,
      callMsMean: window.calls === 0 ? null : window.callMsTotal / window.calls,
      callMsMax: window.callMsMax,
      callsOverTimeout: window.callsOverTimeout,
      routingRequests: window.routingRequests,
      tuplesResent: window.tuplesResent,
      errors: sum(Object.values(window.errors)),
      phase: phaseOf(window, times)!,
      machineIdleShare: cpu.window(window.second)?.machineIdleShare ?? null,
      nodesCpuCores: cpu.window(window.second)?.nodesCpuCores ?? null,
    })),
  };
}

export async function measureJoinThroughput(
  config: ClusterBenchConfig,
  portOffset: number,
): Promise<JoinThroughputResult> {
  const options = config.joinThroughput;
  const nodes = await startCluster(2, clusterOptions(config, portOffset, 1, GLOBAL_REPLICATION));
  try {
    await preloadKeys(nodes, {
      keyCount: options.keyCount,
      processes: 1,
      batchKeys: 1000,
      callsInFlight: 2,
      valueBytes: config.valueBytes,
      seed: config.seed,
      timeoutMs: JOIN_TIMEOUT_MS,
    });
    await waitForCopies(nodes, GLOBAL_REPLICATION * options.keyCount, performance.now(), JOIN_TIMEOUT_MS);
    const loadOptions = {
      routingAddresses: nodes.map((node) => node.routingAddress),
      keyCount: options.keyCount,
      keysPerRequest: options.keysPerRequest,
      callsInFlight: options.callsInFlight,
      putFraction: options.putFraction,
      valueBytes: config.valueBytes,
      seed: config.seed,
      timeoutMs: options.clientTimeoutMs,
    };
    const load = startClientLoad(loadOptions, options.clientProcesses);
    const cpu = new SecondCpuSampler(() => nodes);
    const reports = new ActorReportSampler(() => nodes);
    await load.started(LOAD_START_TIMEOUT_MS);
    // The clients' JIT warms up for warmupSeconds; then, from the next whole second, beforeSeconds whole windows.
    await sleep(options.warmupSeconds * 1000);
    await sleep(1000 - (Date.now() % 1000));
    const measureStartMs = Date.now();
    await sleep(options.beforeSeconds * 1000);
    const joinStartMs = Date.now();
    const joiner = await BenchNode.start({ ...nodes[0].options, index: 3, joinIndex: 1 });
    const listeningMs = Date.now();
    nodes.push(joiner);
    await waitUntil(() => joiner.ready(), {
      timeoutMs: JOIN_TIMEOUT_MS,
      pollMs: 50,
      what: () => `${joiner.host} to serve after joining under load`,
    });
    const readyMs = Date.now();
    // afterReadySeconds and balanced copies, then to the end of that window so that it counts whole.
    await sleep(options.afterReadySeconds * 1000);
    await waitForCopies(nodes, GLOBAL_REPLICATION * options.keyCount, 0, JOIN_TIMEOUT_MS, (counts) => counts[2] > 0);
    const balancedMs = Date.now();
    const joinEndMs = Math.ceil(Date.now() / 1000) * 1000;
    await sleep(joinEndMs - Date.now());
    await sleep(options.settledSeconds * 1000 + WINDOW_CLOSE_MARGIN_MS);
    const endMs = Date.now();
    const windows = await load.stop();
    cpu.stop();
    const actorReports = (await reports.stop()).map(({ seenAtMs, ...report }) => ({
      ...report,
      secondsFromJoinStart: (seenAtMs - joinStartMs) / 1000,
    }));
    const summary = summarize(windows, cpu, { measureStartMs, joinStartMs, listeningMs, readyMs, joinEndMs, endMs });
    console.log(
      `join under load: ${summary.keysPerSecondBefore} keys/s before, min ${summary.keysPerSecondDuringMin} and mean ${summary.keysPerSecondDuringMean} during (x${summary.minToBeforeRatio.toFixed(2)} / x${summary.meanToBeforeRatio.toFixed(2)}; ` +
        `x${summary.meanToBeforeRatioWithStart.toFixed(2)} with the joiner's start-up, x${summary.meanToBeforeRatioStarting.toFixed(2)} in it; ` +
        `x${summary.meanToBeforeRatioJoining.toFixed(2)} joining, x${summary.meanToBeforeRatioAfterReady.toFixed(2)} after ready; ` +
        `x${summary.meanToBeforeRatioSettled.toFixed(2)} settled), errors ${JSON.stringify(summary.errors)}`,
    );
    return {
      keys: options.keyCount,
      load: {
        clientProcesses: options.clientProcesses,
        callsInFlight: options.callsInFlight,
        keysPerRequest: options.keysPerRequest,
        putFraction: options.putFraction,
        clientTimeoutMs: options.clientTimeoutMs,
      },
      ...summary,
      joinerStartToListeningMs: listeningMs - joinStartMs,
      joinerStartToReadyMs: readyMs - joinStartMs,
      joinerStartToBalancedMs: balancedMs - joinStartMs,
      joinerKeysAtEnd: keyCountOf(await joiner.status()),
      actorReports: actorReports.filter((report) => report.secondsFromJoinStart * 1000 >= measureStartMs - joinStartMs),
    };
  } finally {
    await killNodes(nodes);
  }
}
