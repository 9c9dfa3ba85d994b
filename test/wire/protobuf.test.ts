/** The MALFORMED rules and proto3 decoding rules of docs/wasm-abi.md, through canonicalize. */
import fc from "fast-check";
import { canonicalize, LatticeType } from "../../src/lattices";
import { corruptPayload, randomPayload } from "../support/payloads";
import { Random } from "../support/random";
import { fromHex, hex } from "../lattices/helpers";

const SEED = 0x31e;

const canonicalHex = (type: LatticeType, payload: string) => hex(canonicalize(type, fromHex(payload)));

describe("wire decoding", () => {
  it.each([
    ["truncated varint", LatticeType.LWW, "08"],
    ["truncated varint inside a tag", LatticeType.LWW, "88"],
    ["length past the end", LatticeType.LWW, "12 05 61"],
    ["length varint with high bits", LatticeType.SET, "0a 80 80 80 80 10"],
    ["truncated fixed64", LatticeType.PRIORITY, "09 00 00"],
    ["truncated unknown fixed64", LatticeType.LWW, "79 00 00 00"],
    ["truncated unknown fixed32", LatticeType.LWW, "7d 00 00"],
    ["11-byte varint", LatticeType.LWW, "08 80 80 80 80 80 80 80 80 80 80 01"],
    ["field number 0", LatticeType.LWW, "00 00"],
    ["field number 0, length-delimited", LatticeType.SET, "02 00"],
    ["wire type 3", LatticeType.SET, "0b"],
    ["wire type 4", LatticeType.SET, "0c"],
    ["wire type 6", LatticeType.SET, "0e"],
    ["wire type 7", LatticeType.SET, "0f"],
    ["LWW timestamp as bytes", LatticeType.LWW, "0a 00"],
    ["LWW value as varint", LatticeType.LWW, "10 01"],
    ["set element as varint", LatticeType.SET, "08 01"],
    ["priority as varint", LatticeType.PRIORITY, "08 01"],
    ["priority as fixed32", LatticeType.PRIORITY, "0d 00 00 00 00"],
    ["clock entry as varint", LatticeType.SINGLE_CAUSAL, "08 01"],
    ["clock key as varint", LatticeType.SINGLE_CAUSAL, "0a 02 08 01"],
    ["clock counter as bytes", LatticeType.SINGLE_CAUSAL, "0a 02 12 00"],
    ["clock entry past its end", LatticeType.SINGLE_CAUSAL, "0a 02 0a 05 61"],
    ["dependency key as varint", LatticeType.MULTI_CAUSAL, "12 02 08 01"],
    ["wire type 3 inside a dependency clock", LatticeType.MULTI_CAUSAL, "12 04 12 02 0b 00"],
    ["NaN priority", LatticeType.PRIORITY, "09 00 00 00 00 00 00 f8 7f"],
    ["negative NaN priority", LatticeType.PRIORITY, "09 01 00 00 00 00 00 f8 ff"],
  ])("rejects %s as MALFORMED", (_rule, type, payload) => {
    expect(canonicalize(type, fromHex(payload))).toBeNull();
  });

  it("decodes the empty payload as every type's default", () => {
    for (let type = LatticeType.LWW; type <= LatticeType.PRIORITY; type++) {
      expect(canonicalHex(type, "")).toBe("");
    }
  });

  it.each([
    ["a varint field", "50 ff ff 03"],
    ["a fixed64 field", "51 01 02 03 04 05 06 07 08"],
    ["a length-delimited field", "52 02 0b 0c"],
    ["a fixed32 field", "55 01 02 03 04"],
    ["a field number of 2^29 + 1 (low 32 bits would read field 1)", "88 80 80 80 10 01"],
  ])("skips %s it does not know", (_kind, unknown) => {
    expect(canonicalHex(LatticeType.LWW, `${unknown} 08 05 ${unknown} 12 01 61`)).toBe("0805120161");
  });

  it("keeps the low 64 bits of a 10-byte varint", () => {
    expect(canonicalHex(LatticeType.LWW, "08 ff ff ff ff ff ff ff ff ff 7f")).toBe("08ffffffffffffffffff01");
    expect(canonicalHex(LatticeType.LWW, "08 80 80 80 80 80 80 80 80 80 7e")).toBe("");
  });

  it("accepts a varint with redundant continuation bytes", () => {
    expect(canonicalHex(LatticeType.LWW, "08 85 80 80 00")).toBe("0805");
    expect(canonicalHex(LatticeType.SET, "0a 81 00 61")).toBe("0a0161");
  });

  it("keeps the low 32 bits of a uint32 counter", () => {
    expect(canonicalHex(LatticeType.SINGLE_CAUSAL, "0a 09 0a 01 61 10 85 80 80 80 10")).toBe("0a050a01611005");
    expect(canonicalHex(LatticeType.SINGLE_CAUSAL, "0a 09 0a 01 61 10 80 80 80 80 10")).toBe("");
  });

  it("keeps the last value of a repeated singular field", () => {
    expect(canonicalHex(LatticeType.LWW, "08 05 12 01 61 08 03 12 01 62")).toBe("0803120162");
    expect(canonicalHex(LatticeType.SINGLE_CAUSAL, "0a 08 0a 01 61 0a 01 62 10 01")).toBe("0a050a01621001");
  });

  it("accepts fields in any order", () => {
    expect(canonicalHex(LatticeType.LWW, "12 01 61 08 05")).toBe("0805120161");
  });

  it("never throws on any bytes, and a canonical form is its own canonical form", () => {
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat()).map(([type, seed]) => {
        const random = new Random(seed);
        const payload = randomPayload(random, type);
        return random.chance(0.3) ? corruptPayload(random, payload) : payload;
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), payloads, (type: LatticeType, payload) => {
        const canonical = canonicalize(type, payload);
        if (canonical !== null) expect(hex(canonicalize(type, canonical))).toBe(hex(canonical));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });
});
