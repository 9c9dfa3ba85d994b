import fc from "fast-check";
import { compareDependencyStamps, type StampedValue } from "../../src/lattices/causal-stamp";

/** Hex in and out, so that expected canonical bytes read as they are written on paper. */
export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

export function hex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString("hex");
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A positive µs count, as stamps hold. */
export const MICROS = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/**
 * Canonical stamped values (src/lattices/causal-stamp.ts) of any size the codec takes:
 * dependency stamps sorted and unique, each with a writer or without, and a base epoch only
 * with a base.
 */
export function stampedValueArbitrary(
  stampMicros: fc.Arbitrary<number> = MICROS,
  writer: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 1, maxLength: 11 }),
): fc.Arbitrary<StampedValue> {
  const bytes = fc.uint8Array({ maxLength: 12 });
  const dependency = fc.record({
    key: bytes,
    stampMicros: MICROS,
    epoch: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
    writer: fc.option(fc.uint8Array({ minLength: 1, maxLength: 12 }), { nil: undefined }),
  });
  return fc
    .record({
      stampMicros,
      baseMicros: fc.oneof(fc.constant(0), MICROS),
      writer,
      dependencyStamps: fc.uniqueArray(dependency, {
        selector: ({ key, epoch }) => `${Buffer.from(key).toString("hex")}/${epoch}`,
        maxLength: 6,
      }),
      value: bytes,
      epoch: fc.oneof(fc.constant(0), MICROS),
      baseEpoch: fc.oneof(fc.constant(0), MICROS),
    })
    .map((value) => ({
      ...value,
      dependencyStamps: [...value.dependencyStamps].sort(compareDependencyStamps),
      baseEpoch: value.baseMicros === 0 ? 0 : value.baseEpoch,
    }));
}
