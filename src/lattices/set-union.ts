/** The grow-only set of byte strings, kept as a sorted array of unique elements. */
import { compareBytes, Lattice } from "./lattice";

/** Sorted by compareBytes, no duplicates. */
export type ByteSet = readonly Uint8Array[];

const EMPTY_SET: ByteSet = Object.freeze([]) as ByteSet;

/** Sorts `elements` in place and drops duplicates: the canonical form of any bag of bytes. */
export function toByteSet(elements: Uint8Array[]): ByteSet {
  elements.sort(compareBytes);
  let kept = 0;
  for (let i = 0; i < elements.length; i++) {
    if (kept === 0 || compareBytes(elements[kept - 1], elements[i]) !== 0) elements[kept++] = elements[i];
  }
  elements.length = kept;
  return elements;
}

/** Whether every element of `b` is in `a` (both sorted): then the union is `a` itself. */
function includesAll(a: ByteSet, b: ByteSet): boolean {
  let i = 0;
  for (const element of b) {
    while (i < a.length && compareBytes(a[i], element) < 0) i++;
    if (i === a.length || compareBytes(a[i], element) !== 0) return false;
  }
  return true;
}

function union(a: ByteSet, b: ByteSet): ByteSet {
  if (includesAll(a, b)) return a;
  const merged: Uint8Array[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const difference = compareBytes(a[i], b[j]);
    if (difference <= 0) merged.push(a[i++]);
    else merged.push(b[j++]);
    if (difference === 0) j++;
  }
  while (i < a.length) merged.push(a[i++]);
  while (j < b.length) merged.push(b[j++]);
  return merged;
}

export const setUnion: Lattice<ByteSet> = { bottom: EMPTY_SET, join: union };

/**
 * The union kept to its `maxElements` least elements. Still a join: the least n of A ∪ B ∪ C
 * that lie in A ∪ B are among the least n of A ∪ B, so truncating early or late agrees.
 * A write set (lww.ts) is one: it bounds the union of two write sets under one write id,
 * which only a writer reusing a write id can cause.
 */
export function boundedSetUnion(maxElements: number): Lattice<ByteSet> {
  return {
    bottom: EMPTY_SET,
    join(a, b) {
      const merged = union(a, b);
      if (merged.length <= maxElements) return merged;
      const kept = merged.slice(0, maxElements);
      return sameElements(kept, a) ? a : kept;
    },
  };
}

function sameElements(a: ByteSet, b: ByteSet): boolean {
  return a.length === b.length && a.every((element, i) => compareBytes(element, b[i]) === 0);
}
