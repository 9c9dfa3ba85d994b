/**
 * Runs `annakv start` as a real child process (the built dist/cli/main.js) and waits for
 * it to listen. No mocks: tests talk to it over real ZeroMQ sockets on 127.0.0.1.
 */
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { KeyTransport } from "../../src/consistency/transport";
import { routingAddress } from "../../src/protocol/ports";
import { parseHost } from "../../src/protocol/zmtp/endpoint";

export const CLI_PATH = path.resolve(__dirname, "../../dist/cli/main.js");

export interface NodeProcess {
  child: ChildProcess;
  routingAddress: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface NodeProcessOptions {
  portOffset: number;
  /** `--host`; the node's default (127.0.0.1) when absent. */
  host?: string;
  threads?: number;
  engine?: "wasm" | "ts";
  localReplication?: number;
  gossipPeriodMs?: number;
  extraArgs?: string[];
  startTimeoutMs?: number;
  /** Environment variables added to the test's own. */
  env?: Record<string, string>;
}

export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const args = [
    CLI_PATH,
    "start",
    `--port-offset=${options.portOffset}`,
    ...(options.host === undefined ? [] : [`--host=${options.host}`]),
    `--threads=${options.threads ?? 2}`,
    `--engine=${options.engine ?? "wasm"}`,
    `--local-replication=${options.localReplication ?? 1}`,
    `--gossip-period-ms=${options.gossipPeriodMs ?? 20}`,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let output = "";
  /** The signal a test sent on purpose (a kill -9 is then no crash to report). */
  let sentSignal: NodeJS.Signals | undefined;
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      // A node killed by a signal (a crash, not our SIGTERM handled) leaves only its output to go by.
      if (code === null && signal !== sentSignal)
        console.error(`node on port offset ${options.portOffset} died of ${signal}; its output:\n${output}`);
      resolve(code);
    }),
  );
  // If the test process dies first, take the node with it rather than leave it running.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  await waitFor(
    () => output.includes("annakv listening"),
    options.startTimeoutMs ?? 20_000,
    () => `node did not start:\n${output}`,
    exited,
  );
  return {
    child,
    routingAddress: routingAddress(parseHost(options.host ?? "127.0.0.1")!, options.portOffset),
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) {
        sentSignal = signal;
        child.kill(signal);
      }
      return exited;
    },
  };
}

/** Polls `condition` until it holds or the deadline passes (then throws with `describe()`). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
  abortOn?: Promise<unknown>,
): Promise<void> {
  let aborted = false;
  void abortOn?.then(() => (aborted = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    if (aborted) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(describe());
}

/**
 * Waits until each of the `replicaCount` replicas of `key` holds a value, so that whichever
 * answers a read has it; fails when the key has another number of replicas.
 */
export async function onEveryReplica(
  client: KeyTransport,
  key: string,
  replicaCount: number,
  timeoutMs: number,
): Promise<void> {
  const replicas = await client.replicasOf(key);
  if (replicas.length !== replicaCount) throw new Error(`${key} has ${replicas.length} replicas, not ${replicaCount}`);
  await waitFor(
    async () =>
      (await Promise.all(replicas.map((replica) => client.getFromReplica(replica, [key])))).every(
        (values) => values.get(key) !== undefined,
      ),
    timeoutMs,
    () => `${key} is not on every replica`,
  );
}
