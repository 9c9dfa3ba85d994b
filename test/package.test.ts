/**
 * The package as users get it: `npm pack` makes the tarball, which is installed into an
 * empty project as a registry package would be (its own node_modules, its dependencies
 * resolved by npm, nothing linked back to this repository). There `require("annakv")`,
 * `import("annakv")`, the `annakv/wasm` export and the `annakv` bin must all work.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "..");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };

/**
 * Packing takes ~1-2 s and installing ~8 s on a 2-core machine with a warm npm cache (as
 * after `npm ci`: `--prefer-offline` then takes every dependency from it); a cold cache
 * fetches them from the registry, hence the generous limit.
 */
const INSTALL_TIMEOUT_MS = 180_000;

describe("the annakv package, packed and installed", () => {
  let workDirectory: string;
  let consumer: string;
  let packedFiles: string[];

  beforeAll(() => {
    workDirectory = mkdtempSync(path.join(os.tmpdir(), "annakv-package-"));
    // The test suite runs after `npm run build`: the tarball takes dist/ and build/ as they are.
    const [report] = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", workDirectory], {
        cwd: root,
        encoding: "utf8",
      }),
    ) as { filename: string; files: { path: string }[] }[];
    packedFiles = report.files.map((file) => file.path);
    consumer = path.join(workDirectory, "consumer");
    mkdirSync(consumer);
    writeFileSync(
      path.join(consumer, "package.json"),
      JSON.stringify({ name: "annakv-consumer", version: "1.0.0", private: true }),
    );
    const tarball = path.join(workDirectory, report.filename);
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], {
      cwd: consumer,
      encoding: "utf8",
      stdio: "pipe",
    });
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => {
    if (workDirectory !== undefined) rmSync(workDirectory, { recursive: true, force: true });
  });

  it("ships build/annakv.wasm, dist/, proto/ and the docs, and no sources or tests", () => {
    for (const expected of [
      "build/annakv.wasm",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "dist/actor/worker.js",
      "proto/anna.proto",
      "docs/wasm-abi.md",
      "README.md",
    ]) {
      expect(packedFiles).toContain(expected);
    }
    expect(packedFiles.some((file) => file.startsWith("src/") || file.startsWith("test/"))).toBe(false);
  });

  it("is installed as a copy of the tarball, not a link to this repository", () => {
    const installed = path.join(consumer, "node_modules", "annakv");
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(existsSync(path.join(installed, "src"))).toBe(false);
    expect(existsSync(path.join(installed, "build", "annakv.wasm"))).toBe(true);
  });

  it("loads with require and import, and its Wasm store works", () => {
    const program = (load: string) =>
      `${load}.then((annakv) => { const store = annakv.createStore({ engine: "wasm" });` +
      ` store.put("k", annakv.LatticeType.SET, annakv.encodeSet(["x"]));` +
      ` console.log(store.size, typeof annakv.AnnaClient, typeof annakv.startNode); })`;
    const viaRequire = execFileSync(process.execPath, ["-e", program(`Promise.resolve(require("annakv"))`)], {
      cwd: consumer,
      encoding: "utf8",
    });
    expect(viaRequire.trim()).toBe("1 function function");
    const viaImport = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", program(`import("annakv").then((m) => m.default ?? m)`)],
      { cwd: consumer, encoding: "utf8" },
    );
    expect(viaImport.trim()).toBe("1 function function");
  });

  it("exports the Wasm core as annakv/wasm, a valid module", () => {
    const resolved = execFileSync(
      process.execPath,
      [
        "-e",
        `const p = require.resolve("annakv/wasm"); console.log(WebAssembly.validate(require("fs").readFileSync(p)), p)`,
      ],
      { cwd: consumer, encoding: "utf8" },
    );
    expect(resolved.trim()).toBe(`true ${realpathSync(consumer)}/node_modules/annakv/build/annakv.wasm`);
  });

  it("installs the annakv bin, which answers --version and --help", () => {
    const bin = path.join(consumer, "node_modules", ".bin", "annakv");
    expect(execFileSync(bin, ["--version"], { cwd: consumer, encoding: "utf8" }).trim()).toBe(version);
    const help = execFileSync(bin, ["--help"], { cwd: consumer, encoding: "utf8" });
    for (const command of ["start", "put", "get", "status", "certs", "dev-cluster"])
      expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
    expect(execFileSync(bin, ["start", "--help"], { cwd: consumer, encoding: "utf8" })).toContain(
      "--shutdown-timeout-ms",
    );
  });
});
