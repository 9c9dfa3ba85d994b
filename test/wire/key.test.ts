/** A key's bytes: its UTF-8, by the short ASCII loop or by TextEncoder, the same bytes either way. */
import fc from "fast-check";
import { keyBytes } from "../../src/wire/key";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x6b6579;
const encoder = new TextEncoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("keyBytes", () => {
  it("gives a string key's UTF-8, ASCII or not, short or long, lone surrogates included", () => {
    const loneSurrogates = fc.constantFrom("\ud800", "\udfff", "a\ud83d", "\ude00b");
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "binary", maxLength: 80 }),
      fc.array(fc.oneof(fc.string({ maxLength: 4 }), loneSurrogates), { maxLength: 30 }).map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(strings, (key) => {
        expect(hex(keyBytes(key))).toBe(hex(encoder.encode(key)));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("takes the ASCII loop up to 64 characters and the encoder past them", () => {
    // Both paths: the bytes are the same whichever ran.
    for (const length of [0, 1, 63, 64, 65, 200])
      expect(keyBytes("k".repeat(length))).toEqual(encoder.encode("k".repeat(length)));
    expect(hex(keyBytes("é".repeat(10)))).toBe(hex(encoder.encode("é".repeat(10))));
  });

  it("returns a byte key as it is", () => {
    const key = Uint8Array.of(0xff, 0, 1);
    expect(keyBytes(key)).toBe(key);
  });
});
