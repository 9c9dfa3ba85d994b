/**
 * The history recorder and the JSON-lines codec (docs/consistency.md §4.1): strictly
 * increasing index and time, one call in flight per process, a cap on events, file and
 * memory output alike, and damaged or inconsistent histories refused with a clear error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkHistory } from "../support/history/checker";
import { encodeEvent, parseHistory, readHistoryFile } from "../support/history/event-codec";
import { HistoryError, type HistoryEvent, writtenValue } from "../support/history/events";
import { HistoryRecorder } from "../support/history/recorder";

function recordSample(recorder: HistoryRecorder): void {
  recorder.fault("start", "drop-records", "node 2");
  recorder.invoke(3, "3.12", "read-atomic", [
    ["r", "k7", "ignored"],
    ["w", "k2", "p3.t12.w0"],
  ]);
  recorder.ok(
    3,
    "3.12",
    [
      ["r", "k7", null],
      ["w", "k2", "p3.t12.w0"],
    ],
    { stamps: { k2: ["1717", "0a1b"] } },
  );
  recorder.invoke(4, "4.1", "read-atomic", [["w", "k2", "p4.t1.w0"]]);
  recorder.info(4, "4.1", "TIMEOUT");
  recorder.fault("end", "drop-records");
  recorder.final("k2", "replica-a", { kind: "lww", value: "p3.t12.w0", stamp: ["1717", "0a1b"] });
}

function errorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof HistoryError) return error.code;
    throw error;
  }
  return undefined;
}

describe("history recorder", () => {
  it("numbers events and keeps time strictly increasing when the clock stands still", () => {
    const recorder = new HistoryRecorder({ output: { kind: "memory" }, nowNs: () => 5n });
    recordSample(recorder);
    const events = recorder.events();
    expect(events.map((event) => event.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.map((event) => event.timeNs)).toEqual(["5", "6", "7", "8", "9", "10", "11"]);
    expect(events[1]).toMatchObject({
      type: "invoke",
      ops: [
        ["r", "k7", null],
        ["w", "k2", "p3.t12.w0"],
      ],
    });
    expect(writtenValue(3, 12, 0)).toBe("p3.t12.w0");
  });

  it("writes the same JSON lines to a file as it keeps in memory", () => {
    const directory = mkdtempSync(join(tmpdir(), "annakv-history-"));
    try {
      const path = join(directory, "history.jsonl");
      let nowNs = 0n;
      const nowNsCounter = () => (nowNs += 10n);
      const toFile = new HistoryRecorder({ output: { kind: "file", path }, nowNs: nowNsCounter });
      recordSample(toFile);
      toFile.close();
      nowNs = 0n;
      const inMemory = new HistoryRecorder({ output: { kind: "memory" }, nowNs: nowNsCounter });
      recordSample(inMemory);
      expect(readHistoryFile(path)).toEqual(inMemory.events());
      expect(errorCode(() => toFile.events())).toBe("RECORDER_MISUSE");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("refuses a second call in flight, a completion without invoke and a reused name", () => {
    const recorder = new HistoryRecorder({ output: { kind: "memory" } });
    recorder.invoke(1, "1.1", "eventual", []);
    expect(errorCode(() => recorder.invoke(1, "1.2", "eventual", []))).toBe("RECORDER_MISUSE");
    expect(errorCode(() => recorder.ok(2, "2.1", []))).toBe("RECORDER_MISUSE");
    recorder.fail(1, "1.1", "COMMIT_FAILED");
    expect(errorCode(() => recorder.invoke(1, "1.1", "eventual", []))).toBe("RECORDER_MISUSE");
  });

  it("stops at its cap with HISTORY_LIMIT", () => {
    const recorder = new HistoryRecorder({ output: { kind: "memory" }, maxEvents: 2 });
    recorder.fault("start", "pause-actor");
    recorder.fault("end", "pause-actor");
    expect(errorCode(() => recorder.fault("start", "pause-actor"))).toBe("HISTORY_LIMIT");
    expect(errorCode(() => new HistoryRecorder({ output: { kind: "memory" }, maxEvents: 0 }))).toBe("RECORDER_MISUSE");
  });
});

describe("history codec and model", () => {
  const sample = () => {
    const recorder = new HistoryRecorder({ output: { kind: "memory" } });
    recordSample(recorder);
    return recorder.events();
  };

  it("parses lines in any order back into the events, sorted by index", () => {
    const events = sample();
    const reversedLines = events.map(encodeEvent).reverse();
    expect(parseHistory(reversedLines.join("\n") + "\n")).toEqual(events);
  });

  it.each([
    ["not JSON", "{", /line 1: not JSON/],
    ["an unknown type", '{"index":0,"timeNs":"1","type":"commit"}', /unknown event type/],
    [
      "a stamp that is not decimal",
      '{"index":0,"timeNs":"1","type":"ok","process":1,"txn":"1.1","ops":[],"stamps":{"k":["x","00"]}}',
      /stamp/,
    ],
    [
      "a write id that is not hex",
      '{"index":0,"timeNs":"1","type":"ok","process":1,"txn":"1.1","ops":[],"stamps":{"k":["1","zz"]}}',
      /writeId/,
    ],
    [
      "an index twice",
      '{"index":0,"timeNs":"1","type":"fault","phase":"start","fault":"f"}\n{"index":0,"timeNs":"2","type":"fault","phase":"end","fault":"f"}',
      /twice/,
    ],
  ])("refuses %s", (_, text, message) => {
    expect(() => parseHistory(text)).toThrow(message);
  });

  it("refuses histories the checker cannot trust", () => {
    const events = sample();
    const check = (history: readonly HistoryEvent[]) => errorCode(() => checkHistory(history, { level: "eventual" }));
    expect(check([...events].reverse())).toBe("HISTORY_INVALID");
    const okWithoutStamp = events.map((event) => (event.type === "ok" ? { ...event, stamps: {} } : event));
    expect(check(okWithoutStamp)).toBe("HISTORY_INVALID");
    const twoKinds = events.map((event) =>
      event.type === "final" ? { ...event, payload: { kind: "set", elements: [] } } : event,
    );
    expect(check(twoKinds as HistoryEvent[])).toBe("HISTORY_INVALID");
  });

  it("counts a call still in flight at the end as info", () => {
    const recorder = new HistoryRecorder({ output: { kind: "memory" } });
    recorder.invoke(1, "1.1", "eventual", [["w", "x", "x1"]]);
    expect(checkHistory(recorder.events(), { level: "eventual" }).counts).toEqual({ ok: 0, fail: 0, info: 1 });
  });
});
