/**
 * The value of causal-multi-key-lww (src/lattices/causal-lww.ts, docs/causal-stability.md
 * §9): an LWW value whose timestamp is the stamp, whose write id is 0xCA and the writer,
 * and whose value is the CausalStamp. Its round trip; its version order, which must be the
 * store's LWW merge order or a session would take an overwritten version for the newest;
 * and what the node's accept floor takes for stamped (`stampedOfLwwPut`, then
 * `isStaleStamp`): only that exact shape, never a plain or malformed LWW payload.
 */
import fc from "fast-check";
import {
  causalWriteId,
  CAUSAL_WRITE_ID_TAG,
  compareLwwVersions,
  decodeCausalLww,
  encodeCausalLww,
  mayBeStampedLwwPut,
  stampedOfLwwPut,
} from "../../src/lattices/causal-lww";
import { encodeStamped, isStaleStamp, type StampedValue } from "../../src/lattices/causal-stamp";
import { LatticeType } from "../../src/lattices/lattice-type";
import { mergePayloads } from "../../src/lattices/merge";
import { encodeLww } from "../../src/lattices/values";
import { MalformedPayloadError } from "../../src/wire/protobuf";
import { hex, MICROS, stampedValueArbitrary, utf8 } from "./helpers";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0xca11;
const WRITER = utf8("w1");

/** What the node's floor decides of an LWW PUT (actor/handlers/request.ts): stale only if stamped and stale. */
function isStaleCausalLww(payload: Uint8Array, acceptFloorMicros: number, epoch: number): boolean {
  const stamp = stampedOfLwwPut(payload);
  return stamp !== undefined && isStaleStamp(stamp, acceptFloorMicros, epoch);
}

function stamped(overrides: Partial<StampedValue> = {}): StampedValue {
  return {
    stampMicros: 2_000,
    baseMicros: 1_000,
    writer: WRITER,
    dependencyStamps: [{ key: utf8("a"), stampMicros: 1_500, epoch: 9, writer: causalWriteId(utf8("w0")) }],
    value: utf8("hello"),
    epoch: 9,
    baseEpoch: 9,
    ...overrides,
  };
}

/** A stamped value with its byte arrays as hex, so that views and copies compare equal. */
function plain(value: StampedValue): unknown {
  return {
    ...value,
    writer: hex(value.writer),
    value: hex(value.value),
    dependencyStamps: value.dependencyStamps.map((dependency) => ({
      ...dependency,
      key: hex(dependency.key),
      writer: dependency.writer && hex(dependency.writer),
    })),
  };
}

/** An LWW payload with the stamp's fields and a value or write id of one's own: what a careless writer might send. */
const lwwOf = (value: StampedValue, fields: { timestamp?: number; writeId?: Uint8Array; value?: Uint8Array }) =>
  encodeLww({
    timestamp: fields.timestamp ?? value.stampMicros,
    writeId: fields.writeId ?? causalWriteId(value.writer),
    value: fields.value ?? encodeStamped(value),
  });

/** A read-atomic write id: 16 random bytes, some of them starting with the tag. */
const randomWriteIds = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 15, maxLength: 15 }).map((rest) => Uint8Array.from([CAUSAL_WRITE_ID_TAG, ...rest])),
);

