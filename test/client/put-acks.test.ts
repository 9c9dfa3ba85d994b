/**
 * AnnaClient's put acks (annakv's `put_acks` extension of KeyRequest) and its options'
 * checks. What goes on the wire is checked against a scripted actor that decodes every
 * KeyRequest with protobufjs (a test of the client's encoding); that a node takes the
 * field, against a real node started in this process.
 */
import pino from "pino";
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeLww } from "../../src/lattices";
import { RunningNode, startNode } from "../../src/node/node";
import { AnnaError, RequestType } from "../../src/protocol/anna";
import { PORT_OFFSETS } from "../support/ports";
import { ScriptedActor, ScriptedRouting } from "../support/scripted-services";

const TIMEOUT_MS = 300;
/** Keys the scripted actor answers TIMEOUT: stored on fewer replicas than asked. */
const UNDER_REPLICATED = "under-";

describe("AnnaClient put acks on the wire", () => {
  let actor: ScriptedActor;
  let routing: ScriptedRouting;

  beforeAll(async () => {
    actor = await ScriptedActor.start((request) => {
      if (request.type === RequestType.GET) return AnnaError.KEY_DNE;
      return request.tuples.some(({ key }) => key.startsWith(UNDER_REPLICATED))
        ? AnnaError.TIMEOUT
        : AnnaError.NO_ERROR;
    });
    routing = await ScriptedRouting.start(() => [actor.address]);
  });

  afterAll(() => {
    routing?.close();
    actor?.close();
  });

  /** put_acks of the last request that carried `key`, undefined when absent from the frame. */
  const lastPutAcks = (key: string) => actor.requestsFor(key).at(-1)?.putAcks;

  it("sends a call's acks, else the client's putAcks, else nothing; never on a GET", async () => {
    const plain = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS });
    const defaulted = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, putAcks: 2 });
    try {
      await plain.put("p0", LatticeType.LWW, encodeLww({ timestamp: 1, value: "v" }));
      expect(lastPutAcks("p0")).toBeUndefined();
      await plain.put("p1", LatticeType.LWW, encodeLww({ timestamp: 1, value: "v" }), { acks: 2 });
      expect(lastPutAcks("p1")).toBe(2);
      await plain.putLww("p2", "v", undefined, { acks: 3 });
      expect(lastPutAcks("p2")).toBe(3);
      await plain.addToSet("p3", ["a"], false, { acks: 4 });
      expect(lastPutAcks("p3")).toBe(4);
      await plain.putPriority("p4", 1, "v", { acks: 5 });
      expect(lastPutAcks("p4")).toBe(5);
      await plain.putCausal("p5", { vectorClock: { a: 1 }, values: ["v"] }, { acks: 6 });
      expect(lastPutAcks("p5")).toBe(6);
      await plain.putMultiCausal(
        "p6",
        { vectorClock: { a: 1 }, dependencies: [], values: ["v"] },
        { acks: 0xffffffff },
      );
      expect(lastPutAcks("p6")).toBe(0xffffffff);
      await plain.putMany([{ key: "p7", type: LatticeType.SET, payload: new Uint8Array(0) }], { acks: 7 });
      expect(lastPutAcks("p7")).toBe(7);

      await defaulted.putLww("d0", "v");
      expect(lastPutAcks("d0")).toBe(2);
      await defaulted.putLww("d1", "v", undefined, { acks: 9 });
      expect(lastPutAcks("d1")).toBe(9);
      // 0 is the node's default, as on the wire: nothing is sent.
      await defaulted.putLww("d2", "v", undefined, { acks: 0 });
      expect(lastPutAcks("d2")).toBeUndefined();
      expect(await defaulted.get("d0")).toBeUndefined();
      expect(lastPutAcks("d0")).toBeUndefined();
    } finally {
      await plain.close();
      await defaulted.close();
    }
  });

  it("rejects a PUT answered TIMEOUT with TIMEOUT, saying it was applied, and does not send it again", async () => {
    const client = new AnnaClient({ routingAddress: routing.address, timeoutMs: TIMEOUT_MS, maxAttempts: 3 });
    try {
      const put = client.putLww(`${UNDER_REPLICATED}1`, "v", undefined, { acks: 3 });
      await expect(put).rejects.toMatchObject({ name: "AnnaClientError", code: "TIMEOUT" });
      await expect(put).rejects.toThrow(
        /"under-1" was stored on fewer replica nodes than asked for \(3\).*spread to the others by gossip/,
      );
      expect(actor.requestsFor(`${UNDER_REPLICATED}1`)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("refuses bad acks and bad routing options with clear errors", async () => {
    const address = routing.address;
    expect(() => new AnnaClient({})).toThrow(
      new TypeError("AnnaClient needs routingAddress, or routingAddresses with at least one address"),
    );
    expect(() => new AnnaClient({ routingAddresses: [] })).toThrow(/at least one address/);
    expect(() => new AnnaClient({ routingAddress: address, routingAddresses: [address] })).toThrow(/not both/);
    expect(() => new AnnaClient({ routingAddresses: [address, "127.0.0.1:6450"] })).toThrow(
      /tcp:\/\/HOST:PORT or ipc:\/\/PATH, got "127.0.0.1:6450"/,
    );
    for (const putAcks of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => new AnnaClient({ routingAddress: address, putAcks })).toThrow(RangeError);
    }
    const client = new AnnaClient({ routingAddress: address });
    try {
      await expect(client.putLww("k", "v", undefined, { acks: -2 })).rejects.toThrow(/acks must be an integer from 0/);
    } finally {
      await client.close();
    }
  });
});

describe("AnnaClient put acks against a node", () => {
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode(
      { portOffset: PORT_OFFSETS.clientPutAcks, threads: 2, metrics: false, hotKeyReplication: false },
      pino({ level: "silent" }),
    );
  });

  afterAll(async () => {
    await node?.stop();
  });

  it("stores a PUT that asks for one replica node, the node's own", async () => {
    const client = new AnnaClient({ routingAddress: node.routingAddress, putAcks: 1 });
    try {
      await client.putLww("acked", "v");
      await client.addToSet("acked-set", ["a"], false, { acks: 1 });
      expect(new TextDecoder().decode((await client.getLww("acked"))!.value)).toBe("v");
      expect((await client.getSet("acked-set"))?.map((value) => new TextDecoder().decode(value))).toEqual(["a"]);
    } finally {
      await client.close();
    }
  });
});
