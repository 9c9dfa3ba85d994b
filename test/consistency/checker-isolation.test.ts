/**
 * Hand-made histories for the transactional classes (docs/consistency.md §4.3): one per
 * class, each asserting the classes found (exactly; some anomalies are several at once),
 * that the level forbids only the one the history is about, and its witness.
 */
import { checkHistory } from "../support/history/checker";
import { HandHistory, classesFound, forbiddenFound } from "../support/history/hand-history";

describe("checker: transactional anomalies", () => {
  it("G0: two transactions writing x and y, ordered oppositely on each key", () => {
    const history = new HandHistory();
    const t1 = history.txn(
      1,
      [
        ["w", "x", "x1"],
        ["w", "y", "y1"],
      ],
      { stamps: { x: 10, y: 20 } },
    );
    const t2 = history.txn(
      2,
      [
        ["w", "x", "x2"],
        ["w", "y", "y2"],
      ],
      { stamps: { x: 20, y: 10 } },
    );
    const verdict = checkHistory(history.events(), { level: "read-uncommitted" });
    expect(classesFound(verdict)).toEqual(["G0"]);
    expect(verdict.valid).toBe(false);
    const [witness] = verdict.anomalies.G0.witnesses;
    expect([...witness.txns].sort()).toEqual([t1, t2].sort());
    expect([...witness.keys].sort()).toEqual(["x", "y"]);
    expect(witness.cycle!.map((step) => step.kind)).toEqual(["ww", "ww"]);
  });

  it("G1a: a committed read of a failed transaction's write", () => {
    const history = new HandHistory();
    const failed = history.txn(1, [["w", "x", "x1"]], { outcome: "fail" });
    const reader = history.txn(2, [["r", "x", "x1"]]);
    const verdict = checkHistory(history.events(), { level: "read-committed" });
    expect(classesFound(verdict)).toEqual(["G1a"]);
    expect(verdict.anomalies.G1a.witnesses[0]).toMatchObject({ txns: [reader, failed], keys: ["x"], values: ["x1"] });
  });

  it("G1b: a read of a value its transaction overwrote", () => {
    const history = new HandHistory();
    const writer = history.txn(1, [
      ["w", "x", "x1"],
      ["w", "x", "x2"],
    ]);
    const reader = history.txn(2, [["r", "x", "x1"]]);
    const verdict = checkHistory(history.events(), { level: "read-committed" });
    expect(classesFound(verdict)).toEqual(["G1b"]);
    expect(verdict.anomalies.G1b.witnesses[0]).toMatchObject({ txns: [reader, writer], keys: ["x"], values: ["x1"] });
  });

  it("G1c: w-x r-y / w-y r-x, each reading the other's write (also an HB cycle, C)", () => {
    const history = new HandHistory();
    const t1 = history.txn(1, [
      ["w", "x", "x1"],
      ["r", "y", "y2"],
    ]);
    const t2 = history.txn(2, [
      ["w", "y", "y2"],
      ["r", "x", "x1"],
    ]);
    const verdict = checkHistory(history.events(), { level: "read-committed" });
    expect(classesFound(verdict)).toEqual(["G1c", "C"]);
    expect(forbiddenFound(verdict)).toEqual(["G1c"]);
    const [witness] = verdict.anomalies.G1c.witnesses;
    expect([...witness.txns].sort()).toEqual([t1, t2].sort());
    expect(witness.cycle!.map((step) => step.kind)).toEqual(["wr", "wr"]);
  });

  it("FR: reads x from T1 and y from before T1 (also C and a G2 cycle)", () => {
    const history = new HandHistory();
    const writer = history.txn(1, [
      ["w", "x", "x1"],
      ["w", "y", "y1"],
    ]);
    const reader = history.txn(2, [
      ["r", "x", "x1"],
      ["r", "y", "y0"],
    ]);
    const verdict = checkHistory(history.events(), { level: "read-atomic", initial: { y: "y0" } });
    expect(classesFound(verdict)).toEqual(["FR", "C", "G2"]);
    expect(forbiddenFound(verdict)).toEqual(["FR"]);
    expect(verdict.anomalies.FR.witnesses[0]).toMatchObject({ txns: [reader, writer, "T0"], keys: ["x", "y"] });
  });

  it("IC: a read after the transaction's own write returns another value", () => {
    const history = new HandHistory();
    const txn = history.txn(1, [
      ["w", "x", "x1"],
      ["r", "x", "x0"],
    ]);
    const verdict = checkHistory(history.events(), { level: "item-cut", initial: { x: "x0" } });
    expect(classesFound(verdict)).toEqual(["IC"]);
    expect(verdict.anomalies.IC.witnesses[0]).toMatchObject({ txns: [txn], keys: ["x"], values: ["x1", "x0"] });
  });

  it("IC: two reads of x in one transaction differ (also C and a G2 cycle)", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]]);
    const reader = history.txn(2, [
      ["r", "x", "x1"],
      ["r", "x", "x0"],
    ]);
    const verdict = checkHistory(history.events(), { level: "item-cut", initial: { x: "x0" } });
    expect(classesFound(verdict)).toEqual(["IC", "C", "G2"]);
    expect(forbiddenFound(verdict)).toEqual(["IC"]);
    expect(verdict.anomalies.IC.witnesses[0]).toMatchObject({ txns: [reader], keys: ["x"], values: ["x1", "x0"] });
  });

  it("G2: write skew is reported as observed, not promised", () => {
    const history = new HandHistory();
    const reads: ["r", string, string][] = [
      ["r", "x", "x0"],
      ["r", "y", "y0"],
    ];
    const t1 = history.txn(1, [...reads, ["w", "x", "x1"]]);
    const t2 = history.txn(2, [...reads, ["w", "y", "y2"]]);
    const verdict = checkHistory(history.events(), { level: "read-atomic", initial: { x: "x0", y: "y0" } });
    expect(classesFound(verdict)).toEqual(["G2"]);
    expect(verdict.valid).toBe(true);
    expect(verdict.anomalies.G2).toMatchObject({ forbidden: false, note: "observed, not promised" });
    const [witness] = verdict.anomalies.G2.witnesses;
    expect([...witness.txns].sort()).toEqual([t1, t2].sort());
    expect(witness.cycle!.map((step) => step.kind)).toEqual(["rw", "rw"]);
  });

  it("an info transaction joins the graph only once someone reads its writes", () => {
    const history = new HandHistory();
    const unknown = history.txn(
      1,
      [
        ["w", "x", "x1"],
        ["w", "y", "y1"],
      ],
      { outcome: "info", stamps: { x: 10, y: 20 } },
    );
    const committed = history.txn(
      2,
      [
        ["w", "x", "x2"],
        ["w", "y", "y2"],
      ],
      { stamps: { x: 20, y: 10 } },
    );
    const unobserved = checkHistory(history.events(), { level: "read-uncommitted" });
    expect(classesFound(unobserved)).toEqual([]);
    expect(unobserved.counts).toEqual({ ok: 1, fail: 0, info: 1 });
    history.txn(3, [["r", "x", "x1"]]);
    const observed = checkHistory(history.events(), { level: "read-uncommitted" });
    expect(forbiddenFound(observed)).toEqual(["G0"]);
    expect([...observed.anomalies.G0.witnesses[0].txns].sort()).toEqual([unknown, committed].sort());
  });
});
