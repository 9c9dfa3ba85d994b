/**
 * The cluster benchmark (bench/cluster) in its CI-sized form (`--quick`: a few thousand
 * keys, one trial and one round): it runs to the end against real node processes and its
 * JSON has every measurement, with numbers. What the numbers are is the full run's
 * business (bench/results/cluster-2core.json); nothing here asserts a time.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
/** Away from a `--quick` run's own offsets (12000...) and the tests' (15300 up, test/support/ports.ts). */
const PORT_OFFSET = 8000;

function runQuickBench(jsonPath: string): Promise<void> {
  const args = [
    "-r",
    path.join(root, "bench/register.js"),
    path.join(root, "bench/cluster/main.ts"),
    "--quick",
    "--out",
    jsonPath,
    "--port-offset",
    String(PORT_OFFSET),
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(
            `bench/cluster/main.ts --quick failed: ${error.message}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`,
          ),
        );
      else resolve();
    });
  });
}

function expectNumber(value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new Error(`${what} is ${JSON.stringify(value)}, not a finite number`);
}

describe("bench/cluster --quick", () => {
  let scratch: string;
  let result: any;
  let svg: string;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "annakv-bench-cluster-"));
    const jsonPath = path.join(scratch, "cluster.json");
    await runQuickBench(jsonPath);
    result = JSON.parse(readFileSync(jsonPath, "utf8"));
    svg = readFileSync(path.join(scratch, "cluster.svg"), "utf8");
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("names the machine, the commit and how loaded the machine was", () => {
    expect(result.benchmark).toBe("cluster");
    expect(result.quick).toBe(true);
    expect(typeof result.machine.cpuModel).toBe("string");
    expect(result.machine.nodeVersion).toBe(process.version);
    expect(result.machine.loadAverageAtStart).toHaveLength(3);
    expect(result.machine.loadAverageAtEnd).toHaveLength(3);
    expect(result.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(svg).toContain("<svg");
  });

  it("reports failure detection per trial and survivor", () => {
    const { failureDetection } = result;
    expect(failureDetection.trials).toHaveLength(1);
    for (const ms of Object.values(failureDetection.trials[0].deadMsBySurvivor)) expectNumber(ms, "deadMs");
    expectNumber(failureDetection.deadMsMedian, "deadMsMedian");
  });

  it("reports the load, re-replication, join and leave of the handoff", () => {
    const { handoff } = result;
    expectNumber(handoff.load.keysPerSecond, "load.keysPerSecond");
    expect(handoff.load.keysNotWritten).toBe(0);
    for (const [name, value] of Object.entries({
      killToDeadMs: handoff.failure.killToDeadMs,
      deadToReplicatedMs: handoff.failure.deadToReplicatedMs,
      failureKeysPerSecond: handoff.failure.keysPerSecond,
      startToReadyMs: handoff.join.startToReadyMs,
      startToBalancedMs: handoff.join.startToBalancedMs,
      joinerShare: handoff.join.joinerShare,
      sigtermToExitMs: handoff.leave.sigtermToExitMs,
      sigtermToReplicatedMs: handoff.leave.sigtermToReplicatedMs,
    })) {
      expectNumber(value, name);
    }
    expect(handoff.join.joinerKeys).toBeGreaterThan(0);
    expect(handoff.leave).toHaveProperty("exit.code");
  });

  it("reports throughput before and during a join, in whole windows, with the errors counted", () => {
    const { joinThroughput } = result;
    expect(joinThroughput.keysPerSecondBefore).toBeGreaterThan(0);
    expectNumber(joinThroughput.keysPerSecondDuringMin, "keysPerSecondDuringMin");
    expectNumber(joinThroughput.keysPerSecondDuringMean, "keysPerSecondDuringMean");
    expectNumber(joinThroughput.minToBeforeRatio, "minToBeforeRatio");
    expectNumber(joinThroughput.errorCount, "errorCount");
    expect(joinThroughput.windows.some((window: { phase: string }) => window.phase === "before")).toBe(true);
    expect(joinThroughput.windows.some((window: { phase: string }) => window.phase !== "before")).toBe(true);
    // Once the copies are balanced, the settled windows say what three nodes serve with nothing moving.
    expect(joinThroughput.windows.some((window: { phase: string }) => window.phase === "settled")).toBe(true);
    expectNumber(joinThroughput.meanToBeforeRatioSettled, "meanToBeforeRatioSettled");
    expect(joinThroughput.joinerStartToBalancedMs).toBeGreaterThanOrEqual(joinThroughput.joinerStartToReadyMs);
    // The joiner's process start-up is reported apart from the join, and with it.
    expectNumber(joinThroughput.meanToBeforeRatioWithStart, "meanToBeforeRatioWithStart");
    expect(joinThroughput.joinerStartToListeningMs).toBeGreaterThan(0);
    expect(joinThroughput.joinerStartToReadyMs).toBeGreaterThanOrEqual(joinThroughput.joinerStartToListeningMs);
  });

  it("reports bytes per write and idle bytes per second at both anti-entropy periods", () => {
    const { gossipCost } = result;
    expect(gossipCost.perWrite.putTuples).toBeGreaterThan(0);
    expect(gossipCost.perWrite.gossipBytesPerWrite).toBeGreaterThan(0);
    expectNumber(gossipCost.perWrite.membershipBytesPerWrite, "membershipBytesPerWrite");
    expect(gossipCost.idle.map((idle: { antiEntropyPeriodMs: number }) => idle.antiEntropyPeriodMs)).toEqual([
      30_000, 1000,
    ]);
    for (const idle of gossipCost.idle) expect(idle.membershipBytesPerSecond).toBeGreaterThan(0);
  });

  it("reports throughput of one node of two actors and two nodes of one, and their ratio", () => {
    const { nodeCount } = result;
    expect(nodeCount.rounds).toHaveLength(1);
    for (const operation of ["put", "get"]) {
      for (const setup of nodeCount.setups) expect(nodeCount.medianOpsPerSecond[operation][setup]).toBeGreaterThan(0);
      expectNumber(nodeCount.ratioTwoNodesToOne[operation], `ratioTwoNodesToOne.${operation}`);
    }
  });
});
