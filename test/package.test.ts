/**
 * The package as users get it: `npm pack` ships the Wasm core, the built JS, the proto and
 * the docs; `require("annakv")` and `import("annakv")` work from another folder.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "..");

describe("the annakv package", () => {
  it("npm pack ships build/annakv.wasm, dist/, proto/ and the docs", () => {
    const [report] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }));
    const files: string[] = report.files.map((file: { path: string }) => file.path);
    for (const expected of ["build/annakv.wasm", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/actor/worker.js", "proto/anna.proto", "docs/wasm-abi.md", "README.md"]) {
      expect(files).toContain(expected);
    }
    expect(files.some((file) => file.startsWith("src/") || file.startsWith("test/"))).toBe(false);
  });

  it("loads with require and import from another folder", () => {
    const consumer = mkdtempSync(path.join(os.tmpdir(), "annakv-consumer-"));
    try {
      mkdirSync(path.join(consumer, "node_modules"));
      symlinkSync(root, path.join(consumer, "node_modules", "annakv"), "dir");
      const program = (load: string) =>
        `${load}.then((annakv) => { const store = annakv.createStore({ engine: "wasm" });` +
        ` store.put("k", annakv.LatticeType.SET, annakv.encodeSet(["x"]));` +
        ` console.log(store.size, typeof annakv.AnnaClient, typeof annakv.startNode); })`;
      const viaRequire = execFileSync(process.execPath, ["-e", program(`Promise.resolve(require("annakv"))`)], { cwd: consumer, encoding: "utf8" });
      expect(viaRequire.trim()).toBe("1 function function");
      const viaImport = execFileSync(process.execPath, ["--input-type=module", "-e", program(`import("annakv").then((m) => m.default ?? m)`)], { cwd: consumer, encoding: "utf8" });
      expect(viaImport.trim()).toBe("1 function function");
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });
});
