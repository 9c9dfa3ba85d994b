/**
 * The server benchmark's own tools in a CI-sized form, so they cannot rot unnoticed: the
 * closed-loop load generator against a real node (preload, then GET and PUT phases, 1 and
 * 16 keys per request, on both client transports: annakv's ZMTP and libzmq through
 * zeromq.js) and the echo that measures the transport floor; and the benchmark packaged for
 * the device machine (bench/server-device) run from its package alone, with several
 * generator processes. Redis is not needed here; `npm run bench:server` compares against it.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runLoad } from "../../bench/load-generator";
import { waitForPort } from "../../bench/redis";
import { startNodeProcess, NodeProcess } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.benchServer;
const common = { portOffset, concurrency: 8, keyCount: 2000, keyBytes: 16, valueBytes: 64, seed: 7 };

describe("server benchmark tools", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, threads: 2 });
  });

  afterAll(async () => {
    expect(await node?.stop()).toBe(0);
  });

  it("preloads every key, then every GET finds its key and every request is answered", async () => {
    const preload = await runLoad({ ...common, keysPerRequest: 1, preload: true, warmupMs: 0, durationMs: 0 });
    // The preload writes each key once, up to 100 keys a request to each owner: one partial request per actor at most.
    expect(preload.requests).toBeGreaterThanOrEqual(common.keyCount / 100);
    expect(preload.requests).toBeLessThanOrEqual(common.keyCount / 100 + 2);
    expect(preload.tupleErrors).toEqual({});
    for (const [clientTransport, keysPerRequest] of [
      ["zmtp", 1],
      ["zmtp", 16],
      ["zeromq", 1],
      ["zeromq", 16],
    ] as const) {
      const gets = await runLoad({
        ...common,
        clientTransport,
        keysPerRequest,
        putFraction: 0,
        skew: 0,
        warmupMs: 50,
        durationMs: 300,
        serverPid: node.child.pid!,
      });
      expect(gets.requests).toBeGreaterThan(0);
      expect(gets.opsPerSecond).toBeCloseTo(gets.requestsPerSecond * keysPerRequest, 6);
      expect(gets.tupleErrors).toEqual({});
      expect(gets.lostRequests).toBe(0);
      expect(gets.latencyMsP50).toBeGreaterThan(0);
      expect(gets.latencyMsP99).toBeGreaterThanOrEqual(gets.latencyMsP50);
      expect(gets.serverCpuCores).toBeGreaterThan(0);
    }
  });

  it("runs a skewed mix of PUTs and GETs without errors, from several clients at once", async () => {
    const mix = await runLoad({
      ...common,
      connections: 4,
      keysPerRequest: 16,
      putFraction: 0.5,
      skew: 1,
      warmupMs: 50,
      durationMs: 300,
    });
    expect(mix.requests).toBeGreaterThan(0);
    expect(mix.tupleErrors).toEqual({});
    expect(mix.lostRequests).toBe(0);
    await expect(runLoad({ ...common, connections: common.concurrency + 1 })).rejects.toThrow(
      /connections must be an integer from 1 to the concurrency/,
    );
  });
});

describe("echo floor", () => {
  it.each(["zmtp", "zeromq"])(
    "echoes requests of one size with replies of another and reports the rate (%s client)",
    async (clientTransport) => {
      const script = path.resolve(__dirname, "../../bench/echo-floor.ts");
      const register = path.resolve(__dirname, "../../bench/register.js");
      const port = 6300 + portOffset;
      const server = spawn(
        process.execPath,
        ["-r", register, script, "--role", "server", "--port", String(port), "--threads", "2", "--reply-bytes", "300"],
        { stdio: "ignore" },
      );
      try {
        await waitForPort(port, 20_000);
        await waitForPort(port + 1, 20_000);
        const client = spawn(
          process.execPath,
          [
            "-r",
            register,
            script,
            "--role",
            "client",
            "--port",
            String(port),
            "--threads",
            "2",
            "--connections",
            "3",
            "--request-bytes",
            "40",
            "--concurrency",
            "6",
            "--warmup-ms",
            "50",
            "--duration-ms",
            "300",
            "--server-pid",
            String(server.pid),
            "--client-transport",
            clientTransport,
          ],
          { stdio: ["ignore", "pipe", "inherit"] },
        );
        let stdout = "";
        client.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => client.once("exit", resolve));
        expect(code).toBe(0);
        const result = JSON.parse(stdout.trim());
        expect(result.requestBytes).toBe(40);
        expect(result.concurrency).toBe(6);
        expect(result.connections).toBe(3);
        expect(result.serverThreads).toBe(2);
        expect(result.requestsPerSecond).toBeGreaterThan(0);
        expect(result.latencyMsP99).toBeGreaterThanOrEqual(result.latencyMsP50);
        expect(result.serverCpuCores).toBeGreaterThan(0);
      } finally {
        // The next case binds the same ports: wait until these are free.
        const exited = new Promise((resolve) => server.once("exit", resolve));
        if (server.exitCode === null && server.signalCode === null) {
          server.kill("SIGKILL");
          await exited;
        }
      }
    },
  );
});

describe("bench/server-device", () => {
  it("packages the benchmark and runs both core splits from the package, generators side by side", () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), "annakv-server-device-"));
    try {
      const root = path.resolve(__dirname, "../..");
      const packageDir = path.join(scratch, "package");
      const out = path.join(scratch, "out");
      execFileSync(path.join(root, "bench/server-device/package.sh"), ["--no-node", "--no-redis", packageDir], {
        env: { ...process.env, XZ_OPT: "-0" },
        stdio: "pipe",
      });
      // Tiny flags after the script's own: they win for both runs.
      const tiny = ["--quick", "--no-redis", "--setups", "wasm:1", "--generators", "2", "--concurrency", "4"];
      tiny.push("--connections", "4", "--rounds", "1", "--warmup-ms", "50", "--duration-ms", "200");
      tiny.push("--key-count", "2000", "--port-offset", String(portOffset));
      execFileSync(path.join(root, "bench/server-device/run.sh"), ["ci", ...tiny], {
        env: { ...process.env, NODE: process.execPath, DEVSERVER: packageDir, OUT: out },
        stdio: "pipe",
      });
      for (const split of ["a8g8", "a12g4"]) {
        const result = JSON.parse(readFileSync(path.join(out, `server-ci-${split}.json`), "utf8"));
        expect(result.machine.name).toBe(`ci-${split}`);
        expect(result.config).toMatchObject({ generators: 2, redisIoThreads: [], floors: false, mixes: false });
        const runs = result.rounds[0].annakvRuns["annakv wasm x1"];
        expect(runs.map((run: { name: string }) => run.name)).toEqual(["put-1", "get-1", "put-16", "get-16"]);
        for (const run of runs) {
          // Two generators' results merged: their concurrency adds up, and both answered requests.
          expect(run.result.options.concurrency).toBe(4);
          expect(run.result.requests).toBeGreaterThan(0);
          expect(run.result.tupleErrors).toEqual({});
          expect(run.result.lostRequests).toBe(0);
        }
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
