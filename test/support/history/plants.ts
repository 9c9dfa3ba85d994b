/**
 * Planting one anomaly into a serial history (docs/consistency.md §4.3 (b)): each plant
 * runs a few scripted transactions on the serial executor that break exactly one rule (a
 * read redirected to an aborted value, two stamps swapped, a dependency dropped, ...) and
 * names what the checker's witness must hold. Plants marked `atEnd` also write the finals.
 */
import type { AnomalyClass } from "./anomalies";
import type { Level } from "./levels";
import type { SerialExecutor } from "./serial-executor";

/** Two distinct sessions, two distinct LWW keys and two distinct causal keys. */
export interface PlantChoice {
  readonly processes: readonly [number, number];
  readonly lwwKeys: readonly [string, string];
  readonly causalKeys: readonly [string, string];
}

/** What a witness of the class must include. */
export interface PlantedWitness {
  readonly txns: readonly string[];
  readonly keys: readonly string[];
}

export interface Plant {
  readonly anomalyClass: AnomalyClass;
  /** A level at which the class is forbidden (G2 is forbidden at none). */
  readonly level: Level;
  readonly atEnd: boolean;
  readonly plant: (executor: SerialExecutor, choice: PlantChoice) => PlantedWitness;
}

const LEVEL = "planted";

