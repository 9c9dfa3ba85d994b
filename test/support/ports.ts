/**
 * Port offsets per test file, so that Jest can run files in parallel without two nodes
 * binding the same port. A node with offset P uses 6200+P .. 6451+P: offsets are 300 apart.
 */
export const PORT_OFFSETS = {
  node: 1000,
  nodeReplicated: 1300,
  nodeBadInput: 1600,
  nodeShutdown: 1900,
  nodeRestart: 2200,
  cli: 2500,
  clientTs: 2800,
  metrics: 3100,
} as const;
