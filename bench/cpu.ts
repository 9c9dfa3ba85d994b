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
