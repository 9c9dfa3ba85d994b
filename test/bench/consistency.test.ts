/**
 * The consistency benchmark (bench/consistency) in a CI-sized run: one node, two levels,
 * a second a cell. It must report every figure of each cell, the generators' CPU per
 * transaction included, and the node's (no figure is asserted: speed is the benchmark's to show).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PORT_OFFSETS } from "../support/ports";

const REPO_ROOT = path.resolve(__dirname, "../..");

it("measures each level against eventual, with requests, bytes, client and server CPU per transaction", () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "annakv-consistency-"));
  try {
    const jsonPath = path.join(outDir, "consistency-ci.json");
    execFileSync(
      process.execPath,
      [
        "-r",
        "./bench/register.js",
        "bench/consistency/main.ts",
        ...[
          "--levels",
          "eventual,sessions",
          "--skews",
          "0",
          "--seconds",
          "1",
          "--warmup-seconds",
          "1",
          "--rounds",
          "2",
        ],
        ...["--keys", "200", "--sessions", "4", "--threads", "1"],
        ...["--port-offset", String(PORT_OFFSETS.benchConsistency), "--out", jsonPath],
      ],
      { cwd: REPO_ROOT, stdio: "pipe", timeout: 120_000 },
    );
    const result = JSON.parse(readFileSync(jsonPath, "utf8"));
    // Two rounds, each with its own eventual cell, which its round's ratios are taken against.
    expect(result.cells.map((cell: { level: string; round: number }) => `${cell.level}/${cell.round}`)).toEqual([
      "eventual/1",
      "sessions/1",
      "eventual/2",
      "sessions/2",
    ]);
    const ratios = result.cells
      .filter((cell: { level: string }) => cell.level === "sessions")
      .map((cell: { ratioToEventual: number }) => cell.ratioToEventual)
      .sort((a: number, b: number) => a - b);
    expect(result.targets["sessions at Zipf 0"].measured).toBe(ratios[0]);
    expect(result.targets["sessions at Zipf 0"].range).toEqual(ratios);
    for (const cell of result.cells) {
      expect(cell.transactionsPerSecond).toBeGreaterThan(0);
      expect(cell.keyRequestsPerTransaction).toBeGreaterThan(0);
      expect(cell.clientCpuMsPerTransaction).toBeGreaterThan(0);
      expect(cell.serverCpuMsPerTransaction).toBeGreaterThan(0);
      expect(Number.isFinite(cell.ratioToEventual)).toBe(true);
      // One node: no key moves to another primary, so no client's cache goes stale as a whole.
      expect(cell.addressCacheInvalidations).toBe(0);
      expect(cell.tuplesResentPerTransaction).toBeGreaterThanOrEqual(0);
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

it("measures how far the stable time trails the clock on one node and on three", () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "annakv-stable-trail-"));
  try {
    const jsonPath = path.join(outDir, "stable-trail-ci.json");
    execFileSync(
      process.execPath,
      [
        "-r",
        "./bench/register.js",
        "bench/consistency/stable-trail.ts",
        ...["--seconds", "1", "--port-offset", String(PORT_OFFSETS.benchConsistency), "--out", jsonPath],
      ],
      { cwd: REPO_ROOT, stdio: "pipe", timeout: 120_000 },
    );
    const result = JSON.parse(readFileSync(jsonPath, "utf8"));
    expect(result.trails.map((trail: { nodes: number }) => trail.nodes)).toEqual([1, 3]);
    for (const trail of result.trails) {
      expect(trail.samples).toBeGreaterThan(0);
      // The stable time is a past moment: it trails the clock the nodes and this client share.
      expect(trail.trailMs.p10).toBeGreaterThan(0);
      expect(trail.trailMs.p10).toBeLessThanOrEqual(trail.trailMs.p90);
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}, 150_000);

/** Runs bench:client-cost on a tiny store with `flags`; returns the JSON it wrote as `name`. */
function clientCost(flags: readonly string[], name: string) {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "annakv-client-cost-"));
  try {
    execFileSync(
      process.execPath,
      [
        "-r",
        "./bench/register.js",
        "bench/consistency/client-cost.ts",
        ...["--skew", "1", "--keys", "500", "--sessions", "4", "--phases", "2", "--phase-ms", "100"],
        ...["--machine", "ci", "--out-dir", outDir, ...flags],
      ],
      { cwd: REPO_ROOT, stdio: "pipe", timeout: 120_000 },
    );
    return JSON.parse(readFileSync(path.join(outDir, name), "utf8"));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

it("measures a causal+ client's CPU per transaction in process, on this build and on a baseline build", () => {
  // This build as its own baseline: both must run and report.
  const result = clientCost(["--baseline-dist", path.join(REPO_ROOT, "dist")], "client-cost-ci-zipf1.json");
  expect(result.level).toBe("causal-multi-key-lww");
  expect(result.builds.map((build: { build: string }) => build.build)).toEqual(["this build", "baseline"]);
  for (const build of result.builds) {
    expect(build.cpuMicrosPerTransaction).toBeGreaterThan(0);
    expect(build.phases).toHaveLength(2);
  }
  expect(result.ratioToBaseline).toBeGreaterThan(0);
});

it.each(["causal-single-key", "sessions", "eventual"])(
  "measures the %s level's client CPU per transaction in process",
  (level) => {
    const result = clientCost(["--level", level], `client-cost-${level}-ci-zipf1.json`);
    expect(result.level).toBe(level);
    expect(result.builds).toHaveLength(1);
    expect(result.builds[0].cpuMicrosPerTransaction).toBeGreaterThan(0);
    expect(result.builds[0].phases).toHaveLength(2);
  },
);
