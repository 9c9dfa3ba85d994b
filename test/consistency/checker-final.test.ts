/**
 * Hand-made histories for what replicas hold after healing (docs/consistency.md §4.2):
 * diverged replicas (NC), lost writes (LW, forbidden unless the run allows them), and the
 * set and causal rules (⊇ acknowledged, ⊆ acknowledged ∪ unknown; no superseded sibling).
 */
import { checkHistory } from "../support/history/checker";
import type { FinalPayload } from "../support/history/events";
import { HandHistory, classesFound } from "../support/history/hand-history";

const lww = (value: string | null, stamp?: number, writeId = ""): FinalPayload =>
  stamp === undefined ? { kind: "lww", value } : { kind: "lww", value, stamp: [String(stamp), writeId] };
const set = (...elements: string[]) => ({ kind: "set", elements }) as const;
const causal = (...siblings: string[]) => ({ kind: "causal", siblings }) as const;

describe("checker: final state", () => {
  it("NC: replicas hold different values, each of which could have won", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]]);
    history.txn(2, [["w", "x", "x2"]], { outcome: "info" });
    history.final("x", lww("x2", 20, "00000002"), lww("x1", 10, "00000001"));
    const verdict = checkHistory(history.events(), { level: "eventual" });
    expect(classesFound(verdict)).toEqual(["NC"]);
    expect(verdict.anomalies.NC.witnesses[0]).toMatchObject({ keys: ["x"], replicas: ["replica-0", "replica-1"] });
  });

  it("LW: every replica lost the greatest acknowledged write", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]]);
    const lost = history.txn(2, [["w", "x", "x2"]]);
    history.final("x", lww("x1"));
    const verdict = checkHistory(history.events(), { level: "eventual" });
    expect(classesFound(verdict)).toEqual(["LW"]);
    expect(verdict.valid).toBe(false);
    expect(verdict.anomalies.LW.witnesses[0]).toMatchObject({ txns: [lost], keys: ["x"], values: ["x2"] });
  });

  it("LW allowed by configuration is counted, not failed", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]]);
    history.final("x", lww(null));
    const verdict = checkHistory(history.events(), { level: "read-committed", allowLostWrites: true });
    expect(verdict.anomalies.LW).toMatchObject({ count: 1, forbidden: false });
    expect(verdict.valid).toBe(true);
  });

  it("LWW: a value of a failed write is not a join of the writes (NC)", () => {
    const history = new HandHistory();
    history.txn(1, [["w", "x", "x1"]]);
    history.txn(2, [["w", "x", "x2"]], { outcome: "fail" });
    history.final("x", lww("x2", 99));
    const verdict = checkHistory(history.events(), { level: "eventual" });
    expect(classesFound(verdict)).toEqual(["NC"]);
  });

  it("sets: hold every acknowledged element and only acknowledged or unknown ones", () => {
    const build = (...final: string[]) => {
      const history = new HandHistory();
      history.txn(1, [["a", "s", "e1"]]);
      history.txn(2, [["a", "s", "e2"]], { outcome: "info" });
      history.txn(3, [["a", "s", "e3"]], { outcome: "fail" });
      history.final("s", set(...final));
      return classesFound(checkHistory(history.events(), { level: "eventual", initial: { s: "e0" } }));
    };
    expect(build("e0", "e1", "e2")).toEqual([]);
    expect(build("e1", "e0")).toEqual([]);
    expect(build("e0", "e2")).toEqual(["LW"]);
    expect(build("e0", "e1", "e3")).toEqual(["NC"]);
  });

  it("causal keys: every acknowledged write or a later one, and no superseded sibling", () => {
    const build = (...final: string[]) => {
      const history = new HandHistory();
      history.txn(1, [["w", "c", "c1"]], { clocks: { c: { s1: 1 } } });
      history.txn(1, [["w", "c", "c2"]], { clocks: { c: { s1: 2 } } });
      history.txn(2, [["w", "c", "c3"]], { clocks: { c: { s2: 1 } } });
      history.final("c", causal(...final));
      return classesFound(checkHistory(history.events(), { level: "causal-single-key" }));
    };
    expect(build("c3", "c2")).toEqual([]);
    expect(build("c2")).toEqual(["LW"]);
    expect(build("c1", "c2", "c3")).toEqual(["NC"]);
  });
});