describe("the causal LWW value", () => {
  it("is LWWValue{timestamp = the stamp, value = the CausalStamp, write_id = 0xCA + the writer}", () => {
    const value = { ...stamped({ baseMicros: 0, baseEpoch: 0, dependencyStamps: [] }), stampMicros: 300 };
    const stamp = hex(encodeStamped(value))!;
    expect(hex(encodeCausalLww(value))).toBe(
      `08ac02 12${(stamp.length / 2).toString(16).padStart(2, "0")}${stamp} 6a03ca7731`.replace(/ /g, ""),
    );
  });

  it("decodes what it encodes: the stamp, the version (stamp, tagged writer) and the user's value", () => {
    fc.assert(
      fc.property(stampedValueArbitrary(), (value) => {
        const payload = encodeCausalLww(value);
        // Written directly, in the canonical form the general LWW encoder gives the same fields.
        const general = encodeLww({
          timestamp: value.stampMicros,
          writeId: causalWriteId(value.writer),
          value: encodeStamped(value),
        });
        expect(hex(payload)).toBe(hex(general));
        const decoded = decodeCausalLww(payload);
        expect(plain(decoded.stamped!)).toEqual(plain(value));
        expect(decoded.version.micros).toBe(value.stampMicros);
        expect(hex(decoded.version.writeId)).toBe(hex(causalWriteId(value.writer)));
        expect(hex(decoded.value)).toBe(hex(value.value));
        // The node's scan reads the same stamp.
        expect(plain(stampedOfLwwPut(payload)!)).toEqual(plain(value));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("orders versions as the store's LWW merge does, stamped or bare, the greater (timestamp, write id) winning", () => {
    // Few timestamps and writers, some a prefix of another, so that ties on each are common.
    const timestamps = fc.oneof(fc.integer({ min: 1, max: 3 }), MICROS);
    const writers = fc.oneof(
      fc.constantFrom(utf8("w"), utf8("w1"), utf8("x")),
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
    );
    const stampedPayloads = stampedValueArbitrary(timestamps, writers).map(encodeCausalLww);
    const barePayloads = fc
      .record({
        timestamp: timestamps,
        writeId: fc.oneof(fc.constant(new Uint8Array(0)), randomWriteIds, writers),
        value: fc.uint8Array({ maxLength: 4 }),
      })
      .map(encodeLww);
    const payloads = fc.oneof(stampedPayloads, barePayloads);
    fc.assert(
      fc.property(payloads, payloads, (a, b) => {
        const merged = mergePayloads(LatticeType.LWW, a, b)!;
        const order = compareLwwVersions(decodeCausalLww(a).version, decodeCausalLww(b).version);
        // Equal versions (one writer, one stamp) are told apart by the value, as the store does.
        if (order > 0) expect(hex(merged)).toBe(hex(a));
        else if (order < 0) expect(hex(merged)).toBe(hex(b));
        else expect([hex(a), hex(b)]).toContain(hex(merged));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("takes a plain LWW value for bare: no stamp, its own timestamp and write id as the version", () => {
    const bare = encodeLww({ timestamp: 5, value: "v" });
    expect(stampedOfLwwPut(bare)).toBeUndefined();
    expect(decodeCausalLww(bare)).toMatchObject({ version: { micros: 5 }, stamped: undefined });
    expect(hex(decodeCausalLww(bare).value)).toBe(hex(utf8("v")));
    // Anna's clients' write ids, and one that is the tag alone.
    expect(stampedOfLwwPut(encodeLww({ timestamp: 5, value: "v", writeId: "w" }))).toBeUndefined();
    expect(
      stampedOfLwwPut(
        encodeLww({ timestamp: 5, value: encodeStamped(stamped()), writeId: Uint8Array.of(CAUSAL_WRITE_ID_TAG) }),
      ),
    ).toBeUndefined();
    // A timestamp past 2^53 (Anna's nanosecond clocks may be) is a bare value, not an error.
    expect(stampedOfLwwPut(encodeLww({ timestamp: 2n ** 60n, value: "v", writeId: "w" }))).toBeUndefined();
  });

  it("takes read atomic's random write ids for bare, those starting with the tag included", () => {
    fc.assert(
      fc.property(randomWriteIds, fc.uint8Array({ maxLength: 24 }), MICROS, (writeId, value, timestamp) => {
        const payload = encodeLww({ timestamp, writeId, value });
        expect(stampedOfLwwPut(payload)).toBeUndefined();
        expect(decodeCausalLww(payload).stamped).toBeUndefined();
        expect(isStaleCausalLww(payload, Number.MAX_SAFE_INTEGER, 0)).toBe(false);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("takes a tagged write id over a value that is not a stamp for bare", () => {
    const payload = lwwOf(stamped(), { value: utf8("hello") });
    expect(stampedOfLwwPut(payload)).toBeUndefined();
    expect(decodeCausalLww(payload).stamped).toBeUndefined();
    expect(hex(decodeCausalLww(payload).value)).toBe(hex(utf8("hello")));
  });

  it("takes a stamp whose timestamp or writer disagrees with the LWW fields for bare", () => {
    const value = stamped();
    expect(stampedOfLwwPut(lwwOf(value, {}))).toBeDefined();
    const disagreeing = [
      lwwOf(value, { timestamp: value.stampMicros + 1 }),
      lwwOf(value, { timestamp: value.stampMicros - 1 }),
      lwwOf(value, { writeId: causalWriteId(utf8("w2")) }),
      lwwOf(value, { writeId: causalWriteId(utf8("w")) }),
      lwwOf(value, { writeId: causalWriteId(utf8("w1x")) }),
    ];
    for (const payload of disagreeing) {
      expect(stampedOfLwwPut(payload)).toBeUndefined();
      expect(decodeCausalLww(payload).stamped).toBeUndefined();
      // The stamp's own value is then the user's value: the whole CausalStamp bytes.
      expect(hex(decodeCausalLww(payload).value)).toBe(hex(encodeStamped(value)));
    }
  });

  it("takes an LWW value with more fields (a write set, a window) for bare, on the node and in readers alike", () => {
    const value = stamped();
    const fields = { timestamp: value.stampMicros, writeId: causalWriteId(value.writer), value: encodeStamped(value) };
    const withWriteSet = encodeLww({ ...fields, writeSet: ["k"] });
    const withWindow = encodeLww({ ...fields, versions: [{ timestamp: 1, writeId: "r", value: "v" }] });
    expect(stampedOfLwwPut(withWriteSet)).toBeUndefined();
    expect(stampedOfLwwPut(withWindow)).toBeUndefined();
    expect(isStaleCausalLww(withWriteSet, value.stampMicros, value.epoch)).toBe(false);
    // A reader must not trust a stamp the node's floor never checked.
    expect(decodeCausalLww(withWriteSet).stamped).toBeUndefined();
    expect(decodeCausalLww(withWindow).stamped).toBeUndefined();
  });

  it("takes the fields out of number order for bare, on the node and in readers alike", () => {
    const value = stamped();
    const canonical = encodeCausalLww(value);
    const writeId = causalWriteId(value.writer);
    // The same three fields, the write id moved first: well formed, but not as the store writes them.
    const idField = Uint8Array.from([0x6a, writeId.length, ...writeId]);
    const reordered = Uint8Array.from([...idField, ...canonical.subarray(0, canonical.length - idField.length)]);
    expect(stampedOfLwwPut(canonical)).toBeDefined();
    expect(stampedOfLwwPut(reordered)).toBeUndefined();
    expect(decodeCausalLww(reordered).stamped).toBeUndefined();
    expect(hex(decodeCausalLww(reordered).value)).toBe(hex(encodeStamped(value)));
  });

  it("rejects in place within a frame, never reading past the payload's end", () => {
    const stampedPayload = encodeCausalLww(stamped());
    const plainPayload = encodeLww({ timestamp: 5, value: "v" });
    // A plain payload followed, in the same frame, by the bytes of a stamped one.
    const frame = Uint8Array.from([0xff, ...plainPayload, ...stampedPayload.subarray(plainPayload.length)]);
    expect(mayBeStampedLwwPut(frame, 1, 1 + plainPayload.length)).toBe(false);
    const framed = Uint8Array.from([0xff, 0xff, ...stampedPayload, 0xca]);
    expect(mayBeStampedLwwPut(framed, 2, 2 + stampedPayload.length)).toBe(true);
    expect(mayBeStampedLwwPut(framed, 2, 2 + stampedPayload.length - 1)).toBe(true);
    expect(mayBeStampedLwwPut(framed, 2, 2)).toBe(false);
  });

  it("finds the stamp past values of every length class (1-, 2- and 3-byte lengths)", () => {
    for (const valueBytes of [0, 100, 127, 128, 5_000, 16_383, 16_384, 70_000]) {
      const value = stamped({ value: new Uint8Array(valueBytes).fill(7) });
      expect(stampedOfLwwPut(encodeCausalLww(value))?.value.length).toBe(valueBytes);
    }
  });

  it("takes malformed bytes for bare on the node, and refuses them when decoding", () => {
    const payload = encodeCausalLww(stamped());
    const malformed = [
      payload.subarray(0, payload.length - 1),
      Uint8Array.of(0x0a, 0x01, 0x05),
      Uint8Array.of(0x12, 0x05, 0x01),
      Uint8Array.of(0x08),
      Uint8Array.from([...payload, 0x6a, 0x7f]),
    ];
    for (const bytes of malformed) {
      expect(stampedOfLwwPut(bytes)).toBeUndefined();
      expect(isStaleCausalLww(bytes, Number.MAX_SAFE_INTEGER, 0)).toBe(false);
      expect(() => decodeCausalLww(bytes)).toThrow(MalformedPayloadError);
    }
  });

  it("is stale for the accept floor at or below it, or in another epoch, and fresh above it in its own", () => {
    const payload = encodeCausalLww(stamped({ stampMicros: 2_000, epoch: 9 }));
    expect(isStaleCausalLww(payload, 1_999, 9)).toBe(false);
    expect(isStaleCausalLww(payload, 2_000, 9)).toBe(true);
    expect(isStaleCausalLww(payload, 2_001, 9)).toBe(true);
    expect(isStaleCausalLww(payload, 1_999, 10)).toBe(true);
    expect(isStaleCausalLww(payload, 1_999, 0)).toBe(true);
    // A bare value whatever its timestamp.
    expect(isStaleCausalLww(encodeLww({ timestamp: 1, value: "v" }), 2_000, 9)).toBe(false);
  });
});
