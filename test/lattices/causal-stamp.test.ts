/**
 * The stamp a multi-key causal session wraps its values in (src/lattices/causal-stamp.ts,
 * docs/causal-stability.md §6, §7): its protobuf encoding, the strict decoding that leaves
 * other bytes unstamped, and what the node's accept floor reads of a PUT.
 */
import fc from "fast-check";
import { decodeStamped, encodeStamped, hasStaleStamp, type StampedValue } from "../../src/lattices/causal-stamp";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { encodeMultiCausal } from "../../src/lattices/values";
import { toVectorClock } from "../../src/lattices/vector-clock";
import { hex, stampedValueArbitrary } from "./helpers";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x57a3;
const utf8 = new TextEncoder();
const WRITER = utf8.encode("w1");

function stamped(overrides: Partial<StampedValue> = {}): StampedValue {
  return {
    stampMicros: 1_796_000_000_000_000,
    baseMicros: 1_795_999_999_900_000,
    writer: WRITER,
    dependencyStamps: [
      { key: utf8.encode("a"), stampMicros: 1_795_999_999_950_000, epoch: 0 },
      { key: utf8.encode("a"), stampMicros: 1_795_999_999_960_000, epoch: 9 },
      { key: utf8.encode("b"), stampMicros: 7, epoch: 3 },
    ],
    value: utf8.encode("hello"),
    epoch: 9,
    baseEpoch: 8,
    ...overrides,
  };
}

/** The envelope of a write of `value`, as a session puts it in a MULTI_CAUSAL payload. */
const element = (value: Uint8Array) => encodeEnvelope({ clock: toVectorClock([{ key: WRITER, value: 1 }]), value });

const stampedValues = stampedValueArbitrary();

