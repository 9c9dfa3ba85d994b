/** Decodes kept while recent: once per payload while it is recent, again once it is not. */
import { RecentDecodes } from "../../src/consistency/recent-decodes";

describe("RecentDecodes", () => {
  it("decodes a payload once while it is among the recent ones", () => {
    let decodes = 0;
    const recent = new RecentDecodes(4, (payload) => ({ first: payload[0], decode: ++decodes }));
    const payload = new Uint8Array([7]);
    const decoded = recent.of(payload);
    expect(recent.of(payload)).toBe(decoded);
    // Three others fill the generation; the payload is still in the one before.
    for (let index = 0; index < 3; index++) recent.of(new Uint8Array([index]));
    expect(recent.of(payload)).toBe(decoded);
    expect(decodes).toBe(4);
  });

  it("forgets a payload after two generations of others, and decodes it again", () => {
    let decodes = 0;
    const recent = new RecentDecodes(4, () => ++decodes);
    const payload = new Uint8Array([7]);
    recent.of(payload);
    for (let index = 0; index < 8; index++) recent.of(new Uint8Array([index]));
    expect(recent.of(payload)).toBe(10);
  });

  it("tells equal bytes in two arrays apart: a payload is known by its array", () => {
    let decodes = 0;
    const recent = new RecentDecodes(4, () => ++decodes);
    recent.of(new Uint8Array([1]));
    recent.of(new Uint8Array([1]));
    expect(decodes).toBe(2);
  });

  it("refuses a generation of no entries", () => {
    expect(() => new RecentDecodes(0, () => 0)).toThrow(RangeError);
  });
  it("serves a remembered decode without decoding, and keeps it while recent", () => {
    let decodes = 0;
    const recent = new RecentDecodes(4, (payload) => ({ first: payload[0], decode: ++decodes }));
    const payload = new Uint8Array([7]);
    const told = { first: 7, decode: 0 };
    expect(recent.remember(payload, told)).toBe(told);
    for (let index = 0; index < 3; index++) recent.of(new Uint8Array([index]));
    expect(recent.of(payload)).toBe(told);
    expect(decodes).toBe(3);
  });
});
