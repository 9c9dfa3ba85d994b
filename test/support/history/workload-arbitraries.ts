/**
 * fast-check arbitraries for the checker's property tests: a serial workload (which keys
 * exist before the run, then transactions of up to four ops with their outcomes) and a
 * plant (which anomaly, where, on which sessions and keys). Shrinking removes steps and
 * ops, so a failure shrinks to a short history.
 */
import fc from "fast-check";
import type { HistoryEvent } from "./events";
import { PLANTS, type PlantChoice, type PlantedWitness } from "./plants";
import { CAUSAL_KEYS, LWW_KEYS, SET_KEYS, SerialExecutor, type Outcome, type WorkloadStep } from "./serial-executor";

const PROCESS_COUNT = 4;
const ALL_KEYS = [...LWW_KEYS, ...CAUSAL_KEYS, ...SET_KEYS];
const OPS_PER_STEP_MAX = 4;

export interface Workload {
  readonly initialKeys: readonly string[];
  readonly steps: readonly WorkloadStep[];
}

export interface PlantSpec {
  readonly name: string;
  /** Where among the steps the plant runs (modulo their count + 1). */
  readonly position: number;
  readonly choice: PlantChoice;
}

export interface SerialRun {
  readonly events: readonly HistoryEvent[];
  readonly initial: Readonly<Record<string, string>>;
  readonly planted: PlantedWitness | null;
}

const outcomeArbitrary: fc.Arbitrary<Outcome> = fc.oneof(
  { arbitrary: fc.constant<Outcome>("ok"), weight: 12 },
  { arbitrary: fc.constant<Outcome>("fail"), weight: 1 },
  { arbitrary: fc.constant<Outcome>("info-applied"), weight: 1 },
  { arbitrary: fc.constant<Outcome>("info-lost"), weight: 1 },
);

export function workloadArbitrary(stepsMax: number): fc.Arbitrary<Workload> {
  const op = fc.record({ write: fc.boolean(), key: fc.constantFrom(...ALL_KEYS) });
  const step = fc.record({
    process: fc.nat({ max: PROCESS_COUNT - 1 }),
    outcome: outcomeArbitrary,
    ops: fc.array(op, { minLength: 1, maxLength: OPS_PER_STEP_MAX }),
  });
  return fc.record({ initialKeys: fc.subarray(ALL_KEYS), steps: fc.array(step, { maxLength: stepsMax }) });
}

export const plantArbitrary: fc.Arbitrary<PlantSpec> = fc
  .record({
    name: fc.constantFrom(...Object.keys(PLANTS)),
    position: fc.nat(),
    first: fc.nat({ max: PROCESS_COUNT - 1 }),
    offset: fc.integer({ min: 1, max: PROCESS_COUNT - 1 }),
    lwwKeys: fc.shuffledSubarray([...LWW_KEYS], { minLength: 2, maxLength: 2 }),
    causalKeys: fc.shuffledSubarray([...CAUSAL_KEYS], { minLength: 2, maxLength: 2 }),
  })
  .map(({ name, position, first, offset, lwwKeys, causalKeys }) => ({
    name,
    position,
    choice: {
      processes: [first, (first + offset) % PROCESS_COUNT] as const,
      lwwKeys: [lwwKeys[0], lwwKeys[1]] as const,
      causalKeys: [causalKeys[0], causalKeys[1]] as const,
    },
  }));

/** Runs the workload serially, with the plant (if any) among its steps or, for final-state plants, at the end. */
export function runSerial(workload: Workload, plantSpec: PlantSpec | null = null): SerialRun {
  const initial = Object.fromEntries(workload.initialKeys.map((key) => [key, `init.${key}`]));
  const executor = new SerialExecutor(initial);
  const plant = plantSpec === null ? null : PLANTS[plantSpec.name];
  const plantAt = plantSpec === null || plant!.atEnd ? -1 : plantSpec.position % (workload.steps.length + 1);
  let planted: PlantedWitness | null = null;
  workload.steps.forEach((step, position) => {
    if (position === plantAt) planted = plant!.plant(executor, plantSpec!.choice);
    executor.runStep(step, "serial");
  });
  if (plantAt === workload.steps.length) planted = plant!.plant(executor, plantSpec!.choice);
  if (plant?.atEnd) planted = plant.plant(executor, plantSpec!.choice);
  else executor.finish();
  return { events: executor.recorder.events(), initial, planted };
}
