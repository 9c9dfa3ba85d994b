/** What every benchmark result file records about where and when it ran, and how it is written. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Chart, chartsSvg } from "./chart";

export const RESULTS_DIR = path.resolve(__dirname, "results");

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  platform: string;
  nodeVersion: string;
  date: string;
  /** The machine is shared: a load average above zero at the start means others competed for the cores. */
  loadAverage1mAtStart: number;
}

/**
 * Read when this module loads, i.e. when the benchmark process starts (after the npm
 * script's build, whose own load it includes): read when results are written, it measured
 * the benchmark's own load instead.
 */
const LOAD_AVERAGE_1M_AT_START = os.loadavg()[0];

export function machineInfo(): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cpuCount: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    nodeVersion: process.version,
    date: new Date().toISOString(),
    loadAverage1mAtStart: LOAD_AVERAGE_1M_AT_START,
  };
}

/** Smoke runs (--quick) write here, git-ignored, so they never overwrite committed results. */
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, "tmp");

/** Writes <dir>/<name>.json and <dir>/<name>.svg; returns their paths. */
export function writeResults(directory: string, name: string, result: object, charts: readonly Chart[]): string[] {
  mkdirSync(directory, { recursive: true });
  const jsonPath = path.join(directory, `${name}.json`);
  const svgPath = path.join(directory, `${name}.svg`);
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(svgPath, chartsSvg(charts));
  return [jsonPath, svgPath];
}

/** Rounds for the JSON, so results diff readably (3 significant digits, integers kept). */
export function round(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  return Number(value.toPrecision(Math.max(3, Math.ceil(Math.log10(Math.abs(value) + 1)))));
}
