/**
 * The `annakv` binary end to end, as child processes: put/get/status against a real node,
 * help text, and the exit codes scripts rely on (0 ok, 1 not found, 2 usage, 3 refused,
 * 4 unavailable).
 */
import { spawnSync } from "node:child_process";
import net from "node:net";
import { CLI_PATH, NodeProcess, startNodeProcess } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { dottedCausalPayload } from "../support/payloads";
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeDot, encodeDotRequest } from "../../src/lattices/dot-requests";
import { dottedCausal, toDottedContext, type DottedContext } from "../../src/lattices/dotted-causal";

const portOffset = PORT_OFFSETS.cli;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const at = [`--port-offset=${portOffset}`];

describe("annakv CLI", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, threads: 2 });
  });

  afterAll(async () => {
    expect(await node?.stop("SIGINT")).toBe(0);
  });

  it("puts and gets an LWW value (exit 0) and misses with exit 1", () => {
    expect(cli("put", "greeting", "hello", "world", ...at).status).toBe(0);
    const got = cli("get", "greeting", ...at);
    expect(got).toMatchObject({ status: 0, stdout: "hello world\n" });
    const json = JSON.parse(cli("get", "greeting", "--json", ...at).stdout);
    expect(json).toMatchObject({ type: "LWW", value: "hello world" });
    const missing = cli("get", "nobody-wrote-this", ...at);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not found");
  });

  it("merges sets, keeps the lowest priority, and stores causal values", () => {
    expect(cli("put", "fruits", "pear", "apple", "--type", "set", ...at).status).toBe(0);
    expect(cli("put", "fruits", "fig", "--type", "set", ...at).status).toBe(0);
    expect(cli("get", "fruits", ...at).stdout).toBe("apple\nfig\npear\n");
    expect(cli("put", "job", "later", "--type", "priority", "--priority", "9", ...at).status).toBe(0);
    expect(cli("put", "job", "sooner", "--type", "priority", "--priority", "1", ...at).status).toBe(0);
    expect(cli("get", "job", ...at).stdout).toBe("sooner\n");
    expect(cli("put", "doc", "v1", "--type", "causal", "--clock", "alice=1", ...at).status).toBe(0);
    expect(JSON.parse(cli("get", "doc", ...at).stdout)).toEqual({
      type: "SINGLE_CAUSAL",
      vectorClock: { alice: 1 },
      values: ["v1"],
    });
  });

  it("shows a DOTTED_CAUSAL value's context and versions, merged by the node", async () => {
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 2000 });
    try {
      await client.put("dotted", LatticeType.DOTTED_CAUSAL, dottedCausalPayload({ r: 1 }, [], [["r", 1, "first"]]));
      // A writer who had seen nothing of r: its version stays beside the first.
      await client.put("dotted", LatticeType.DOTTED_CAUSAL, dottedCausalPayload({}, [["r", 3]], [["r", 3, "blind"]]));
    } finally {
      await client.close();
    }
    expect(JSON.parse(cli("get", "dotted", ...at).stdout)).toEqual({
      type: "DOTTED_CAUSAL",
      context: { vector: { r: 1 }, cloud: ["r:3"] },
      versions: [
        { dot: "r:1", value: "first" },
        { dot: "r:3", value: "blind" },
      ],
    });
  });

  it("serves dot requests: the node names each version and answers with the dot (docs/protocol.md)", async () => {
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 2000 });
    try {
      const request = (context: DottedContext, value: string, epoch: number) => ({
        key: "dot-requests",
        type: LatticeType.DOTTED_CAUSAL,
        payload: encodeDotRequest({
          stampMicros: Date.now() * 1000,
          epoch,
          context,
          value: new TextEncoder().encode(value),
        }),
      });
      // Epoch 0 is not the node's: refused STALE_STAMP, with the epoch to stamp in.
      const refused = (await client.putManySettled([request(dottedCausal.bottom.context, "first", 0)])).get(
        "dot-requests",
      )!;
      if (refused.status !== "refused" || refused.epoch === undefined)
        throw new Error(`not refused: ${JSON.stringify(refused)}`);
      const epoch = refused.epoch;
      const send = async (context: DottedContext, value: string) => {
        const outcome = (await client.putManySettled([request(context, value, epoch)])).get("dot-requests")!;
        if (outcome.status !== "applied" || outcome.dot === undefined)
          throw new Error(`not applied with a dot: ${JSON.stringify(outcome)}`);
        return decodeDot(outcome.dot);
      };
      const first = await send(dottedCausal.bottom.context, "first");
      expect(first.counter).toBe(1);
      expect(first.id).toHaveLength(12);
      // A writer that saw the first overwrites it; a blind one stays beside.
      const second = await send(toDottedContext([], [first]), "second");
      await send(dottedCausal.bottom.context, "blind");
      expect(second.counter).toBeGreaterThan(first.counter);
      const stored = JSON.parse(cli("get", "dot-requests", ...at).stdout);
      expect(stored.versions.map((version: { value: string }) => version.value).sort()).toEqual(["blind", "second"]);
    } finally {
      await client.close();
    }
  });

  it("exits 3 when the node refuses a put (type conflict)", () => {
    expect(cli("put", "conflict", "x", ...at).status).toBe(0);
    const refused = cli("put", "conflict", "y", "--type", "set", ...at);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain("LATTICE");
  });

  it("status lists every actor with its counters", () => {
    const status = cli("status", ...at);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/2 actors, engine wasm/);
    // Summary; the cluster line, its member table (header, this node) and the rebalance table (header, two actors); the actor table (header, two actors); routing.
    expect(status.stdout.trim().split("\n")).toHaveLength(11);
    // The CLI's own puts and gets asked the routing service for addresses.
    expect(status.stdout).toMatch(/routing: [1-9]\d* address requests answered, 0 bad frames/);
    const json = JSON.parse(cli("status", "--json", ...at).stdout);
    expect(json.actors.map((actor: { tid: number }) => actor.tid)).toEqual([0, 1]);
  });

  it.each([
    ["routing", 6450],
    ["metrics", 6400],
  ])("start exits 4 with the reason when the %s port is taken, after its actors started", async (_, basePort) => {
    const offset = PORT_OFFSETS.portTaken;
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(basePort + offset, "127.0.0.1", resolve));
    try {
      const start = cli("start", "--threads=2", `--port-offset=${offset}`, "--log-level=warn");
      expect(start.status).toBe(4);
      expect(start.stderr).toContain(`EADDRINUSE: address already in use 127.0.0.1:${basePort + offset}`);
      // The actors started and stopped again: their ports are free for the next node.
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) =>
        probe.once("error", reject).listen(6200 + offset, "127.0.0.1", resolve),
      );
      await new Promise((resolve) => probe.close(resolve));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("exits 4 when no node answers", () => {
    const offline = [`--port-offset=${PORT_OFFSETS.scratch}`, "--timeout-ms=200"];
    expect(cli("get", "k", ...offline).status).toBe(4);
    expect(cli("status", ...offline).status).toBe(4);
  });

  it("prints help (exit 0) and refuses bad options with a message and exit 2", () => {
    const help = cli("start", "--help");
    expect(help.status).toBe(0);
    for (const option of [
      "--threads",
      "--host",
      "--port-offset",
      "--engine",
      "--local-replication",
      "--gossip-period-ms",
      "--max-key-bytes",
      "--max-value-bytes",
      "--max-store-memory-bytes",
      "--log-level",
      "--hot-key-replication",
      "--hot-key-window-ms",
      "--hot-key-threshold",
      "--hot-key-min-ops-per-sec",
      "--hot-key-cooldown-windows",
      "--rebalance-share",
      "--causal-accept-lag-ms",
    ]) {
      expect(help.stdout).toContain(option);
    }
    const refused: Array<[string[], string]> = [
      [["--threads", "0"], "threads must be an integer from 1"],
      [["--engine", "rust"], "rust"],
      [["--threads", "two"], "is not an integer"],
      [["--hot-key-replication", "maybe"], "is not on or off"],
      [["--hot-key-threshold", "0"], "hotKeyThreshold must be a number above 0"],
      [["--rebalance-share", "2"], "rebalanceShare must be a number above 0 and at most 1"],
      [["--rebalance-share", "fast"], "is not a number"],
      [["--causal-accept-lag-ms", "-5"], "causalAcceptLagMs must be an integer from 0"],
      [["--host", "bad host"], "host must be an IP address"],
    ];
    for (const [args, message] of refused) {
      const result = cli("start", ...args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toContain(message);
    }
    expect(cli("frobnicate").status).toBe(2);
  });
});
