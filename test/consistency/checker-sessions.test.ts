/**
 * Hand-made histories for the session guarantees and causal consistency (docs/consistency.md
 * §4.3): one per class, each asserting the classes found, that the level forbids only the
 * one the history is about, and its witness. A session is a process.
 */
import { checkHistory } from "../support/history/checker";
import { HandHistory, classesFound, forbiddenFound } from "../support/history/hand-history";

describe("checker: session guarantees", () => {
  it("S-RYW: a session reads below its own acknowledged write (also C)", () => {
    const history = new HandHistory();
    const writer = history.txn(1, [["w", "x", "x1"]]);
    const reader = history.txn(1, [["r", "x", "x0"]]);
    const verdict = checkHistory(history.events(), { level: "read-your-writes", initial: { x: "x0" } });
    expect(classesFound(verdict)).toEqual(["S-RYW", "C"]);
    expect(forbiddenFound(verdict)).toEqual(["S-RYW"]);
    expect(verdict.anomalies["S-RYW"].witnesses[0]).toMatchObject({
      txns: [reader, writer],
      keys: ["x"],
      values: ["x1"],
    });
  });

  it("S-MR: a session's second read returns an older version (also C)", () => {
    const history = new HandHistory();
    history.txn(2, [["w", "x", "x1"]]);
    const first = history.txn(1, [["r", "x", "x1"]]);
    const second = history.txn(1, [["r", "x", "x0"]]);
    const verdict = checkHistory(history.events(), { level: "monotonic-reads", initial: { x: "x0" } });
    expect(classesFound(verdict)).toEqual(["S-MR", "C"]);
    expect(forbiddenFound(verdict)).toEqual(["S-MR"]);
    expect(verdict.anomalies["S-MR"].witnesses[0]).toMatchObject({
      txns: [second, first],
      keys: ["x"],
      values: ["x1"],
    });
  });

  it("S-MW: a session's second write is stamped below its first", () => {
    const history = new HandHistory();
    const first = history.txn(1, [["w", "x", "x1"]], { stamps: { x: 20 } });
    const second = history.txn(1, [["w", "x", "x2"]], { stamps: { x: 10 } });
    const verdict = checkHistory(history.events(), { level: "monotonic-writes" });
    expect(classesFound(verdict)).toEqual(["S-MW"]);
    expect(verdict.anomalies["S-MW"].witnesses[0]).toMatchObject({
      txns: [second, first],
      keys: ["x"],
      values: ["x1"],
    });
  });

  it("S-WFR: a session writes below a version it read", () => {
    const history = new HandHistory();
    history.txn(2, [["w", "x", "x1"]], { stamps: { x: 20 } });
    const reader = history.txn(1, [["r", "x", "x1"]]);
    const writer = history.txn(1, [["w", "x", "x2"]], { stamps: { x: 10 } });
    const verdict = checkHistory(history.events(), { level: "writes-follow-reads" });
    expect(classesFound(verdict)).toEqual(["S-WFR"]);
    expect(verdict.anomalies["S-WFR"].witnesses[0]).toMatchObject({
      txns: [writer, reader],
      keys: ["x"],
      values: ["x1"],
    });
  });
});

describe("checker: causal consistency", () => {
  it("C: a stale causal read misses a dependency reached through another key (multi-key only)", () => {
    const history = new HandHistory();
    const dependency = history.txn(1, [["w", "x", "x1"]], { clocks: { x: { s1: 1 } } });
    history.txn(1, [["w", "y", "y1"]], { clocks: { y: { s1: 1 } } });
    history.txn(2, [["r", "y", ["y1"]]]);
    const stale = history.txn(2, [["r", "x", []]]);
    const multiKey = checkHistory(history.events(), { level: "causal-multi-key" });
    expect(classesFound(multiKey)).toEqual(["C"]);
    expect(multiKey.anomalies.C.witnesses[0]).toMatchObject({ txns: [stale, dependency], keys: ["x"], values: ["x1"] });
    const singleKey = checkHistory(history.events(), { level: "causal-single-key" });
    expect(singleKey.causalScope).toBe("single-key");
    expect(classesFound(singleKey)).toEqual([]);
  });

  it("C: a read returns an overwritten sibling with the value that overwrote it", () => {
    const history = new HandHistory();
    const overwritten = history.txn(1, [["w", "x", "x1"]], { clocks: { x: { s1: 1 } } });
    history.txn(2, [["r", "x", ["x1"]]]);
    const overwriting = history.txn(2, [["w", "x", "x2"]], { clocks: { x: { s1: 1, s2: 1 } } });
    const reader = history.txn(3, [["r", "x", ["x1", "x2"]]]);
    const verdict = checkHistory(history.events(), { level: "causal-single-key" });
    expect(classesFound(verdict)).toEqual(["C"]);
    expect(verdict.anomalies.C.witnesses[0]).toMatchObject({
      txns: [reader, overwritten, overwriting],
      keys: ["x"],
      values: ["x1", "x2"],
    });
  });

  it("C: concurrent siblings are fine", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]], { clocks: { x: { s1: 1 } } });
    history.txn(2, [["w", "x", "x2"]], { clocks: { x: { s2: 1 } } });
    history.txn(3, [["r", "x", ["x2", "x1"]]]);
    const verdict = checkHistory(history.events(), { level: "causal-multi-key" });
    expect(classesFound(verdict)).toEqual([]);
  });

  it("C: a read from the future closes a cycle of session order and reads", () => {
    const history = new HandHistory();
    const readX = history.txn(1, [["r", "x", ["x2"]]]);
    history.txn(1, [["w", "y", "y1"]], { clocks: { y: { s1: 1 } } });
    history.txn(2, [["r", "y", ["y1"]]]);
    const writeX = history.txn(2, [["w", "x", "x2"]], { clocks: { x: { s2: 1 } } });
    const verdict = checkHistory(history.events(), { level: "causal-multi-key" });
    expect(classesFound(verdict)).toEqual(["C"]);
    const [witness] = verdict.anomalies.C.witnesses;
    expect(witness.txns).toEqual(expect.arrayContaining([readX, writeX]));
    expect(witness.cycle!.map((step) => step.kind).sort()).toEqual(["so", "so", "wr", "wr"]);
  });
});
