/**
 * How many acknowledged writes a `kill -9` loses, with `--put-acks 1` (Anna's behaviour:
 * answered after one merge, gossiped within a period) and with `--put-acks 2`. Three nodes
 * on 127.0.0.1-3 (global replication 2, one actor each); one client writes unique keys as
 * fast as it is answered; node 3 is killed after `--warmup-ms`; once it is declared dead and
 * the survivors have re-replicated, every acknowledged write is read back. The loss window
 * is the lost writes over the write rate.
 *
 *   node -r ./bench/register.js bench/loss-window.ts [--rounds 3] [--out bench/results/loss-window-2core.json]
 */
import { ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnnaClient } from "../src/client/anna-client";

const CLI = path.resolve(__dirname, "../dist/cli/main.js");
/** Ports 13200-13451: clear of the tests' and bench/cluster's, and below the ephemeral range. */
const PORT_OFFSET = 7000;
const FAILURE_TIMEOUT_MS = 3000;
const WARMUP_MS = 2000;
const DEADLINE_MS = 30_000;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function status(index: number): Promise<any> {
  return (await fetch(`http://127.0.0.${index}:${6400 + PORT_OFFSET}/status`)).json();
}

function startNode(index: number, putAcks: number): ChildProcess {
  const join = index === 1 ? [] : ["--join", "127.0.0.1"];
  return spawn(
    process.execPath,
    [
      CLI,
      "start",
      "--host",
      `127.0.0.${index}`,
      "--port-offset",
      String(PORT_OFFSET),
      "--threads",
      "1",
      "--global-replication",
      "2",
      "--put-acks",
      String(putAcks),
      "--failure-timeout-ms",
      String(FAILURE_TIMEOUT_MS),
      "--log-level",
      "warn",
      ...join,
    ],
    { stdio: "ignore" },
  );
}

async function round(
  putAcks: number,
): Promise<{ putAcks: number; acknowledged: number; lost: number; writesPerSecond: number; lossWindowMs: number }> {
  const nodes: ChildProcess[] = [];
  try {
    for (let index = 1; index <= 3; index++) {
      nodes.push(startNode(index, putAcks));
      await until(
        async () => (await fetch(`http://127.0.0.${index}:${6400 + PORT_OFFSET}/ready`)).status === 200,
        `node ${index} to be ready`,
      );
    }
    const client = new AnnaClient({
      routingAddresses: ["tcp://127.0.0.1:" + (6450 + PORT_OFFSET), "tcp://127.0.0.2:" + (6450 + PORT_OFFSET)],
      timeoutMs: 1000,
      maxAttempts: 4,
    });
    const acknowledged: string[] = [];
    let running = true;
    const started = Date.now();
    const load = (async () => {
      for (let i = 0; running; i++) {
        try {
          await client.putLww(`loss-${i}`, `v${i}`);
          acknowledged.push(`loss-${i}`);
        } catch {
          // Not acknowledged (TIMEOUT with put-acks 2 while the node dies): not counted.
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const writesPerSecond = (acknowledged.length * 1000) / (Date.now() - started);
    nodes[2].kill("SIGKILL");
    await until(
      async () =>
        (await status(1)).cluster.members.some(
          (member: { host: string; state: string }) => member.host === "127.0.0.3" && member.state === "dead",
        ),
      "node 3 to be declared dead",
    );
    running = false;
    await load;
    await until(async () => {
      const counts = await Promise.all([1, 2].map(async (index) => (await status(index)).actors[0].store.keyCount));
      return counts.every((count) => count >= acknowledged.length * 0.9);
    }, "re-replication");
    let lost = 0;
    for (let start = 0; start < acknowledged.length; start += 500) {
      const values = await client.getMany(acknowledged.slice(start, start + 500));
      for (const value of values.values()) if (value === undefined) lost++;
    }
    await client.close();
    return {
      putAcks,
      acknowledged: acknowledged.length,
      lost,
      writesPerSecond: Math.round(writesPerSecond),
      lossWindowMs: Math.round((lost / writesPerSecond) * 1000),
    };
  } finally {
    for (const node of nodes) node.kill("SIGKILL");
  }
}

async function main(): Promise<void> {
  const rounds = Number(argument("rounds", "3"));
  const results = [];
  for (let r = 0; r < rounds; r++) {
    for (const putAcks of [1, 2]) {
      const result = await round(putAcks);
      console.log(JSON.stringify(result));
      results.push(result);
    }
  }
  const out = argument("out", "");
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    loadAverage: os.loadavg(),
    date: new Date().toISOString(),
  };
  if (out !== "")
    writeFileSync(out, JSON.stringify({ machine, failureTimeoutMs: FAILURE_TIMEOUT_MS, results }, null, 2) + "\n");
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
