/**
 * `annakv status` against a real node (the built CLI as a child process): the cluster
 * block comes before the actor lines, names the node itself alive and ready, and every
 * line fits in 100 columns.
 */
import { spawnSync } from "node:child_process";
import { CLI_PATH, NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

/** Within the scratch offset's span, clear of its metrics (6400+) and routing (6450+) ports, which other tests need dead. */
const portOffset = PORT_OFFSETS.scratch + 20;
const COLUMNS_MAX = 100;

describe("annakv status: the cluster block", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, threads: 2 });
  });

  afterAll(async () => {
    expect(await node?.stop()).toBe(0);
  });

  it("lists this node as an alive member, then each actor's rebalance figures, then the actor table", async () => {
    // Actors post their counters every stats interval: wait for both first reports.
    await waitFor(
      async () => (await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json()).actors.length === 2,
      10_000,
      () => `the actors never reported:\n${node.output()}`,
    );
    const result = spawnSync(process.execPath, [CLI_PATH, "status", `--port-offset=${portOffset}`], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    const self = `127.0.0.1:${6350 + portOffset}`;
    expect(lines[1]).toMatch(
      new RegExp(`^cluster: this node ${self} alive, ready, global replication 2, layout \\d+, 0 bad frames$`),
    );
    expect(lines[2]).toMatch(/^member\s+state\s+actors\s+keys\s+last heard ms$/);
    expect(lines[3]).toMatch(new RegExp(`^${self}\\s+alive\\s+2\\s+0\\s+0$`));
    expect(lines[4]).toMatch(/^rebalance: actor\s+layout\s+pages in flight\s+keys sent\s+keys moved out$/);
    expect(lines[5]).toMatch(/^\s+0\s+\d+\s+0\s+0\s+0$/);
    expect(lines[6]).toMatch(/^\s+1\s+\d+\s+0\s+0\s+0$/);
    expect(lines[7]).toMatch(/^actor\s+keys\s+bytes/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(COLUMNS_MAX);
  });
});
