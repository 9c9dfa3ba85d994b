/**
 * The per-op cost split (bench/scaling/op-cost.ts) in a CI-sized run: it must measure all
 * five phases (two per request feed, and the locked table's) and derive the core's share
 * from them (no figure is asserted: speed is the benchmark's to show, not a test's).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "../..");

it("splits a PUT's time into building the batch and running it, per feed, beside the locked table's PUT", () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "annakv-op-cost-"));
  try {
    execFileSync(
      process.execPath,
      [
        "-r",
        "./bench/register.js",
        "bench/scaling/op-cost.ts",
        "--rounds",
        "1",
        "--ms",
        "100",
        "--machine",
        "ci",
        "--out-dir",
        outDir,
      ],
      { cwd: REPO_ROOT, stdio: "pipe", timeout: 60_000 },
    );
    const result = JSON.parse(readFileSync(path.join(outDir, "op-cost-ci.json"), "utf8"));
    const nsPerOp = result.nsPerOpMedian as Record<string, number>;
    expect(Object.keys(nsPerOp).sort()).toEqual([
      "annakv copied: build and run the batch",
      "annakv copied: build the batch",
      "annakv resident: build and run the batch",
      "annakv resident: build the batch",
      "shared-locked: find and put",
    ]);
    for (const ns of Object.values(nsPerOp)) expect(ns).toBeGreaterThan(0);
    for (const feed of ["copied", "resident"])
      expect(result.derived[feed].coreNsPerOp).toBeCloseTo(
        nsPerOp[`annakv ${feed}: build and run the batch`] - nsPerOp[`annakv ${feed}: build the batch`],
        -1,
      );
    expect(result.nsPerOpByRound["shared-locked: find and put"]).toHaveLength(1);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
