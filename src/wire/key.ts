import { utf8Text } from "./protobuf";

/** A key as callers give it: bytes, or a string standing for its UTF-8. */
export type Key = string | Uint8Array;

const encoder = new TextEncoder();
/**
 * Keys up to this many UTF-16 units are copied by a JS loop when ASCII: cheaper than a native
 * call. Also the most bytes V8 keeps inside a typed array on its heap.
 */
const ASCII_LOOP_MAX_CHARS = 64;

/**
 * Keys are bytes; a string key is its UTF-8 encoding. A short ASCII key is copied by a JS
 * loop into an array V8 keeps on its heap (64 bytes at most): `TextEncoder.encode` returns
 * an array with a buffer of its own outside the heap, which cost ~1.1 µs a key on the 2-core
 * VM against ~60 ns (a causal write lists one key per dependency).
 */
export function keyBytes(key: Key): Uint8Array {
  if (typeof key !== "string") return key;
  if (key.length <= ASCII_LOOP_MAX_CHARS) {
    const bytes = new Uint8Array(key.length);
    if (copyAscii(key, bytes, 0) === key.length) return bytes;
  }
  return encoder.encode(key);
}

/** A key's bytes as a string, where a name is needed (maps keyed by key, logs). */
export function keyName(key: Uint8Array): string {
  return utf8Text(key);
}

/**
 * Writes the UTF-8 of `key` into `target` at `offset` without allocating; returns the
 * bytes written. `target` must have room for key.length * 3 bytes from `offset`.
 */
export function writeUtf8(key: string, target: Uint8Array, offset: number): number {
  if (key.length <= ASCII_LOOP_MAX_CHARS && copyAscii(key, target, offset) === key.length) return key.length;
  return encoder.encodeInto(key, target.subarray(offset, offset + key.length * 3)).written as number;
}

/** Copies `key`'s leading ASCII characters into `target` from `offset`; returns how many (all of them: it was ASCII). */
function copyAscii(key: string, target: Uint8Array, offset: number): number {
  let index = 0;
  for (; index < key.length; index++) {
    const unit = key.charCodeAt(index);
    if (unit >= 0x80) break;
    target[offset + index] = unit;
  }
  return index;
}
