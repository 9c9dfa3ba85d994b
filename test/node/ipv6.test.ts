/**
 * A node bound to the IPv6 loopback: every address it prints and routes is bracketed
 * (`tcp://[::1]:PORT`), AnnaClient and the CLI reach it with the host written either way.
 * Skipped where the machine has no IPv6 loopback.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import { AnnaClient } from "../../src/client/anna-client";
import { CLI_PATH, NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.ipv6;
const hasIpv6Loopback = Object.values(os.networkInterfaces())
  .flat()
  .some((address) => address?.internal === true && address.family === "IPv6" && address.address === "::1");

function cli(...args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args, `--port-offset=${portOffset}`], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout };
}

(hasIpv6Loopback ? describe : describe.skip)("a node on ::1", () => {
  let node: NodeProcess;
  let client: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, host: "[::1]", threads: 2 });
    client = new AnnaClient({ routingAddress: node.routingAddress, host: "::1" });
  });

  afterAll(async () => {
    await client?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("prints bracketed addresses", () => {
    expect(node.routingAddress).toBe(`tcp://[::1]:${6450 + portOffset}`);
    expect(node.output()).toContain(`"actors":["tcp://[::1]:${6200 + portOffset}","tcp://[::1]:${6201 + portOffset}"]`);
    expect(node.output()).toContain(`"metrics":"http://[::1]:${6400 + portOffset}"`);
  });

  it("serves AnnaClient's keys on both actors", async () => {
    const keys = Array.from({ length: 32 }, (_, index) => `v6-${index}`);
    for (const key of keys) await client.putLww(key, `value of ${key}`, 1n);
    const read = await client.getMany(keys);
    expect([...read.keys()].sort()).toEqual([...keys].sort());
    for (const key of keys) expect(new TextDecoder().decode((await client.getLww(key))!.value)).toBe(`value of ${key}`);
    // Actors report their stats periodically: both hold some of the keys once reported.
    const actorsHoldingKeys = () => {
      const status = JSON.parse(cli("status", "--json", "--host=::1").stdout) as {
        actors: Array<{ store: { keyCount: number } }>;
      };
      return status.actors.filter((actor) => actor.store.keyCount > 0).length;
    };
    await waitFor(
      () => actorsHoldingKeys() === 2,
      10_000,
      () => `actors holding keys: ${actorsHoldingKeys()} of 2`,
    );
  });

  it("answers the CLI with the host written either way", () => {
    expect(cli("put", "cli-v6", "hello", "--host=[::1]").status).toBe(0);
    const read = cli("get", "cli-v6", "--host=::1");
    expect(read).toEqual({ status: 0, stdout: "hello\n" });
    const status = cli("status", "--host=::1");
    expect(status.status).toBe(0);
    expect(status.stdout).toContain("routing tcp://[::1]:");
  });
});
