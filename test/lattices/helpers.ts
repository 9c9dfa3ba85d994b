import fc from "fast-check";
import { compareDependencyStamps, type StampedValue } from "../../src/lattices/causal-stamp";
import { compareBytes } from "../../src/lattices/lattice";
import { toDottedContext, type DottedContext } from "../../src/lattices/dotted-causal";

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

/** Canonical dotted contexts, not empty: a vector over a few ids and dots beyond it. */
export function dottedContextArbitrary(): fc.Arbitrary<DottedContext> {
  const id = fc.constantFrom("r1", "r2", "actor-3").map(utf8);
  return fc
    .tuple(
      fc.array(fc.record({ key: id, value: fc.integer({ min: 1, max: 300 }) }), { maxLength: 3 }),
      fc.array(fc.record({ id, counter: fc.integer({ min: 1, max: 2 ** 32 - 1 }) }), { maxLength: 3 }),
    )
    .map(([entries, dots]) => toDottedContext(entries, dots))
    .filter(({ vector, cloud }) => vector.length + cloud.length > 0);
}

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
      dependencyContexts: fc.uniqueArray(fc.record({ key: bytes, context: dottedContextArbitrary() }), {
        selector: ({ key }) => Buffer.from(key).toString("hex"),
        maxLength: 4,
      }),
    })
    .map(({ dependencyContexts, ...value }) => ({
      ...value,
      // Absent as often as not: the levels that list none leave the field out.
      ...(dependencyContexts.length === 0
        ? {}
        : { dependencyContexts: [...dependencyContexts].sort((a, b) => compareBytes(a.key, b.key)) }),
      dependencyStamps: [...value.dependencyStamps].sort(compareDependencyStamps),
      baseEpoch: value.baseMicros === 0 ? 0 : value.baseEpoch,
    }));
}
