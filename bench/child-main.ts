/**
 * The child's side of a bench module run as its own process (a load generator or loader
 * that a benchmark spawns; bench/child-processes.ts is the parent's): its end, and for
 * generators that start together, the signal to start.
 */

/** The result, if any, as one JSON line on stdout and exit 0; a failure printed and exit 1. */
export function exitWhenDone(work: Promise<unknown>): void {
  work.then(
    (result) => {
      if (result !== undefined) process.stdout.write(JSON.stringify(result) + "\n");
      process.exit(0);
    },
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** What a child started to wait for its signal prints once it is ready (bench/child-processes.ts waits for it). */
export const READY_LINE = "ready";

/** Prints "ready" and resolves at the first line on stdin; rejects if stdin closes first. */
export function readyThenGo(): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (!chunk.includes(0x0a)) return;
      process.stdin.off("data", onData).off("end", onEnd).pause();
      resolve();
    };
    const onEnd = () => reject(new Error("stdin closed before the signal to start"));
    process.stdin.on("data", onData).once("end", onEnd);
    process.stdout.write(`${READY_LINE}\n`);
  });
}
