/**
 * Failure detection time: three nodes of one actor, `kill -9` of node 3, and the time
 * until each survivor's /status calls it dead (and first suspect), polled every `pollMs`.
 * Node 3 is started again (it rejoins under a new incarnation) before the next trial.
 */
import { ClusterBenchConfig, clusterOptions } from "./config";
import { BenchNode, killNodes, memberState, startCluster, waitForAlive } from "./nodes";
import { sleep } from "./wait";
import { median } from "./stats";

export interface DetectionTrial {
  /** Per survivor (by host): ms from SIGKILL until its /status showed the victim suspect, then dead. */
  suspectMsBySurvivor: Record<string, number>;
  deadMsBySurvivor: Record<string, number>;
  /** The later survivor's: when the whole cluster knew. */
  deadMsMax: number;
  /** ms from starting the victim again until every node served and saw three alive (not part of the detection). */
  rejoinMs: number;
}

export interface FailureDetectionResult {
  nodes: number;
  failureTimeoutMs: number;
  pollMs: number;
  trials: DetectionTrial[];
  /** Median over trials of deadMsMax. */
  deadMsMedian: number;
  /** Median over every survivor of every trial. */
  deadMsMedianPerSurvivor: number;
}

const NODE_DEFAULT_FAILURE_TIMEOUT_MS = 5000;

/** Polls one survivor until it calls `victimHost` dead; returns when it first saw suspect and dead, in ms after `killedAtMs`. */
async function watchVictim(
  survivor: BenchNode,
  victimHost: string,
  killedAtMs: number,
  pollMs: number,
  deadlineMs: number,
): Promise<{ suspectMs: number; deadMs: number }> {
  let suspectMs = NaN;
  for (;;) {
    const state = memberState(await survivor.status(), victimHost);
    const sinceKillMs = performance.now() - killedAtMs;
    if (state?.includes("suspect") && Number.isNaN(suspectMs)) suspectMs = sinceKillMs;
    if (state === "dead") return { suspectMs: Number.isNaN(suspectMs) ? sinceKillMs : suspectMs, deadMs: sinceKillMs };
    if (sinceKillMs > deadlineMs)
      throw new Error(
        `${survivor.host} still calls ${victimHost} ${state} ${Math.round(sinceKillMs)} ms after kill -9`,
      );
    await sleep(pollMs);
  }
}

async function runTrial(
  config: ClusterBenchConfig,
  nodes: BenchNode[],
  failureTimeoutMs: number,
): Promise<DetectionTrial> {
  const victim = nodes[2];
  const survivors = nodes.slice(0, 2);
  const killedAtMs = performance.now();
  victim.child.kill("SIGKILL");
  const watched = await Promise.all(
    survivors.map((survivor) =>
      watchVictim(survivor, victim.host, killedAtMs, config.failureDetection.pollMs, 6 * failureTimeoutMs),
    ),
  );
  await victim.exited;
  const restartedAtMs = performance.now();
  nodes[2] = await BenchNode.start({ ...victim.options });
  await waitForAlive(nodes, 3, 10 * failureTimeoutMs);
  const rejoinMs = performance.now() - restartedAtMs;
  const byHost = (pick: (w: (typeof watched)[number]) => number) =>
    Object.fromEntries(survivors.map((survivor, i) => [survivor.host, Math.round(pick(watched[i]))]));
  return {
    suspectMsBySurvivor: byHost((w) => w.suspectMs),
    deadMsBySurvivor: byHost((w) => w.deadMs),
    deadMsMax: Math.round(Math.max(...watched.map((w) => w.deadMs))),
    rejoinMs: Math.round(rejoinMs),
  };
}

export async function measureFailureDetection(
  config: ClusterBenchConfig,
  portOffset: number,
): Promise<FailureDetectionResult> {
  const failureTimeoutMs = config.failureTimeoutMs ?? NODE_DEFAULT_FAILURE_TIMEOUT_MS;
  const nodes = await startCluster(3, clusterOptions(config, portOffset, 1, 2));
  const trials: DetectionTrial[] = [];
  try {
    for (let trial = 0; trial < config.failureDetection.trials; trial++) {
      trials.push(await runTrial(config, nodes, failureTimeoutMs));
      console.log(
        `failure detection, trial ${trial + 1}: dead after ${JSON.stringify(trials[trial].deadMsBySurvivor)} ms (suspect ${JSON.stringify(trials[trial].suspectMsBySurvivor)}), rejoined in ${trials[trial].rejoinMs} ms`,
      );
    }
  } finally {
    await killNodes(nodes);
  }
  return {
    nodes: 3,
    failureTimeoutMs,
    pollMs: config.failureDetection.pollMs,
    trials,
    deadMsMedian: median(trials.map((trial) => trial.deadMsMax)),
    deadMsMedianPerSurvivor: median(trials.flatMap((trial) => Object.values(trial.deadMsBySurvivor))),
  };
}
