/**
 * Port offsets per node a test starts, so that Jest can run files in parallel without two
 * nodes binding one port. A node with offset P uses 6200+P .. 6451+P: offsets are 300 apart,
 * from 15300 up, away from the default ports and the benchmarks' offsets (bench/cluster:
 * 8000 in its smoke test, 10000-12100 by hand; bench/consistency: 15000), and every port
 * below Linux's ephemeral range (32768 up), where a client socket bound to port 0 could
 * take a node's port: two offsets past it once met EADDRINUSE. A name past the last band
 * that fits fails here, at import.
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

const FIRST_OFFSET = 15_300;
const OFFSET_STEP = 300;
/** The highest port a node takes is 6451 + its offset; Linux's ephemeral range begins at 32768. */
const LAST_OFFSET_MAX = 32_767 - 6451;

export const PORT_OFFSETS = Object.fromEntries(
  names.map((name, index) => [name, FIRST_OFFSET + OFFSET_STEP * index]),
) as Record<(typeof names)[number], number>;

if (FIRST_OFFSET + OFFSET_STEP * (names.length - 1) > LAST_OFFSET_MAX)
  throw new Error(`test/support/ports.ts: ${names.length} port bands do not fit below the ephemeral range`);
