/**
 * `annakv dev-cluster` end to end, the built CLI as a child process: two nodes, a key put
 * through node 1 is read through node 2, and SIGINT stops both, the last started first
 * (exit 0, neither node process left).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { CLI_PATH, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

/** Within the scratch offset's span, clear of its metrics (6400+) and routing (6450+) ports and of cli-status-cluster's node (+20). */
const portOffset = PORT_OFFSETS.scratch + 40;
/** dev-cluster's own deadline for /ready is 30 s. */
const READY_TIMEOUT_MS = 40_000;
/** Gossip carries the put to node 2 within a gossip period (100 ms); generous for a loaded machine. */
const REPLICATED_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 30_000;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

describe("annakv dev-cluster", () => {
  let cluster: ChildProcess | undefined;
  let nodePids: number[] = [];
  let logDir: string | undefined;

  afterEach(() => {
    // A failed test must not leave the cluster running: its nodes are detached, so each is killed by pid.
    for (const pid of nodePids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    if (cluster?.exitCode === null) cluster.kill("SIGKILL");
    if (logDir !== undefined) fs.rmSync(logDir, { recursive: true, force: true });
  });

  it("starts two nodes that share keys and stops both on SIGINT", async () => {
    const child = spawn(process.execPath, [CLI_PATH, "dev-cluster", "--nodes=2", `--port-offset=${portOffset}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cluster = child;
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    await waitFor(
      () => output.includes("2 nodes ready"),
      READY_TIMEOUT_MS,
      () => `dev-cluster never became ready:\n${output}`,
      exited,
    );
    logDir = /their logs: (\S+)\/node-N\.log/.exec(output)?.[1];
    nodePids = [...output.matchAll(/node \d+ {2}pid (\d+)/g)].map((match) => Number(match[1]));
    expect(nodePids).toHaveLength(2);

    const at = (host: string) => [`--host=${host}`, `--port-offset=${portOffset}`];
    expect(cli("put", "dev-key", "dev-value", ...at("127.0.0.1")).status).toBe(0);
    let got: ReturnType<typeof cli> | undefined;
    await waitFor(
      () => (got = cli("get", "dev-key", ...at("127.0.0.2"))).stdout === "dev-value\n",
      REPLICATED_TIMEOUT_MS,
      () => `node 2 never answered the key: ${JSON.stringify(got)}`,
    );

    child.kill("SIGINT");
    await waitFor(
      () => child.exitCode !== null || child.signalCode !== null,
      STOP_TIMEOUT_MS,
      () => `dev-cluster did not stop:\n${output}`,
    );
    expect(await exited).toBe(0);
    expect(output).toMatch(
      new RegExp(
        `node 2 \\(pid ${nodePids[1]}\\) exited with code 0\\nnode 1 \\(pid ${nodePids[0]}\\) exited with code 0\\n`,
      ),
    );
    expect(nodePids.filter(isAlive)).toEqual([]);
  }, 120_000);
});
