/** CPU time of another process, from Linux's /proc, to show which side of a benchmark ran out of cores. */
import { readFileSync } from "node:fs";

/** Linux reports /proc times in clock ticks of 1/100 s on every common build. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process (all its threads) has used; NaN where /proc is unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name, which may hold spaces, so split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Samples a process's CPU seconds until it exits, keeping the last reading (its total). */
export class CpuWatcher {
  private lastCpuSeconds = NaN;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const seconds = processCpuSeconds(this.pid);
    if (!Number.isNaN(seconds)) this.lastCpuSeconds = seconds;
  }

  /** Stops sampling; returns the last reading. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.lastCpuSeconds;
  }
}

/**
 * Samples the CPU seconds of a set of processes (all their threads, summed) with the wall
 * clock, so that the CPU they used over a window that other processes measured (a load
 * generator's measured seconds) can be read off afterwards.
 */
export class CpuTrail {
  private readonly samples: { atMs: number; cpuSeconds: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: readonly number[],
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling. */
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }

  /** CPU seconds used from `fromMs` to `toMs` (wall clock, ms since the epoch), interpolated between samples; NaN outside them. */
  secondsBetween(fromMs: number, toMs: number): number {
    return this.secondsAt(toMs) - this.secondsAt(fromMs);
  }

  private secondsAt(atMs: number): number {
    const after = this.samples.findIndex((sample) => sample.atMs >= atMs);
    if (after <= 0) return after === 0 && this.samples[0].atMs === atMs ? this.samples[0].cpuSeconds : NaN;
    const [a, b] = [this.samples[after - 1], this.samples[after]];
    return a.cpuSeconds + ((b.cpuSeconds - a.cpuSeconds) * (atMs - a.atMs)) / (b.atMs - a.atMs);
  }

  private sample(): void {
    let cpuSeconds = 0;
    for (const pid of this.pids) cpuSeconds += processCpuSeconds(pid);
    this.samples.push({ atMs: Date.now(), cpuSeconds });
  }
}
