/**
 * Bench scripts (generators, loaders, echo servers) run as processes of their own, so that
 * their CPU is not the orchestrator's and their event loops never share a node's: the
 * parent's side (bench/child-main.ts is the child's). Each is remembered and killed if the
 * benchmark exits first. Run from source, scripts are .ts loaded through register.js;
 * compiled (bench/server-device/package.sh), plain .js.
 */
import { ChildProcess, spawn, StdioOptions } from "node:child_process";
import path from "node:path";
import { READY_LINE } from "./child-main";

const REGISTER_PATH = path.join(__dirname, "register.js");
const SCRIPT_EXTENSION = path.extname(__filename);
const running = new Set<ChildProcess>();

process.once("exit", () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** The path of the bench script `name` (e.g. "echo-floor") as this bench runs: source or compiled. */
export function benchScriptPath(name: string): string {
  return path.join(__dirname, `${name}${SCRIPT_EXTENSION}`);
}

/** `--flag value` pairs of an options object (camelCase names to kebab-case flags). */
export function commandLineFlags(options: object): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    if (typeof value === "boolean") {
      if (value) args.push(flag);
    } else args.push(flag, Array.isArray(value) ? value.join(",") : String(value));
  }
  return args;
}

/**
 * With ANNAKV_BENCH_CPU_PROF_DIR set, each bench script and each node a bench starts (its
 * worker threads too) writes a V8 CPU profile there when it exits (Node refuses
 * `--cpu-prof` in NODE_OPTIONS, so it cannot be passed down that way).
 */
export function profileFlags(): string[] {
  const directory = process.env.ANNAKV_BENCH_CPU_PROF_DIR;
  return directory ? ["--cpu-prof", `--cpu-prof-dir=${directory}`] : [];
}

/** Spawns `node [-r register.js] script flags...`, by default stdout piped and stderr passed through. */
export function spawnBenchScript(
  script: string,
  options: object,
  stdio: StdioOptions = ["ignore", "pipe", "inherit"],
): ChildProcess {
  const loader = path.extname(script) === ".ts" ? ["-r", REGISTER_PATH] : [];
  const child = spawn(process.execPath, [...profileFlags(), ...loader, script, ...commandLineFlags(options)], {
    stdio,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** A bench script in a process of its own: the JSON line it prints last, and its readiness. */
export interface JsonProcess<T> {
  /** Rejects if the script exits other than 0, or is killed past its deadline. */
  result: Promise<T>;
  /** Resolves when the script prints READY_LINE (one started to wait for its signal, bench/child-main.ts). */
  ready: Promise<void>;
  /** Sends the line such a script waits for (and closes its stdin). */
  go(): void;
}

/** Spawns a bench script whose stdin takes its start signal; killed past `timeoutMs`. */
export function spawnJsonProcess<T>(
  script: string,
  options: object,
  { timeoutMs = Infinity, name = path.basename(script) } = {},
): JsonProcess<T> {
  const child = spawnBenchScript(script, options, ["pipe", "pipe", "inherit"]);
  let stdout = "";
  let markReady = () => undefined as void;
  const readyLine = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith(`${READY_LINE}\n`)) markReady();
  });
  const timer = Number.isFinite(timeoutMs) ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : undefined;
  const result = new Promise<number | null>((resolve) => child.once("exit", resolve)).then((code) => {
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${name} exited with ${code ?? "a signal (past its deadline?)"}`);
    return JSON.parse(stdout.trim().split("\n").pop()!) as T;
  });
  const exitedFirst = result.then(() => {
    throw new Error(`${name} exited before it was ready`);
  });
  const ready = Promise.race([readyLine, exitedFirst]);
  // Awaited only by callers that wait for readiness; a script that never prints it exits unready.
  ready.catch(() => undefined);
  return { result, ready, go: () => child.stdin!.end("go\n") };
}

/** Runs a bench script to its end and returns the JSON line it printed last; throws past `timeoutMs`. */
export function runJsonProcess<T>(script: string, options: object, timeoutMs = Infinity): Promise<T> {
  const child = spawnJsonProcess<T>(script, options, { timeoutMs });
  child.go();
  return child.result;
}
