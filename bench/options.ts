/** Command-line values of the benchmarks, checked: a bad flag is a clear error, not a NaN run. */

/** `text` as a positive integer, or `fallback` when the flag was not given. */
export function positiveInteger(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${flag} must be a positive integer, got ${text}`);
  return value;
}
