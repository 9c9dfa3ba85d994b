/**
 * The end of a bench module run as its own process (a load generator or loader that a
 * benchmark spawns): the result, if any, as one JSON line on stdout and exit 0; a failure
 * printed and exit 1.
 */
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
