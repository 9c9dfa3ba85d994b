/**
 * Plain LWW payloads joined by a scan (src/lattices/lww-plain.ts): the join must be the LWW
 * lattice's, byte for byte, and one of the two arrays itself; anything but two canonical
 * plain payloads is left to the general merge.
 */
import fc from "fast-check";
import { LatticeType } from "../../src/lattices/lattice-type";
import { plainLwwJoin } from "../../src/lattices/lww-plain";
import { mergePayloads } from "../../src/lattices/merge";
import { encodeLww } from "../../src/lattices/values";
import { hex } from "./helpers";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x1ee;

/** LWW values over few timestamps, write ids and values, so that ties at every level are common. */
const lwwFields = fc.record({
  timestamp: fc.integer({ min: 0, max: 3 }),
  writeId: fc.constantFrom(new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(1, 2)),
  value: fc.uint8Array({ maxLength: 2 }),
});

/** A zero timestamp or an empty value is written by leaving its field out: not the plain shape the scan takes. */
const hasPlainShape = ({ timestamp, value }: { timestamp: number; value: Uint8Array }) =>
  timestamp > 0 && value.length > 0;

describe("plainLwwJoin", () => {
  it("joins two plain payloads as the LWW merge does, returning one of the two arrays", () => {
    fc.assert(
      fc.property(lwwFields, lwwFields, (storedFields, incomingFields) => {
        const stored = encodeLww(storedFields);
        const incoming = encodeLww(incomingFields);
        const joined = plainLwwJoin(stored, incoming);
        if (!hasPlainShape(storedFields) || !hasPlainShape(incomingFields)) {
          expect(joined).toBeUndefined();
          return;
        }
        const merged = mergePayloads(LatticeType.LWW, stored, incoming)!;
        expect(joined === stored || joined === incoming).toBe(true);
        expect(hex(joined!)).toBe(hex(merged));
        // Where the merge leaves the stored value unchanged, so does the scan.
        if (merged === stored) expect(joined).toBe(stored);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it("keeps the stored array when the two are equal bytes", () => {
    const stored = encodeLww({ timestamp: 5, value: "v", writeId: Uint8Array.of(3) });
    expect(plainLwwJoin(stored, stored.slice())).toBe(stored);
  });

  it("leaves payloads with read atomic's fields to the general merge", () => {
    const plain = encodeLww({ timestamp: 5, value: "v" });
    const withWriteSet = encodeLww({ timestamp: 6, value: "w", writeId: Uint8Array.of(1), writeSet: ["a", "b"] });
    expect(plainLwwJoin(plain, withWriteSet)).toBeUndefined();
    expect(plainLwwJoin(withWriteSet, plain)).toBeUndefined();
  });

  it("leaves payloads not in canonical form to the general merge, which canonicalizes them", () => {
    const canonical = encodeLww({ timestamp: 1, value: "a" });
    // Timestamp 1 as a two-byte varint, then the value "a": decodable, but not the bytes the store keeps.
    const overlong = Uint8Array.of(0x08, 0x81, 0x00, 0x12, 0x01, 0x61);
    expect(plainLwwJoin(overlong, canonical)).toBeUndefined();
    expect(plainLwwJoin(canonical, overlong)).toBeUndefined();
    expect(hex(mergePayloads(LatticeType.LWW, canonical, overlong)!)).toBe(hex(canonical));
    // Malformed bytes: no join, and no throw.
    expect(plainLwwJoin(canonical, Uint8Array.of(0x08))).toBeUndefined();
  });
});
