/** The cluster benchmark's keys: 16 bytes, "k" then the index zero-padded (as bench/workload.ts's KeySpace writes them). */
export const KEY_BYTES = 16;

export function benchKey(index: number): string {
  return "k" + String(index).padStart(KEY_BYTES - 1, "0");
}
