/**
 * The verdict does not depend on names or line order (docs/consistency.md §4.3 (d)):
 * renaming processes, transactions, keys and values (in an order-reversing way), and
 * shuffling the JSON lines before parsing them back (parseHistory sorts by index), gives
 * the same verdict with the witnesses renamed. Histories are serial, some with a planted
 * anomaly, so that witnesses are compared too. Seeded; ANNAKV_SEED replays a failure.
 */
import fc from "fast-check";
import { checkHistory } from "../support/history/checker";
import { encodeEvent, parseHistory } from "../support/history/event-codec";
import { PLANTS } from "../support/history/plants";
import { REVERSING_RENAMING, renameEvent, renameInitial, renameVerdict } from "../support/history/renaming";
import { plantArbitrary, runSerial, workloadArbitrary } from "../support/history/workload-arbitraries";
import { Random } from "../support/random";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 0x1a7e;
const RUNS = 150;
const STEPS_MAX = 40;

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

describe("checker invariance", () => {
  it("renaming and shuffling the lines leave the verdict unchanged", () => {
    fc.assert(
      fc.property(
        workloadArbitrary(STEPS_MAX),
        fc.option(plantArbitrary, { freq: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (workload, plant, shuffleSeed) => {
          const { events, initial } = runSerial(workload, plant);
          const level = plant === null ? "causal-multi-key" : PLANTS[plant.name].level;
          const original = checkHistory(events, { level, initial });
          const lines = events.map((event) => encodeEvent(renameEvent(event, REVERSING_RENAMING)));
          const reparsed = parseHistory(shuffled(lines, new Random(shuffleSeed)).join("\n"));
          const renamed = checkHistory(reparsed, { level, initial: renameInitial(initial, REVERSING_RENAMING) });
          expect(renamed).toEqual(renameVerdict(original, REVERSING_RENAMING));
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
