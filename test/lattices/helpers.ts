/** Hex in and out, so that expected canonical bytes read as they are written on paper. */
export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

export function hex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString("hex");
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
