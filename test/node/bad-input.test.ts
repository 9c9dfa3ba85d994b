/**
 * Bad input at a real node: garbage frames, truncated protobuf, unusable reply addresses,
 * unknown request and lattice types, type conflicts, malformed payloads, oversized keys and
 * values. Each gets its error (or is dropped and counted when no reply is possible); the
 * node keeps serving and loses nothing.
 */
import net from "node:net";
import { GossipFrameKind } from "../../src/actor/gossip-frame";
import { encodeLww, encodeSet } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import {
  AnnaError,
  decodeKeyAddressResponse,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  KeyRequest,
  KeyResponse,
  KeyTuple,
  RequestType,
} from "../../src/protocol/anna";
import { GREETING, readyCommand } from "../../src/protocol/zmtp/frames";
import { LocalPlacement } from "../../src/routing/placement";
import { startNodeProcess, NodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.badInput;
const KEY_BYTES_MAX = 64;
const VALUE_BYTES_MAX = 1024;
const placement = new LocalPlacement(1, 1);

describe("bad input at a node", () => {
  let node: NodeProcess;
  let peer: RawPeer;
  let counter = 0;
  const actor = `tcp://127.0.0.1:${6200 + portOffset}`;
  const routing = `tcp://127.0.0.1:${6450 + portOffset}`;

  async function request(type: RequestType, tuples: KeyTuple[]): Promise<KeyResponse> {
    const request_id = `bad-${++counter}`;
    await peer.send(
      actor,
      encodeKeyRequest({ type, tuples, response_address: peer.replyAddress, request_id } satisfies KeyRequest),
    );
    const response = decodeKeyResponse(await peer.receive());
    expect(response.response_id).toBe(request_id);
    return response;
  }

  async function put(key: string, lattice_type: number, payload: Uint8Array): Promise<AnnaError | undefined> {
    return (await request(RequestType.PUT, [{ key, lattice_type, payload }])).tuples[0].error;
  }

  async function get(key: string): Promise<KeyTuple> {
    return (await request(RequestType.GET, [{ key }])).tuples[0];
  }

  /** The actor's last stats report (actors report every second). */
  async function actorReport(): Promise<{ uptimeMs: number; store: { memoryReservedBytes: number } }> {
    const status = await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json();
    return status.actors[0];
  }

  async function badFrames(): Promise<number> {
    const status = await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json();
    return status.actors.reduce((sum: number, a: { counters: { badFrames: number } }) => sum + a.counters.badFrames, 0);
  }

  beforeAll(async () => {
    node = await startNodeProcess({
      portOffset,
      threads: 1,
      extraArgs: [`--max-key-bytes=${KEY_BYTES_MAX}`, `--max-value-bytes=${VALUE_BYTES_MAX}`],
    });
    peer = await RawPeer.open();
    expect(await put("precious", LatticeType.LWW, encodeLww({ timestamp: 7, value: "keep me" }))).toBe(
      AnnaError.NO_ERROR,
    );
    expect(placement.isReplica(new TextEncoder().encode("precious"), 0)).toBe(true);
  });

  afterAll(async () => {
    // Nothing stored was lost or changed by any of the bad input.
    const precious = await get("precious");
    expect(precious.error).toBe(AnnaError.NO_ERROR);
    expect(precious.payload).toEqual(encodeLww({ timestamp: 7, value: "keep me" }));
    peer?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("drops garbage and truncated frames on the actor and routing sockets, counts them, keeps serving", async () => {
    const before = await badFrames();
    const valid = encodeKeyRequest({
      type: RequestType.GET,
      tuples: [{ key: "precious" }],
      response_address: peer.replyAddress,
      request_id: "x",
    });
    await peer.send(actor, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    await peer.send(actor, valid.subarray(0, valid.length - 1)); // cut inside request_id
    await peer.send(
      actor,
      encodeKeyRequest({ type: RequestType.GET, tuples: [{ key: "k" }], response_address: "", request_id: "no-reply" }),
    );
    await peer.send(routing, Uint8Array.of(0x0a, 0xff, 0x01));
    // Valid protobuf framing, but a key that is not UTF-8 (proto3 strings must be) and a
    // request type sent as bytes: not KeyRequests either.
    const tuple = Buffer.from([0x0a, 0x02, 0xff, 0xfe]);
    const tail = Buffer.from(
      encodeKeyRequest({
        type: RequestType.RT_UNSPECIFIED,
        tuples: [],
        response_address: peer.replyAddress,
        request_id: "bad-key",
      }),
    );
    await peer.send(actor, Buffer.concat([Buffer.from([0x08, 0x01, 0x12, tuple.length]), tuple, tail]));
    await peer.send(actor, Buffer.concat([Buffer.from([0x0a, 0x01, 0x01]), tail]));
    await waitFor(
      async () => (await badFrames()) >= before + 5,
      5000,
      () => "bad frames were not counted",
    );
    const status = await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json();
    expect(status.routing.badFrames).toBeGreaterThanOrEqual(1);
    expect((await get("precious")).error).toBe(AnnaError.NO_ERROR);
    // Routing still answers after garbage.
    await peer.send(
      routing,
      encodeKeyAddressRequest({ response_address: peer.replyAddress, keys: ["precious"], request_id: "route" }),
    );
    const addresses = decodeKeyAddressResponse(await peer.receive());
    expect(addresses.addresses[0].ips).toEqual([actor]);
  });

  it("cuts off connections that are not ZeroMQ or announce an absurd frame, counts them, keeps serving", async () => {
    const before = await badFrames();
    const status = async () =>
      (await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json()).routing.badFrames as number;
    const routingBefore = await status();
    const closedAfter = (port: number, bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
      });
    await closedAfter(6200 + portOffset, Buffer.from("GET / HTTP/1.1\r\nHost: annakv\r\n\r\n"));
    // A ZMTP peer announcing a 2^40-byte message: refused from its header, nothing allocated.
    const hugeFrame = Buffer.from([0x02, 0, 0, 0x01, 0, 0, 0, 0, 0]);
    await closedAfter(6200 + portOffset, Buffer.concat([GREETING, readyCommand("PUSH"), hugeFrame]));
    await closedAfter(6450 + portOffset, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])); // a TLS hello
    await waitFor(
      async () => (await badFrames()) >= before + 2 && (await status()) >= routingBefore + 1,
      5000,
      () => "cut-off connections were not counted",
    );
    expect((await get("precious")).payload).toEqual(encodeLww({ timestamp: 7, value: "keep me" }));
  });

  it("drops garbage on the gossip socket (unknown kind, cut records, a handoff from no peer, cut factors) and keeps serving", async () => {
    const before = await badFrames();
    const gossip = `tcp://127.0.0.1:${6250 + portOffset}`;
    await peer.send(gossip, Uint8Array.of(0x77, 1, 2, 3));
    await peer.send(
      gossip,
      Uint8Array.of(GossipFrameKind.RECORDS, LatticeType.LWW, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0),
    );
    await peer.send(gossip, Uint8Array.of(GossipFrameKind.HANDOFF_ACK, 0, 0, 1, 0, 0, 0)); // an acknowledgement from nobody
    await peer.send(gossip, Uint8Array.of(GossipFrameKind.DIGESTS, 1, 0, 0x61, 9, 0, 0, 0)); // nine digests in no bytes
    await waitFor(
      async () => (await badFrames()) >= before + 4,
      5000,
      () => "bad gossip frames were not counted",
    );
    expect((await get("precious")).payload).toEqual(encodeLww({ timestamp: 7, value: "keep me" }));
  });

  it("answers with the stored value only: a request tuple's own payload and cache size are not echoed", async () => {
    const response = await request(RequestType.GET, [
      { key: "precious", payload: new Uint8Array([1, 2, 3]), address_cache_size: 5 },
      { key: "absent-with-payload", payload: new Uint8Array([4, 5, 6]) },
    ]);
    expect(response.tuples[0].payload).toEqual(encodeLww({ timestamp: 7, value: "keep me" }));
    expect(response.tuples[0].address_cache_size).toBe(0);
    expect(response.tuples[0].invalidate).toBe(true); // the client knew 5 replicas; there is 1
    expect(response.tuples[1].error).toBe(AnnaError.KEY_DNE);
    expect(response.tuples[1].payload).toHaveLength(0);
    const unknown = await request(RequestType.RT_UNSPECIFIED, [
      { key: "k", payload: new Uint8Array([7]), address_cache_size: 2 },
    ]);
    expect(unknown.tuples[0].payload).toHaveLength(0);
    expect(unknown.tuples[0].address_cache_size).toBe(0);
  });

  it("refuses an unknown request type for the whole request", async () => {
    const response = await request(RequestType.RT_UNSPECIFIED, [{ key: "precious" }]);
    expect(response.error).toBe(AnnaError.LATTICE);
    expect(response.tuples[0].error).toBe(AnnaError.LATTICE);
  });

  it("refuses a request of more than 10 000 tuples whole, without reading them, and serves one of 10 000", async () => {
    const tooMany = await request(
      RequestType.GET,
      Array.from({ length: 10_001 }, () => ({ key: "precious" })),
    );
    expect(tooMany.error).toBe(AnnaError.LATTICE);
    expect(tooMany.tuples).toHaveLength(0);
    // Four million bytes of empty tuples (2M of them): refused the same way, the actor's memory unharmed.
    const request_id = "huge";
    const empties = Buffer.alloc(4_000_000);
    for (let i = 0; i < empties.length; i += 2) empties[i] = 0x12;
    const tail = Buffer.from(
      encodeKeyRequest({ type: RequestType.GET, tuples: [], response_address: peer.replyAddress, request_id }),
    );
    await peer.send(actor, Buffer.concat([empties, tail]));
    const huge = decodeKeyResponse(await peer.receive());
    expect(huge.response_id).toBe(request_id);
    expect(huge.error).toBe(AnnaError.LATTICE);
    expect(huge.tuples).toHaveLength(0);
    const limit = await request(
      RequestType.GET,
      Array.from({ length: 10_000 }, (_, i) => ({ key: i === 0 ? "precious" : `absent-${i}` })),
    );
    expect(limit.error).toBe(AnnaError.NO_ERROR);
    expect(limit.tuples).toHaveLength(10_000);
    expect(limit.tuples[0].error).toBe(AnnaError.NO_ERROR);
    expect(limit.tuples[9_999].error).toBe(AnnaError.KEY_DNE);
  });

  it("refuses a KeyAddressRequest of more than 10 000 keys whole, without decoding them, and routing keeps answering", async () => {
    await peer.send(
      routing,
      encodeKeyAddressRequest({
        response_address: peer.replyAddress,
        keys: Array.from({ length: 10_001 }, (_, i) => `k${i}`),
        request_id: "route-many",
      }),
    );
    const many = decodeKeyAddressResponse(await peer.receive());
    expect(many.response_id).toBe("route-many");
    expect(many.error).toBe(AnnaError.LATTICE);
    expect(many.addresses).toHaveLength(0);
    // Four million bytes of empty keys (2M of them).
    const empties = Buffer.alloc(4_000_000);
    for (let i = 0; i < empties.length; i += 2) empties[i] = 0x12;
    const tail = Buffer.from(
      encodeKeyAddressRequest({ response_address: peer.replyAddress, keys: [], request_id: "route-huge" }),
    );
    await peer.send(routing, Buffer.concat([empties, tail]));
    const huge = decodeKeyAddressResponse(await peer.receive());
    expect(huge.response_id).toBe("route-huge");
    expect(huge.error).toBe(AnnaError.LATTICE);
    await peer.send(
      routing,
      encodeKeyAddressRequest({ response_address: peer.replyAddress, keys: ["precious"], request_id: "route-after" }),
    );
    const after = decodeKeyAddressResponse(await peer.receive());
    expect(after.error).toBe(AnnaError.NO_ERROR);
    expect(after.addresses).toEqual([{ key: "precious", ips: [actor] }]);
  });

  it("answers LATTICE for a missing or unknown lattice type", async () => {
    expect(await put("typed", LatticeType.NONE, encodeSet(["a"]))).toBe(AnnaError.LATTICE);
    expect(await put("typed", 99, encodeSet(["a"]))).toBe(AnnaError.LATTICE);
    expect((await get("typed")).error).toBe(AnnaError.KEY_DNE);
  });

  it("answers LATTICE for a type conflict and keeps the stored value", async () => {
    expect(await put("precious", LatticeType.SET, encodeSet(["intruder"]))).toBe(AnnaError.LATTICE);
    expect((await get("precious")).lattice_type).toBe(LatticeType.LWW);
  });

  it("answers LATTICE for a payload that does not decode", async () => {
    expect(await put("malformed", LatticeType.LWW, Uint8Array.of(0x12, 0x7f))).toBe(AnnaError.LATTICE);
    expect(await put("malformed", LatticeType.PRIORITY, Uint8Array.of(0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f))).toBe(
      AnnaError.LATTICE,
    ); // NaN
    expect((await get("malformed")).error).toBe(AnnaError.KEY_DNE);
  });

  it("refuses oversized keys and values per tuple, serving the other tuples of the request", async () => {
    const hugeKey = "k".repeat(KEY_BYTES_MAX + 1);
    const hugeValue = encodeLww({ timestamp: 1, value: "v".repeat(VALUE_BYTES_MAX + 1) });
    const response = await request(RequestType.PUT, [
      { key: hugeKey, lattice_type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) },
      { key: "big-value", lattice_type: LatticeType.LWW, payload: hugeValue },
      { key: "fine", lattice_type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) },
    ]);
    expect(response.tuples.map((tuple) => tuple.error)).toEqual([
      AnnaError.LATTICE,
      AnnaError.LATTICE,
      AnnaError.NO_ERROR,
    ]);
    expect((await get("big-value")).error).toBe(AnnaError.KEY_DNE);
    expect((await get("fine")).error).toBe(AnnaError.NO_ERROR);
  });

  it("refuses a value far over the limit before it reaches the store, in the same request as a fine one", async () => {
    // 200 MB: copied into the store's batch region, it would grow the actor's Wasm memory
    // for good (linear memory never shrinks).
    const before = await actorReport();
    const response = await request(RequestType.PUT, [
      { key: "giant", lattice_type: LatticeType.LWW, payload: new Uint8Array(200 * 1024 * 1024) },
      { key: "beside-giant", lattice_type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value: "v" }) },
    ]);
    expect(response.tuples.map((tuple) => tuple.error)).toEqual([AnnaError.LATTICE, AnnaError.NO_ERROR]);
    expect((await get("beside-giant")).error).toBe(AnnaError.NO_ERROR);
    // A report made after the request was answered.
    const answeredAt = (await actorReport()).uptimeMs;
    await waitFor(
      async () => (await actorReport()).uptimeMs > answeredAt,
      5000,
      () => "no new stats report",
    );
    const after = await actorReport();
    expect(after.store.memoryReservedBytes - before.store.memoryReservedBytes).toBeLessThan(16 * 1024 * 1024);
  });
});
