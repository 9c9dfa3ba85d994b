/** A node's resident memory, from Linux's /proc (all its threads: the main thread and every actor). */
import { readFileSync } from "node:fs";

const KIB = 1024;

/** VmRSS of the process in bytes; NaN when /proc has no such process (it exited). */
export function processRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return match === null ? NaN : Number(match[1]) * KIB;
  } catch {
    return NaN;
  }
}

export const MIB = 1024 * 1024;
