/**
 * Port offsets per node a test starts, so that Jest can run files in parallel without two
 * nodes binding one port. A node with offset P uses 6200+P .. 6451+P: offsets are 300 apart,
 * from 16000 up, away from the default ports and the benchmarks' offsets (bench/cluster:
 * 8000 in its smoke test, 10000-12100 by hand), and every port below Linux's ephemeral
 * range (32768 up), where a client socket bound to port 0 could take a node's port.
 */
const names = [
  "nodeWasm",
  "nodeTs",
  "replicatedWasm",
  "replicatedTs",
  "badInput",
  "shutdown",
  "restartBefore",
  "cli",
  "metrics",
  "clientRetry",
  "hotKeys",
  "hotKeysTs",
  "benchServer",
  "scratch",
  "portTaken",
  "ipv6",
  "clientFailover",
  "clientPutAcks",
  "clusterBasic",
  "clusterFailure",
  "clusterJoinLeave",
  "clusterTls",
  "clusterAntiEntropy",
  "clusterHotKeys",
  "actorFaults",
  "connectionLimits",
  "memoryLimit",
  "cliExits",
  "fuzz",
  "consistencySession",
  "consistencyCluster",
  "consistencyCausal",
  "clientAddressRefresh",
  "benchConsistency",
  "consistencyStability",
  "consistencyStabilityCluster",
  "consistencyCausalLww",
] as const;

export const PORT_OFFSETS = Object.fromEntries(names.map((name, index) => [name, 16_000 + 300 * index])) as Record<
  (typeof names)[number],
  number
>;
