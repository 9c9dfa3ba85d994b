/**
 * Three nodes as real processes on 127.0.0.1-3, global replication 2: a value written
 * through one node's routing is read through another's, every node's routing service
 * answers alike for the whole cluster, and each key lives on two nodes.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { AnnaError, decodeKeyAddressResponse, encodeKeyAddressRequest } from "../../src/protocol/anna";
import * as zmq from "zeromq";
import { ClusterNode, keyCount, startCluster } from "../support/cluster";
import { startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.clusterBasic;
const KEY_COUNT = 60;
const keys = Array.from({ length: KEY_COUNT }, (_, i) => `basic-${i}`);

/** One KeyAddressRequest to a routing service, answered. */
async function addressesVia(routing: string, asked: readonly string[]): Promise<Map<string, string[]>> {
  const replies = new zmq.Pull({ linger: 0 });
  const request = new zmq.Push({ linger: 0 });
  try {
    await replies.bind("tcp://127.0.0.1:*");
    request.connect(routing);
    await request.send(
      encodeKeyAddressRequest({ response_address: replies.lastEndpoint!, keys: [...asked], request_id: "r" }),
    );
    const [frame] = await replies.receive();
    const response = decodeKeyAddressResponse(frame);
    expect(response.error).toBe(AnnaError.NO_ERROR);
    return new Map(response.addresses.map(({ key, ips }) => [key, ips]));
  } finally {
    replies.close();
    request.close();
  }
}

describe("a cluster of three nodes", () => {
  let nodes: ClusterNode[];

  beforeAll(async () => {
    nodes = await startCluster(3, { portOffset });
  }, 60_000);

  afterAll(async () => {
    // Whole-cluster shutdown: each leaves in turn, the last alone; every stop exits 0.
    for (const node of [...(nodes ?? [])].reverse()) expect(await node.process.stop()).toBe(0);
  }, 60_000);

  it("reads through node 3 what was written through node 1", async () => {
    const writer = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    const reader = new AnnaClient({ routingAddress: nodes[2].routingAddress, timeoutMs: 2000 });
    try {
      for (const key of keys) await writer.putLww(key, `value of ${key}`);
      for (const key of keys) expect(Buffer.from((await reader.getLww(key))!.value).toString()).toBe(`value of ${key}`);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it("answers address requests alike on every node, two nodes per key, for the whole cluster", async () => {
    const answers = await Promise.all(nodes.map((node) => addressesVia(node.routingAddress, keys)));
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    for (const key of keys) {
      const hosts = new Set(
        answers[0].get(key)!.map((address) => new URL(address.replace("tcp://", "http://")).hostname),
      );
      expect(hosts.size).toBe(2);
    }
  });

  it("answers TIMEOUT to a PUT that asks for more replica nodes than the key has, and keeps the value", async () => {
    const client = new AnnaClient({ routingAddress: nodes[0].routingAddress, timeoutMs: 2000 });
    try {
      await expect(client.putLww("durable", "v", undefined, { acks: 3 })).rejects.toMatchObject({ code: "TIMEOUT" });
      await client.putLww("durable-2", "w", undefined, { acks: 2 });
      expect(Buffer.from((await client.getLww("durable"))!.value).toString()).toBe("v");
    } finally {
      await client.close();
    }
  });

  it("refuses a node that joins with another global replication, naming both values", async () => {
    const refused = await startNodeProcess({
      portOffset,
      host: "127.0.0.4",
      threads: 1,
      extraArgs: ["--join=127.0.0.1", "--global-replication=3"],
      startTimeoutMs: 15_000,
    }).catch((error: Error) => error);
    expect(String(refused)).toMatch(/--global-replication 3 differs from this cluster's 2/);
  });

  it("holds each key (the durable ones too) on exactly two nodes once gossip settles", async () => {
    await waitFor(
      async () =>
        (await Promise.all(nodes.map(keyCount))).reduce((sum, count) => sum + count, 0) === 2 * (KEY_COUNT + 2),
      15_000,
      () => "keys did not settle on two replicas each",
    );
    const counts = await Promise.all(nodes.map(keyCount));
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });
});
