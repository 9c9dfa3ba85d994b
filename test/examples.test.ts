/** The embedding example runs build/annakv.wasm with the plain WebAssembly API. */
import { execFileSync } from "node:child_process";
import path from "node:path";

describe("examples/embed-plain-wasm.mjs", () => {
  it("puts, merges, gets and batches through the documented ABI alone", () => {
    const script = path.resolve(__dirname, "../examples/embed-plain-wasm.mjs");
    const output = execFileSync(process.execPath, [script], { encoding: "utf8" });
    expect(output).toContain('greeting = type 1, timestamp 2, value "hello, wasm"');
    expect(output).toContain("missing = undefined");
    expect(output).toContain("batch results: OK(0 bytes), OK(5 bytes)");
    expect(output).toMatch(/keys: 2, bytes used: \d+, memory: \d+/);
  });
});
