/**
 * A multi-key session's causal past (src/consistency/causal-past.ts): `dropStable` drops
 * exactly the entries whose stamps are all at or below their epochs' stable times, checked
 * against a model of joined entries, and on an entry added below every entry kept (which a
 * pass that skipped looking until the stable time reached the entries kept would miss).
 */
import fc from "fast-check";
import { CausalPast, type PastAddition } from "../../src/consistency/causal-past";
import { causalLwwVersions, type CausalLwwVersion } from "../../src/consistency/causal-lww-versions";
import {
  epochStamp,
  EpochStableTimes,
  isStable,
  joinEpochStamps,
  type EpochStamps,
} from "../../src/consistency/epoch-stamps";
import { EMPTY_BYTES } from "../../src/lattices/lattice";

const LIMITS = { maxKeys: 1000, maxStateBytes: 1 << 20 };

function addition(key: string, micros: number, epoch: number): PastAddition<CausalLwwVersion> {
  return [key, { micros, writeId: EMPTY_BYTES, epoch }, epochStamp(epoch, micros)];
}

function keysOf(past: CausalPast<CausalLwwVersion>, candidates: readonly string[]): string[] {
  return candidates.filter((key) => past.has(key));
}

describe("CausalPast.dropStable", () => {
  it("drops an entry added below every entry it kept, once the stable time passes it", () => {
    const past = new CausalPast(LIMITS, causalLwwVersions);
    const stable = new EpochStableTimes();
    past.add([addition("high", 500, 1)]);
    stable.learn({ micros: 100, epoch: 1 });
    past.dropStable(stable);
    expect(keysOf(past, ["high", "low"])).toEqual(["high"]);
    // Below every entry kept so far, and below the stable time the next call brings.
    past.add([addition("low", 150, 1)]);
    stable.learn({ micros: 200, epoch: 1 });
    past.dropStable(stable);
    expect(keysOf(past, ["high", "low"])).toEqual(["high"]);
    stable.learn({ micros: 500, epoch: 1 });
    past.dropStable(stable);
    expect(past.keyCount).toBe(0);
    expect(past.stateBytes).toBe(0);
  });

  it("keeps what a model that looks at every entry each time keeps, under any adds and stable times", () => {
    const keys = ["a", "b", "c", "d", "e"];
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant("add" as const),
        key: fc.constantFrom(...keys),
        micros: fc.integer({ min: 1, max: 100 }),
        epoch: fc.constantFrom(0, 1, 2),
      }),
      fc.record({
        kind: fc.constant("learn" as const),
        micros: fc.integer({ min: 0, max: 120 }),
        epoch: fc.constantFrom(0, 1, 2),
      }),
      fc.record({ kind: fc.constant("drop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const past = new CausalPast(LIMITS, causalLwwVersions);
        const stable = new EpochStableTimes();
        const model = new Map<string, { version: CausalLwwVersion; stamps: EpochStamps }>();
        for (const op of operations) {
          if (op.kind === "add") {
            const [key, version, stamps] = addition(op.key, op.micros, op.epoch);
            past.add([[key, version, stamps]]);
            const before = model.get(key);
            model.set(
              key,
              before === undefined || causalLwwVersions.covers(version, before.version)
                ? { version, stamps }
                : {
                    version: causalLwwVersions.join(before.version, version),
                    stamps: joinEpochStamps(before.stamps, stamps),
                  },
            );
          } else if (op.kind === "learn") {
            stable.learn({ micros: op.micros, epoch: op.epoch });
          } else {
            past.dropStable(stable);
            for (const [key, entry] of model) if (isStable(entry.stamps, stable)) model.delete(key);
            expect(keysOf(past, keys)).toEqual(keys.filter((key) => model.has(key)));
          }
        }
      }),
    );
  });
});
