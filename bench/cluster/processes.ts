/**
 * Bench scripts (key loader, client load, load generator) run as processes of their own,
 * so that their CPU is not the orchestrator's and their event loops never share the
 * nodes'. Each is remembered and killed if the benchmark exits first.
 */
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const REGISTER_PATH = path.resolve(__dirname, "../register.js");
const running = new Set<ChildProcess>();

process.once("exit", () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

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
 * With ANNAKV_BENCH_CPU_PROF_DIR set, each bench script writes a V8 CPU profile there when
 * it exits (Node refuses `--cpu-prof` in NODE_OPTIONS, so it cannot be passed down that way).
 */
function profileFlags(): string[] {
  const directory = process.env.ANNAKV_BENCH_CPU_PROF_DIR;
  return directory ? ["--cpu-prof", `--cpu-prof-dir=${directory}`] : [];
}

/** Spawns `node -r register.js script flags...` with stdout piped and stderr passed through. */
export function spawnBenchScript(script: string, options: object): ChildProcess {
  const child = spawn(
    process.execPath,
    [...profileFlags(), "-r", REGISTER_PATH, script, ...commandLineFlags(options)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Runs a bench script to its end and returns the JSON line it printed last; throws past `timeoutMs`. */
export async function runJsonProcess<T>(script: string, options: object, timeoutMs: number): Promise<T> {
  const child = spawnBenchScript(script, options);
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${path.basename(script)} exited with ${code ?? "a signal (past its deadline?)"}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as T;
}
