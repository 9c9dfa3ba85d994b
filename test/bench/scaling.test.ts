/**
 * The scaling benchmark (bench/scaling) in a CI-sized form: packaged as for the device
 * (plain JavaScript, no node_modules above it), run from another directory, and its JSON
 * checked for what the routing rule and the time accounting promise.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

interface TimeSplit {
  serve: number;
  merge: number;
  gossip: number;
  idle: number;
}

interface Run {
  system: string;
  kind: string;
  feed?: string;
  workload: string;
  zipf: number;
  threads: number;
  opsPerSec: number;
  workerOpsPerSec: number;
  speedup?: number;
  draws: number;
  opErrors: number;
  timeSplit: { meanOverWorkers: TimeSplit; busiestWorker: TimeSplit & { tid: number } };
  workers: { tid: number; kept: number; share: number; opsPerSec: number; opErrors: number; gossipKeysSent: number }[];
}

const SYSTEMS = [
  "shared-locked",
  "shared-hogwild",
  "annakv-partitioned-wasm",
  "annakv-partitioned-wasm-resident",
  "annakv-full-wasm",
  "annakv-selective-wasm",
  "annakv-partitioned-ts",
  "annakv-full-ts",
  "annakv-selective-ts",
];
const THREADS = [1, 2];
const ZIPFS = [0.5, 4];
const WORKLOADS = ["update", "mix"];

function splitSum(split: TimeSplit): number {
  return split.serve + split.merge + split.gossip + split.idle;
}

describe("bench/scaling", () => {
  let scratch: string;
  let runs: Run[];
  let result: { complete: boolean; runs: Run[]; skipped: unknown[] };

  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "annakv-scaling-"));
    const bench = path.join(scratch, "devbench");
    const out = path.join(scratch, "out");
    const root = path.resolve(__dirname, "../..");
    execFileSync(path.join(root, "bench/scaling/package-device.sh"), ["--no-node", bench], { stdio: "pipe" });
    const args = [
      "--keys",
      "5000",
      "--seconds",
      "0.2",
      "--threads",
      "1,2",
      "--zipf",
      "0.5,4",
      "--workload",
      "update,mix",
      "--mix-zipf",
      "0.5,4",
      "--machine",
      "ci",
      "--out-dir",
      out,
    ];
    execFileSync(process.execPath, [path.join(bench, "bench/scaling/main.js"), ...args], {
      cwd: scratch,
      stdio: "pipe",
    });
    result = JSON.parse(readFileSync(path.join(out, "scaling-ci.json"), "utf8"));
    runs = result.runs;
    expect(readFileSync(path.join(out, "scaling-ci.svg"), "utf8")).toContain("<svg");
  }, 60_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("runs every system, thread count, workload and skew", () => {
    expect(result.complete).toBe(true);
    expect(result.skipped).toEqual([]);
    for (const system of SYSTEMS) {
      for (const threads of THREADS) {
        for (const workload of WORKLOADS) {
          for (const zipf of ZIPFS) {
            const matching = runs.filter(
              (run) =>
                run.system === system && run.threads === threads && run.workload === workload && run.zipf === zipf,
            );
            expect({ system, threads, workload, zipf, count: matching.length }).toEqual({
              system,
              threads,
              workload,
              zipf,
              count: 1,
            });
          }
        }
      }
    }
    expect(runs).toHaveLength(SYSTEMS.length * THREADS.length * WORKLOADS.length * ZIPFS.length);
  });

  it("routes each request to exactly one worker", () => {
    for (const run of runs) {
      expect(run.workers).toHaveLength(run.threads);
      expect(run.workers.reduce((sum, worker) => sum + worker.kept, 0)).toBe(run.draws);
      expect(run.workers.reduce((sum, worker) => sum + worker.share, 0)).toBeCloseTo(1, 2);
    }
  });

  it("measures throughput by the most loaded worker and speedup over one thread", () => {
    for (const run of runs) {
      expect(run.opsPerSec).toBeGreaterThan(0);
      // The stream rate can never beat what the workers did between them (by more than rounding).
      expect(run.opsPerSec).toBeLessThanOrEqual(run.workerOpsPerSec * 1.01);
      for (const worker of run.workers) {
        if (worker.kept > 0) expect(run.opsPerSec).toBeLessThanOrEqual((worker.opsPerSec / worker.share) * 1.01);
      }
      expect(run.speedup).toBeGreaterThan(0);
    }
  });

  it("sees no op errors in annakv, and time splits that add up", () => {
    for (const run of runs) {
      if (run.kind.startsWith("annakv"))
        expect({ system: run.system, opErrors: run.opErrors }).toEqual({ system: run.system, opErrors: 0 });
      expect(splitSum(run.timeSplit.meanOverWorkers)).toBeCloseTo(1, 2);
      expect(splitSum(run.timeSplit.busiestWorker)).toBeCloseTo(1, 2);
    }
  });

  it("says which request feed each annakv figure comes from", () => {
    for (const run of runs) {
      const expected = run.kind.startsWith("shared")
        ? undefined
        : run.system.endsWith("-resident")
          ? "resident"
          : "copied";
      expect({ system: run.system, feed: run.feed }).toEqual({ system: run.system, feed: expected });
    }
  });

  it("sends almost all of the Zipf 4 stream to one owner when partitioned", () => {
    for (const run of runs.filter((one) => one.kind === "annakv-partitioned" && one.zipf === 4 && one.threads === 2)) {
      expect(Math.max(...run.workers.map((worker) => worker.share))).toBeGreaterThan(0.9);
    }
  });

  it("gossips between full replicas, and between selective replicas only where a key is hot", () => {
    for (const run of runs.filter(
      (one) => one.kind.startsWith("annakv") && one.threads === 2 && one.workload === "update",
    )) {
      const sent = run.workers.map((worker) => worker.gossipKeysSent);
      const replicated = run.kind === "annakv-full" || (run.kind === "annakv-selective" && run.zipf === 4);
      if (replicated) expect(sent.every((keys) => keys > 0)).toBe(true);
      else expect(sent).toEqual([0, 0]);
    }
  });

  it("spreads the Zipf 4 hot key over both workers with selective replication", () => {
    for (const run of runs.filter((one) => one.kind === "annakv-selective" && one.zipf === 4 && one.threads === 2)) {
      expect(Math.max(...run.workers.map((worker) => worker.share))).toBeLessThan(0.65);
    }
  });

  it("spreads requests evenly over the workers of a shared table", () => {
    for (const run of runs.filter((one) => one.kind.startsWith("shared") && one.threads === 2)) {
      for (const worker of run.workers) expect(worker.share).toBeCloseTo(0.5, 1);
    }
  });
});

describe("bench/scaling/device-run.sh", () => {
  it("runs the device sweep and the selective rounds, each into its own JSON", () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), "annakv-device-run-"));
    try {
      const root = path.resolve(__dirname, "../..");
      const bench = path.join(scratch, "devbench");
      const out = path.join(scratch, "out");
      execFileSync(path.join(root, "bench/scaling/package-device.sh"), ["--no-node", bench], { stdio: "pipe" });
      // Tiny flags after the script's own: they win for both runs.
      const tiny = [
        "--keys",
        "2000",
        "--seconds",
        "0.1",
        "--threads",
        "1",
        "--mix-threads",
        "1",
        "--zipf",
        "4",
        "--workload",
        "update",
        "--systems",
        "shared-locked,annakv-selective-wasm",
      ];
      execFileSync(path.join(root, "bench/scaling/device-run.sh"), ["ci", ...tiny], {
        env: { ...process.env, NODE: process.execPath, DEVBENCH: bench, OUT: out },
        stdio: "pipe",
      });
      for (const name of ["scaling-ci", "scaling-ci-selective"]) {
        const result = JSON.parse(readFileSync(path.join(out, `${name}.json`), "utf8"));
        expect({ name, complete: result.complete, systems: result.runs.map((run: Run) => run.system) }).toEqual({
          name,
          complete: true,
          systems: ["shared-locked", "annakv-selective-wasm"],
        });
      }
      // The rounds run kept its three rounds.
      const selective = JSON.parse(readFileSync(path.join(out, "scaling-ci-selective.json"), "utf8"));
      expect(selective.runs[1].roundOpsPerSec).toHaveLength(3);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("bench/scaling repeats", () => {
  it("keeps the median run and lists every run's rate", async () => {
    const { medianRun } = await import("../../bench/scaling/summary");
    const run = (opsPerSec: number) =>
      ({ opsPerSec, system: `s${opsPerSec}` }) as unknown as Parameters<typeof medianRun>[0][number];
    const median = medianRun([run(30), run(10), run(20)]);
    expect(median).toMatchObject({ opsPerSec: 20, system: "s20", repeatOpsPerSec: [30, 10, 20] });
    expect(medianRun([run(5)])).toEqual(run(5));
    expect(medianRun([run(4), run(2)]).opsPerSec).toBe(2);
  });
});

describe("bench/scaling rounds", () => {
  it("keeps each case's median round and lists every round's rate", async () => {
    const { medianRounds } = await import("../../bench/scaling/summary");
    type Record = Parameters<typeof medianRounds>[0][number];
    const run = (system: string, threads: number, opsPerSec: number) =>
      ({ system, threads, workload: "update", zipf: 4, opsPerSec, draws: opsPerSec }) as unknown as Record;
    const records = [
      run("a", 1, 30),
      run("b", 1, 7),
      run("a", 2, 50),
      run("a", 1, 10),
      run("a", 1, 20),
      run("b", 1, 9),
    ];
    const merged = medianRounds(records);
    expect(merged).toHaveLength(3);
    expect(merged[0]).toMatchObject({
      system: "a",
      threads: 1,
      opsPerSec: 20,
      draws: 20,
      roundOpsPerSec: [30, 10, 20],
    });
    expect(merged[1]).toMatchObject({ system: "b", opsPerSec: 7, roundOpsPerSec: [7, 9] });
    // A case timed in one round only is kept as it is.
    expect(merged[2]).toEqual(run("a", 2, 50));
  });

  it("plans the whole sweep once per round, in order", async () => {
    const { parseOptions, planGroups } = await import("../../bench/scaling/plan");
    const options = parseOptions([
      "--threads",
      "1,2",
      "--zipf",
      "4",
      "--workload",
      "update",
      "--systems",
      "shared-locked,annakv-full-wasm",
      "--rounds",
      "3",
    ]);
    const groups = planGroups(options);
    expect(groups.map((group) => `${group.round} ${group.system.name} ${group.threads}`)).toEqual(
      [1, 2, 3].flatMap((round) => [
        `${round} shared-locked 1`,
        `${round} shared-locked 2`,
        `${round} annakv-full-wasm 1`,
        `${round} annakv-full-wasm 2`,
      ]),
    );
    expect(() => parseOptions(["--rounds", "0"])).toThrow("--rounds must be 1..20");
  });
});
