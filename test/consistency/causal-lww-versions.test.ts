/**
 * causal-multi-key-lww's version scheme (src/consistency/causal-lww-versions.ts): what a
 * writer says its own payload decodes to (`stampedVersionedValue`, which the causal cut
 * takes instead of decoding the payload) must be what the scheme decodes from the payload.
 */
import fc from "fast-check";
import { causalLwwVersions, stampedVersionedValue } from "../../src/consistency/causal-lww-versions";
import { causalWriteId, encodeCausalLww } from "../../src/lattices/causal-lww";
import { hex, stampedValueArbitrary } from "../lattices/helpers";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x5eed;

/** A decode with its byte arrays as hex, so that views and copies compare equal. */
function comparable(decoded: ReturnType<typeof causalLwwVersions.decode>): unknown {
  const version = (value: { micros: number; writeId: Uint8Array; epoch: number }) => ({
    ...value,
    writeId: hex(value.writeId),
  });
  return {
    version: version(decoded.version),
    dependencies: decoded.dependencies.map(([key, needed, stamps]) => [key, version(needed), [...stamps]]),
  };
}

describe("causalLwwVersions", () => {
  it("decodes a stamped write's payload to what its writer built from the same parts", () => {
    fc.assert(
      fc.property(stampedValueArbitrary(), (stamped) => {
        const version = { micros: stamped.stampMicros, writeId: causalWriteId(stamped.writer), epoch: stamped.epoch };
        const built = stampedVersionedValue(version, stamped.dependencyStamps);
        expect(comparable(causalLwwVersions.decode(encodeCausalLww(stamped)))).toEqual(comparable(built));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
