/**
 * `annakv certs` as a child process of the built CLI: it writes a CA and a node certificate
 * that loadClusterTls accepts, keys readable by their owner only, prints the flags for
 * `annakv start`, and refuses to overwrite them without --force (exit 2).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadClusterTls } from "../../src/protocol/zmtp/tls";
import { CLI_PATH } from "../support/node-process";

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("annakv certs", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "annakv-certs-"));
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("writes credentials that load, prints the start flags, and overwrites only with --force", () => {
    const dir = path.join(scratch, "made/by/certs");
    const files = {
      caFile: path.join(dir, "ca.crt"),
      certFile: path.join(dir, "node.crt"),
      keyFile: path.join(dir, "node.key"),
    };
    const first = cli("certs", dir, "--days", "30");
    expect(first).toMatchObject({ status: 0, stderr: "" });
    expect(first.stdout).toContain(
      `--cluster-tls-ca ${files.caFile} --cluster-tls-cert ${files.certFile} --cluster-tls-key ${files.keyFile}`,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(["ca.crt", "ca.key", "node.crt", "node.key"]);
    expect(fs.statSync(path.join(dir, "ca.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.keyFile).mode & 0o777).toBe(0o600);
    const loaded = loadClusterTls(files);
    expect(loaded.cert).toBe(fs.readFileSync(files.certFile, "utf8"));

    const again = cli("certs", dir);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(
      `${files.caFile}, ${path.join(dir, "ca.key")}, ${files.certFile}, ${files.keyFile} already exist (pass --force to overwrite)`,
    );
    expect(loadClusterTls(files)).toEqual(loaded);

    fs.chmodSync(files.keyFile, 0o644);
    expect(cli("certs", dir, "--force").status).toBe(0);
    expect(loadClusterTls(files).cert).not.toBe(loaded.cert);
    expect(fs.statSync(files.keyFile).mode & 0o777).toBe(0o600);
  });

  it("refuses a validity out of range as a usage error, writing nothing", () => {
    for (const days of ["0", "3651", "two"]) {
      const result = cli("certs", scratch, "--days", days);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/--days/);
    }
    expect(fs.readdirSync(scratch)).toEqual([]);
  });
});
