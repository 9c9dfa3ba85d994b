// Where a lattice operation leaves its result: a pointer into scratch, into the
// payload or into a stored value (a join that picks one side whole copies nothing).
export let resultPtr: usize = 0;
export let resultLength: u32 = 0;

export function setResult(ptr: usize, length: u32): void {
  resultPtr = ptr;
  resultLength = length;
}

/**
 * Canonical output is never longer than its input (defaults, duplicates and unknown
 * fields only shrink it; a varint of a sum is no longer than the two varints); this slack
 * covers a nested message's length reserved before its size is known.
 */
export const WRITE_SLACK_BYTES: u64 = 16;
