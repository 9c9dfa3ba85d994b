import { BadFrameLog } from "../../src/protocol/bad-frame-log";

describe("BadFrameLog", () => {
  it("writes the first bad frame of a burst at once, then at most one line per interval with the count since the last", () => {
    let nowMs = 1_000;
    const lines: Array<[number, string]> = [];
    const log = new BadFrameLog(
      5000,
      (count, latest) => lines.push([count, latest]),
      () => nowMs,
    );
    log.report("first");
    for (let i = 0; i < 99; i++) log.report(`garbage ${i}`);
    expect(lines).toEqual([[1, "first"]]);
    nowMs += 4999;
    log.report("still quiet");
    expect(lines).toHaveLength(1);
    nowMs += 1;
    log.report("later");
    expect(lines).toEqual([
      [1, "first"],
      [101, "later"],
    ]);
  });
});
