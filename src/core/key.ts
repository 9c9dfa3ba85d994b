import type { Key } from "./store";

const encoder = new TextEncoder();

/** Keys are bytes; a string key is its UTF-8 encoding. */
export function keyBytes(key: Key): Uint8Array {
  return typeof key === "string" ? encoder.encode(key) : key;
}
