/**
 * A real node (child process, worker-thread actors, ZeroMQ on 127.0.0.1) driven through
 * AnnaClient and raw protocol frames: every lattice type, many keys per request, WRONG_THREAD
 * and address invalidation. Runs on both engines.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { AnnaError, decodeKeyResponse, encodeKeyRequest, RequestType } from "../../src/protocol/anna";
import { LocalPlacement } from "../../src/routing/placement";
import { startNodeProcess, NodeProcess } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const text = new TextDecoder();
const THREADS = 2;

describe.each([
  ["wasm", PORT_OFFSETS.nodeWasm],
  ["ts", PORT_OFFSETS.nodeTs],
] as const)("a partitioned node (%s engine)", (engine, portOffset) => {
  let node: NodeProcess;
  let client: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset, threads: THREADS, engine });
    client = new AnnaClient({ routingAddress: node.routingAddress });
  });

  afterAll(async () => {
    await client?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("stores and merges every lattice type", async () => {
    await client.putLww("lww", "old", 1n);
    await client.putLww("lww", "new", 2n);
    await client.putLww("lww", "stale", 1n);
    expect(text.decode((await client.getLww("lww"))!.value)).toBe("new");

    await client.addToSet("set", ["b", "a"]);
    await client.addToSet("set", ["c", "a"]);
    expect((await client.getSet("set"))!.map((v) => text.decode(v))).toEqual(["a", "b", "c"]);

    await client.addToSet("ordered", ["z", "y"], true);
    expect((await client.get("ordered"))!.type).toBe(LatticeType.ORDERED_SET);

    await client.putPriority("priority", 5, "five");
    await client.putPriority("priority", 2, "two");
    expect(await client.getPriority("priority")).toEqual({ priority: 2, value: new TextEncoder().encode("two") });

    await client.putCausal("causal", { vectorClock: { a: 1 }, values: ["x"] });
    await client.putCausal("causal", { vectorClock: { b: 1 }, values: ["y"] });
    const causal = (await client.getCausal("causal"))!;
    expect(Object.fromEntries(causal.vectorClock)).toEqual({ a: 1, b: 1 });
    expect(causal.values.map((v) => text.decode(v))).toEqual(["x", "y"]);

    await client.putMultiCausal("multi", {
      vectorClock: { a: 2 },
      dependencies: [{ key: "causal", vectorClock: { a: 1 } }],
      values: ["m"],
    });
    const multi = (await client.getMultiCausal("multi"))!;
    expect(multi.dependencies).toEqual([{ key: "causal", vectorClock: new Map([["a", 1]]) }]);
  });

  it("answers GET of an absent key with undefined (KEY_DNE)", async () => {
    expect(await client.get("never-written")).toBeUndefined();
  });

  it("carries many keys in one request", async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `many-${i}`);
    await client.putMany(keys.map((key) => ({ key, type: LatticeType.SET, payload: Uint8Array.of(0x0a, 0x01, 0x61) })));
    const values = await client.getMany(keys);
    expect(values.size).toBe(keys.length);
    for (const key of keys) expect(values.get(key)?.payload).toEqual(Uint8Array.of(0x0a, 0x01, 0x61));
  });

  it("answers WRONG_THREAD with invalidate at an actor that does not hold the key", async () => {
    const placement = new LocalPlacement(THREADS, 1);
    const key = "owned-elsewhere";
    const [owner] = placement.replicas(new TextEncoder().encode(key));
    const other = 1 - owner;
    const peer = await RawPeer.open();
    try {
      const request = {
        type: RequestType.GET,
        tuples: [{ key }],
        response_address: peer.replyAddress,
        request_id: "wt",
      };
      await peer.send(`tcp://127.0.0.1:${6200 + portOffset + other}`, encodeKeyRequest(request));
      const wrong = decodeKeyResponse(await peer.receive());
      expect(wrong.response_id).toBe("wt");
      expect(wrong.tuples[0]).toMatchObject({ key, error: AnnaError.WRONG_THREAD, invalidate: true });

      const stale = { ...request, request_id: "stale", tuples: [{ key, address_cache_size: 3 }] };
      await peer.send(`tcp://127.0.0.1:${6200 + portOffset + owner}`, encodeKeyRequest(stale));
      const answered = decodeKeyResponse(await peer.receive());
      expect(answered.tuples[0]).toMatchObject({ key, error: AnnaError.KEY_DNE, invalidate: true });
    } finally {
      peer.close();
    }
  });
});
