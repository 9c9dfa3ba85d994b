/**
 * Frames refused as garbage (or connections refused at a listener's cap), logged at most
 * once per interval with the count since the last line and the latest reason: a flood of
 * garbage or of connections must not flood the log. The counters in /status and /metrics
 * count every one.
 */
export class BadFrameLog {
  private sinceLastLine = 0;
  private lastLineMs = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly writeLine: (count: number, latestReason: string) => void,
    private readonly clockMs: () => number = Date.now,
  ) {}

  report(reason: string): void {
    this.sinceLastLine++;
    const nowMs = this.clockMs();
    if (nowMs - this.lastLineMs < this.intervalMs) return;
    this.writeLine(this.sinceLastLine, reason);
    this.lastLineMs = nowMs;
    this.sinceLastLine = 0;
  }
}

/** How often an actor or the routing service may log refused frames, and refused connections. */
export const BAD_FRAME_LOG_INTERVAL_MS = 5000;
