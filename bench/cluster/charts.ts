/** The cluster benchmark's figures as charts (bench/chart.ts), one panel per measurement. */
import type { Chart } from "../chart";
import type { FailureDetectionResult } from "./failure-detection";
import type { GossipCostResult } from "./gossip-cost";
import type { HandoffResult } from "./handoff";
import type { JoinThroughputResult } from "./join-throughput";
import type { NodeCountResult } from "./node-count";

function failureChart(result: FailureDetectionResult): Chart {
  const hosts = Object.keys(result.trials[0].deadMsBySurvivor);
  return {
    title: `kill -9 to dead, per survivor (failure timeout ${result.failureTimeoutMs} ms)`,
    yLabel: "ms",
    groups: result.trials.map((_, index) => `trial ${index + 1}`),
    series: hosts.map((host) => ({ name: host, values: result.trials.map((trial) => trial.deadMsBySurvivor[host]) })),
  };
}

function handoffChart(result: HandoffResult): Chart {
  const seconds = (ms: number) => ms / 1000;
  return {
    title: `${result.keys.toLocaleString("en")} keys, 3 nodes, 2 copies: time per step`,
    yLabel: "s",
    groups: [
      "load",
      "kill: detect",
      "kill: 2 copies",
      "join: ready",
      "join: balanced",
      "leave: exit",
      "leave: 2 copies",
    ],
    series: [
      {
        name: "seconds",
        values: [
          result.load.seconds,
          seconds(result.failure.killToDeadMs),
          seconds(result.failure.deadToReplicatedMs),
          seconds(result.join.startToReadyMs),
          seconds(result.join.startToBalancedMs),
          seconds(result.leave.sigtermToExitMs),
          seconds(result.leave.sigtermToReplicatedMs),
        ],
      },
    ],
  };
}

function joinChart(result: JoinThroughputResult): Chart {
  return {
    kind: "line",
    title: "keys/s served in 1-s windows while a third node joins (2 nodes, 2 copies)",
    yLabel: "keys/s",
    xLabel:
      `window start, s from the joiner's start (listening at ${(result.joinerStartToListeningMs / 1000).toFixed(1)} s, ready at ${(result.joinerStartToReadyMs / 1000).toFixed(1)} s, ` +
      `balanced at ${(result.joinerStartToBalancedMs / 1000).toFixed(1)} s)`,
    groups: result.windows.map((window) => window.secondsFromJoinStart.toFixed(1)),
    series: [{ name: "keys/s", values: result.windows.map((window) => window.keysPerSecond) }],
    reference: { name: "mean before", values: result.windows.map(() => result.keysPerSecondBefore) },
  };
}

function gossipCharts(result: GossipCostResult): Chart[] {
  return [
    {
      kind: "stacked",
      title: `bytes sent between nodes per PUT (3 nodes, 2 copies, ${Math.round(result.perWrite.putsPerSecond).toLocaleString("en")} PUTs/s)`,
      yLabel: "bytes per PUT",
      groups: ["per PUT"],
      series: [
        { name: "actor gossip", values: [result.perWrite.gossipBytesPerWrite] },
        { name: "membership", values: [result.perWrite.membershipBytesPerWrite] },
      ],
    },
    {
      kind: "stacked",
      title: `idle traffic, ${result.keys.toLocaleString("en")} keys, by anti-entropy period`,
      yLabel: "bytes/s",
      groups: result.idle.map((idle) => `every ${idle.antiEntropyPeriodMs} ms`),
      series: [
        { name: "actor gossip", values: result.idle.map((idle) => idle.gossipBytesPerSecond) },
        { name: "membership", values: result.idle.map((idle) => idle.membershipBytesPerSecond) },
      ],
    },
  ];
}

function nodeCountChart(result: NodeCountResult): Chart {
  const operations = Object.keys(result.medianOpsPerSecond) as Array<keyof NodeCountResult["medianOpsPerSecond"]>;
  return {
    title: `same actors, more nodes: ops/s, ${result.keysPerRequest} keys/request, ${result.concurrency} in flight (median of ${result.rounds.length} rounds)`,
    yLabel: "ops/s",
    groups: operations.map((op) => `${op} x${result.keysPerRequest}`),
    series: result.setups.map((setup) => ({
      name: setup,
      values: operations.map((op) => result.medianOpsPerSecond[op][setup]),
    })),
  };
}

export interface ClusterFigures {
  failureDetection: FailureDetectionResult;
  handoff: HandoffResult;
  joinThroughput: JoinThroughputResult;
  gossipCost: GossipCostResult;
  nodeCount: NodeCountResult;
}

/** A panel per measurement that ran (`--only` runs some). */
export function clusterCharts(figures: Partial<ClusterFigures>): Chart[] {
  return [
    ...(figures.failureDetection ? [failureChart(figures.failureDetection)] : []),
    ...(figures.handoff ? [handoffChart(figures.handoff)] : []),
    ...(figures.joinThroughput ? [joinChart(figures.joinThroughput)] : []),
    ...(figures.gossipCost ? gossipCharts(figures.gossipCost) : []),
    ...(figures.nodeCount ? [nodeCountChart(figures.nodeCount)] : []),
  ];
}
