import { KeyScratch } from "../../src/actor/key-scratch";

const encoder = new TextEncoder();

describe("KeyScratch", () => {
  it("encodes ASCII, non-ASCII and long keys exactly as TextEncoder does, and keeps views valid across growth", () => {
    const scratch = new KeyScratch();
    const keys = ["", "plain", "naïve-ключ-🔑", "x".repeat(100), "é".repeat(50_000), "after-growth"];
    const views = keys.map((key) => scratch.encode(key));
    keys.forEach((key, i) => expect(Buffer.from(views[i])).toEqual(Buffer.from(encoder.encode(key))));
    scratch.reset();
    expect(Buffer.from(scratch.encode("reused"))).toEqual(Buffer.from("reused"));
  });
});