describe("the causal stamp", () => {
  it("is CausalStamp{stamp 1, base 2, writer 3, dependency stamps 4, value 5, epoch 6, base epoch 7} in protobuf", () => {
    const bytes = encodeStamped({
      stampMicros: 300,
      baseMicros: 0,
      writer: utf8.encode("w"),
      dependencyStamps: [
        { key: utf8.encode("k"), stampMicros: 5, epoch: 0 },
        { key: utf8.encode("k"), stampMicros: 6, epoch: 2 },
      ],
      value: utf8.encode("v"),
      epoch: 2,
      baseEpoch: 0,
    });
    // 08 ac02: stamp 300; no base (zero left out); 1a 01 77: writer "w"; 22 05 (0a 01 6b 10 05): key "k", stamp 5,
    // no epoch; 22 07 (0a 01 6b 10 06 18 02): key "k", stamp 6, epoch 2; 2a 01 76: value "v"; 30 02: epoch 2.
    expect(Buffer.from(bytes).toString("hex")).toBe(
      "08ac02" + "1a0177" + "22050a016b1005" + "22070a016b10061802" + "2a0176" + "3002",
    );
    // A base of 200 µs reported in epoch 2: 10 c801 after the stamp, 38 02 after the epoch.
    const based = encodeStamped({
      stampMicros: 300,
      baseMicros: 200,
      writer: utf8.encode("w"),
      dependencyStamps: [],
      value: utf8.encode("v"),
      epoch: 2,
      baseEpoch: 2,
    });
    expect(Buffer.from(based).toString("hex")).toBe("08ac02" + "10c801" + "1a0177" + "2a0176" + "3002" + "3802");
  });

  it("decodes what it encodes, byte for byte canonical", () => {
    fc.assert(
      fc.property(stampedValues, (value) => {
        const bytes = encodeStamped(value);
        const decoded = decodeStamped(bytes)!;
        expect(decoded).toBeDefined();
        expect(encodeStamped(decoded)).toEqual(bytes);
        expect(decoded.stampMicros).toBe(value.stampMicros);
        expect(decoded.baseMicros).toBe(value.baseMicros);
        expect(decoded.epoch).toBe(value.epoch);
        expect(decoded.baseEpoch).toBe(value.baseEpoch);
        expect(decoded.dependencyStamps.map(({ epoch }) => epoch)).toEqual(
          value.dependencyStamps.map(({ epoch }) => epoch),
        );
        // A dependency's writer comes back where one was written, and is absent (not empty) where none was.
        expect(decoded.dependencyStamps.map(({ writer }) => writer && hex(writer))).toEqual(
          value.dependencyStamps.map(({ writer }) => writer && hex(writer)),
        );
        expect([...decoded.value]).toEqual([...value.value]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("takes bytes that are not a canonical stamp for unstamped values", () => {
    const canonical = encodeStamped(stamped());
    expect(decodeStamped(canonical)).toBeDefined();
    // A user's value, a truncation, a field after the value, a zero base written out, and no writer.
    expect(decodeStamped(utf8.encode("hello"))).toBeUndefined();
    expect(decodeStamped(canonical.subarray(0, canonical.length - 1))).toBeUndefined();
    expect(decodeStamped(Uint8Array.from([...canonical, 0x08, 0x01]))).toBeUndefined();
    expect(decodeStamped(Uint8Array.from([0x08, 0x05, 0x10, 0x00, 0x1a, 0x01, 0x77, 0x2a, 0x00]))).toBeUndefined();
    expect(decodeStamped(Uint8Array.from([0x08, 0x05, 0x2a, 0x00]))).toBeUndefined();
    // The epoch after the value is taken; a zero epoch written out is not.
    expect(decodeStamped(Uint8Array.from([0x08, 0x05, 0x1a, 0x01, 0x77, 0x2a, 0x00, 0x30, 0x04]))?.epoch).toBe(4);
    expect(decodeStamped(Uint8Array.from([0x08, 0x05, 0x1a, 0x01, 0x77, 0x2a, 0x00, 0x30, 0x00]))).toBeUndefined();
    // A base epoch is taken with its base, not without one, and not before the epoch.
    const withBase = [0x08, 0x05, 0x10, 0x03, 0x1a, 0x01, 0x77, 0x2a, 0x00];
    expect(decodeStamped(Uint8Array.from([...withBase, 0x30, 0x04, 0x38, 0x02]))?.baseEpoch).toBe(2);
    expect(decodeStamped(Uint8Array.from([0x08, 0x05, 0x1a, 0x01, 0x77, 0x2a, 0x00, 0x38, 0x02]))).toBeUndefined();
    expect(decodeStamped(Uint8Array.from([...withBase, 0x38, 0x02, 0x30, 0x04]))).toBeUndefined();
    // Dependency stamps in key order are taken, out of it not (nor written).
    const head = [0x08, 0x05, 0x1a, 0x01, 0x77];
    const dependencyA = [0x22, 0x05, 0x0a, 0x01, 0x61, 0x10, 0x05];
    const dependencyB = [0x22, 0x05, 0x0a, 0x01, 0x62, 0x10, 0x05];
    expect(decodeStamped(Uint8Array.from([...head, ...dependencyA, ...dependencyB, 0x2a, 0x00]))).toBeDefined();
    expect(decodeStamped(Uint8Array.from([...head, ...dependencyB, ...dependencyA, 0x2a, 0x00]))).toBeUndefined();
    const [a, a9, b] = stamped().dependencyStamps;
    expect(() => encodeStamped(stamped({ dependencyStamps: [b, a] }))).toThrow(/sorted/);
    expect(() => encodeStamped(stamped({ dependencyStamps: [a9, a, b] }))).toThrow(/sorted/);
    expect(() => encodeStamped(stamped({ dependencyStamps: [a, a, b] }))).toThrow(/unique/);
  });

  it("writes a dependency's writer (causal-multi-key-lww) as field 4, after the epoch, and takes it back only so", () => {
    const withWriter = (writer: string) => ({
      key: utf8.encode("k"),
      stampMicros: 5,
      epoch: 2,
      writer: utf8.encode(writer),
    });
    const bytes = encodeStamped(stamped({ baseMicros: 0, baseEpoch: 0, dependencyStamps: [withWriter("x")] }));
    // 22 0a (0a 01 6b 10 05 18 02 22 01 78): key "k", stamp 5, epoch 2, writer "x".
    expect(hex(bytes)).toContain("220a0a016b1005180222" + "0178");
    expect(hex(decodeStamped(bytes)!.dependencyStamps[0].writer!)).toBe("78");
    const head = [0x08, 0x05, 0x1a, 0x01, 0x77];
    const tail = [0x2a, 0x00];
    const dependency = (...body: number[]) => Uint8Array.from([...head, 0x22, body.length, ...body, ...tail]);
    const key = [0x0a, 0x01, 0x6b, 0x10, 0x05];
    expect(decodeStamped(dependency(...key, 0x18, 0x02, 0x22, 0x01, 0x78))).toBeDefined();
    expect(decodeStamped(dependency(...key, 0x22, 0x01, 0x78))).toBeDefined();
    // An empty writer written, a writer before the epoch, and a repeated writer are not canonical.
    expect(decodeStamped(dependency(...key, 0x22, 0x00))).toBeUndefined();
    expect(decodeStamped(dependency(...key, 0x22, 0x01, 0x78, 0x18, 0x02))).toBeUndefined();
    expect(decodeStamped(dependency(...key, 0x22, 0x01, 0x78, 0x22, 0x01, 0x79))).toBeUndefined();
    // Nor is a writer of the wrong wire type.
    expect(decodeStamped(dependency(...key, 0x20, 0x01))).toBeUndefined();
    expect(() => encodeStamped(stamped({ dependencyStamps: [withWriter("")] }))).toThrow(/writer/);
  });

  it("refuses to encode what a reader could not take back", () => {
    expect(() => encodeStamped(stamped({ stampMicros: 0 }))).toThrow(/positive/);
    expect(() => encodeStamped(stamped({ baseMicros: -1 }))).toThrow(/µs count/);
    expect(() => encodeStamped(stamped({ writer: new Uint8Array(0) }))).toThrow(/writer/);
    expect(() => encodeStamped(stamped({ stampMicros: 2 ** 60 }))).toThrow(/positive/);
    expect(() => encodeStamped(stamped({ epoch: -1 }))).toThrow(/epoch/);
    expect(() => encodeStamped(stamped({ baseEpoch: -1 }))).toThrow(/base epoch/);
    expect(() => encodeStamped(stamped({ baseMicros: 0, baseEpoch: 3 }))).toThrow(/without a base/);
  });

  it("shows the accept floor a PUT stamped at or below it or in another epoch, and not bare or malformed ones", () => {
    const payload = (...values: Uint8Array[]) =>
      encodeMultiCausal({ vectorClock: { w1: 1 }, dependencies: [{ key: "d", vectorClock: { w0: 3 } }], values });
    const early = element(encodeStamped(stamped({ stampMicros: 1_000 })));
    const late = element(encodeStamped(stamped({ stampMicros: 2_000 })));
    const lateOtherEpoch = element(encodeStamped(stamped({ stampMicros: 2_000, epoch: 10 })));
    expect(hasStaleStamp(payload(late), 1_500, 9)).toBe(false);
    expect(hasStaleStamp(payload(late), 2_000, 9)).toBe(true);
    expect(hasStaleStamp(payload(late, early), 1_500, 9)).toBe(true);
    expect(hasStaleStamp(payload(lateOtherEpoch), 1_500, 9)).toBe(true);
    expect(hasStaleStamp(payload(lateOtherEpoch), 1_500, 10)).toBe(false);
    // A bare value and an envelope holding a bare value carry no stamp.
    expect(hasStaleStamp(payload(utf8.encode("bare"), element(utf8.encode("bare"))), 1_500, 9)).toBe(false);
    expect(hasStaleStamp(payload(utf8.encode("bare"), early), 1_500, 9)).toBe(true);
    expect(hasStaleStamp(Uint8Array.from([0x1a, 0x05, 0x01]), 1_500, 9)).toBe(false);
  });
});
