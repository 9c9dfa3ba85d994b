/**
 * The parent's side of a bench script run as a process of its own (bench/child-main.ts is
 * the child's): its command line, the JSON line it prints last, and for generators that
 * start together, its readiness. Run from source, scripts are .ts loaded through
 * register.js; compiled (bench/server-device/package.sh), plain .js.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { READY_LINE } from "./child-main";

const REGISTER_PATH = path.join(__dirname, "register.js");
const SCRIPT_EXTENSION = path.extname(__filename);

/** The path of the bench script `name` (e.g. "echo-floor") as this bench runs: source or compiled. */
export function benchScriptPath(name: string): string {
  return path.join(__dirname, `${name}${SCRIPT_EXTENSION}`);
}

/** `--flag value` pairs of an options object (camelCase names to kebab-case flags). */
function commandLineFlags(options: object): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    if (typeof value === "boolean") {
      if (value) args.push(flag);
    } else args.push(flag, String(value));
  }
  return args;
}

/** node's arguments to run a bench script (and the flags of `options`). */
export function scriptArgs(script: string, options: object): string[] {
  const loader = SCRIPT_EXTENSION === ".ts" ? ["-r", REGISTER_PATH] : [];
  return [...loader, script, ...commandLineFlags(options)];
}

/** A bench script in a process of its own: the JSON line it prints last, and its readiness. */
export interface JsonProcess<T> {
  result: Promise<T>;
  /** Resolves when the script prints READY_LINE (a generator started with startOnStdin). */
  ready: Promise<void>;
  /** Sends the line a generator started with startOnStdin waits for. */
  go(): void;
}

export function spawnJsonProcess<T>(script: string, options: object, what: string): JsonProcess<T> {
  const child = spawn(process.execPath, scriptArgs(script, options), { stdio: ["pipe", "pipe", "inherit"] });
  let stdout = "";
  let markReady = () => undefined as void;
  const readyLine = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith(`${READY_LINE}\n`)) markReady();
  });
  const result = new Promise<number | null>((resolve) => child.once("exit", resolve)).then((code) => {
    if (code !== 0) throw new Error(`${what} exited with ${code}`);
    return JSON.parse(stdout.trim().split("\n").pop()!) as T;
  });
  const exitedFirst = result.then(() => {
    throw new Error(`${what} exited before it was ready`);
  });
  const ready = Promise.race([readyLine, exitedFirst]);
  // Awaited only by callers that wait for readiness; a script that never prints it exits unready.
  ready.catch(() => undefined);
  return { result, ready, go: () => child.stdin!.end("go\n") };
}

/** Runs a bench script in a process of its own and returns the JSON line it prints last. */
export function runJsonProcess<T>(script: string, options: object, what: string): Promise<T> {
  const child = spawnJsonProcess<T>(script, options, what);
  child.go();
  return child.result;
}
