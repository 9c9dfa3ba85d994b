/** Waits with deadlines: every wait of the cluster benchmark polls until a condition holds or its time is up. */

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  /** What was awaited, for the error when the deadline passes. */
  what: () => string;
}

/** Polls `condition` until it holds; throws once the deadline passes. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs, pollMs, what }: WaitOptions,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms in vain for ${what()}`);
    await sleep(pollMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