export const PLANTS: Readonly<Record<string, Plant>> = {
  "G0: stamps of y swapped": {
    anomalyClass: "G0",
    level: "read-uncommitted",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x, y] }) => {
      const [first, second] = [executor.takeStamp(), executor.takeStamp()];
      const [t1, t2] = [executor.begin(p), executor.begin(q)];
      t1.write(x, first);
      t1.write(y, second);
      t2.write(x, second);
      t2.write(y, first);
      t1.run(LEVEL, "ok");
      t2.run(LEVEL, "ok");
      return { txns: [t1.name, t2.name], keys: [x, y] };
    },
  },
  "G1a: a read redirected to a failed write": {
    anomalyClass: "G1a",
    level: "read-committed",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x] }) => {
      const failed = executor.begin(p);
      const value = failed.write(x);
      failed.run(LEVEL, "fail");
      const reader = executor.begin(q);
      reader.readReturning(x, value);
      reader.run(LEVEL, "ok");
      return { txns: [reader.name, failed.name], keys: [x] };
    },
  },
  "G1b: a read of an intermediate write": {
    anomalyClass: "G1b",
    level: "read-committed",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x] }) => {
      const writer = executor.begin(p);
      const intermediate = writer.write(x);
      writer.write(x);
      writer.run(LEVEL, "ok");
      const reader = executor.begin(q);
      reader.readReturning(x, intermediate);
      reader.run(LEVEL, "ok");
      return { txns: [reader.name, writer.name], keys: [x] };
    },
  },
  "G1c: two concurrent transactions read each other's writes": {
    anomalyClass: "G1c",
    level: "read-committed",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x, y] }) => {
      const [t1, t2] = [executor.begin(p), executor.begin(q)];
      const ofT1 = t1.write(x);
      const ofT2 = t2.write(y);
      t1.readReturning(y, ofT2);
      t2.readReturning(x, ofT1);
      t1.invoke(LEVEL);
      t2.invoke(LEVEL);
      t1.complete("ok");
      t2.complete("ok");
      return { txns: [t1.name, t2.name], keys: [x, y] };
    },
  },
  "FR: one write of a transaction read, the other missed": {
    anomalyClass: "FR",
    level: "read-atomic",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x, y] }) => {
      const writer = executor.begin(p);
      writer.write(x);
      writer.write(y);
      writer.run(LEVEL, "ok");
      const reader = executor.begin(q);
      reader.read(x);
      reader.readReturning(y, executor.previous(y));
      reader.run(LEVEL, "ok");
      return { txns: [reader.name, writer.name], keys: [x, y] };
    },
  },
  "IC: a second read of a key goes back": {
    anomalyClass: "IC",
    level: "item-cut",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x] }) => {
      const writer = executor.begin(q);
      writer.write(x);
      writer.run(LEVEL, "ok");
      const reader = executor.begin(p);
      reader.read(x);
      reader.readReturning(x, executor.previous(x));
      reader.run(LEVEL, "ok");
      return { txns: [reader.name], keys: [x] };
    },
  },
  "S-RYW: a session reads below its own write": {
    anomalyClass: "S-RYW",
    level: "read-your-writes",
    atEnd: false,
    plant: (executor, { processes: [p], lwwKeys: [x] }) => {
      const writer = executor.begin(p);
      writer.write(x);
      writer.run(LEVEL, "ok");
      const reader = executor.begin(p);
      reader.readReturning(x, executor.previous(x));
      reader.run(LEVEL, "ok");
      return { txns: [reader.name, writer.name], keys: [x] };
    },
  },
  "S-MR: a session's second read goes back": {
    anomalyClass: "S-MR",
    level: "monotonic-reads",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x] }) => {
      const writer = executor.begin(q);
      writer.write(x);
      writer.run(LEVEL, "ok");
      const first = executor.begin(p);
      first.read(x);
      first.run(LEVEL, "ok");
      const second = executor.begin(p);
      second.readReturning(x, executor.previous(x));
      second.run(LEVEL, "ok");
      return { txns: [second.name, first.name], keys: [x] };
    },
  },
  "S-MW: a session's second write stamped below its first": {
    anomalyClass: "S-MW",
    level: "monotonic-writes",
    atEnd: false,
    plant: (executor, { processes: [p], lwwKeys: [x] }) => {
      const first = executor.begin(p);
      first.write(x);
      first.run(LEVEL, "ok");
      const second = executor.begin(p);
      second.write(x, executor.stampOf(x) - 1n);
      second.run(LEVEL, "ok");
      return { txns: [second.name, first.name], keys: [x] };
    },
  },
  "S-WFR: a write stamped below the version its session read": {
    anomalyClass: "S-WFR",
    level: "writes-follow-reads",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x] }) => {
      const other = executor.begin(q);
      other.write(x);
      other.run(LEVEL, "ok");
      const reader = executor.begin(p);
      reader.read(x);
      reader.run(LEVEL, "ok");
      const writer = executor.begin(p);
      writer.write(x, executor.stampOf(x) - 1n);
      writer.run(LEVEL, "ok");
      return { txns: [writer.name, reader.name], keys: [x] };
    },
  },
  "C: a dependency dropped (stale causal read)": {
    anomalyClass: "C",
    level: "causal-multi-key",
    atEnd: false,
    plant: (executor, { processes: [p, q], causalKeys: [x, y] }) => {
      const dependency = executor.begin(p);
      dependency.write(x);
      dependency.run(LEVEL, "ok");
      const dependent = executor.begin(p);
      dependent.write(y);
      dependent.run(LEVEL, "ok");
      const first = executor.begin(q);
      first.read(y);
      first.run(LEVEL, "ok");
      const stale = executor.begin(q);
      stale.readReturning(x, executor.previous(x));
      stale.run(LEVEL, "ok");
      return { txns: [stale.name, dependency.name], keys: [x] };
    },
  },
  "C: an overwritten sibling returned": {
    anomalyClass: "C",
    level: "causal-multi-key",
    atEnd: false,
    plant: (executor, { processes: [p, q], causalKeys: [x] }) => {
      const first = executor.begin(p);
      const overwritten = first.write(x);
      first.run(LEVEL, "ok");
      const reader = executor.begin(q);
      reader.read(x);
      reader.run(LEVEL, "ok");
      const second = executor.begin(q);
      const overwriting = second.write(x);
      second.run(LEVEL, "ok");
      const siblings = executor.begin(p);
      siblings.readReturning(x, [overwritten, overwriting]);
      siblings.run(LEVEL, "ok");
      return { txns: [siblings.name, first.name, second.name], keys: [x] };
    },
  },
  "NC: one replica keeps the previous version": {
    anomalyClass: "NC",
    level: "eventual",
    atEnd: true,
    plant: (executor, { processes: [p], lwwKeys: [x] }) => {
      const writer = executor.begin(p);
      writer.write(x);
      writer.run(LEVEL, "ok");
      executor.finish(x);
      return { txns: [], keys: [x] };
    },
  },
  "LW: every replica lost the last acknowledged write": {
    anomalyClass: "LW",
    level: "eventual",
    atEnd: true,
    plant: (executor, { processes: [p], lwwKeys: [x] }) => {
      const writer = executor.begin(p);
      writer.write(x);
      writer.run(LEVEL, "ok");
      executor.finish(undefined, x);
      return { txns: [writer.name], keys: [x] };
    },
  },
  "G2: write skew": {
    anomalyClass: "G2",
    level: "read-atomic",
    atEnd: false,
    plant: (executor, { processes: [p, q], lwwKeys: [x, y] }) => {
      const [t1, t2] = [executor.begin(p), executor.begin(q)];
      for (const transaction of [t1, t2]) {
        transaction.read(x);
        transaction.read(y);
      }
      t1.write(x);
      t2.write(y);
      t1.invoke(LEVEL);
      t2.invoke(LEVEL);
      t1.complete("ok");
      t2.complete("ok");
      return { txns: [t1.name, t2.name], keys: [x, y] };
    },
  },
};
