/**
 * The bounds on what clients may hold of a real node, over real sockets on 127.0.0.1:
 * connections past --max-connections are refused and counted, connections silent for
 * --idle-timeout-ms are closed so that their slots serve clients again, and the routing
 * service refuses (LATTICE, counted as a bad frame) address requests with a key over
 * --max-key-bytes or too many keys, and keeps answering. The cap is set low (8) so that
 * the test opens few connections.
 */
import net from "node:net";
import {
  AnnaError,
  decodeKeyAddressResponse,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  RequestType,
} from "../../src/protocol/anna";
import { KEYS_PER_ADDRESS_REQUEST_MAX } from "../../src/node/routing-service";
import { GREETING, GREETING_BYTES, readyCommand } from "../../src/protocol/zmtp/frames";
import { startNodeProcess, NodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.connectionLimits;
const CONNECTIONS_MAX = 8;
/** Long enough that the refusals below happen while the idle connections hold every slot. */
const IDLE_TIMEOUT_MS = 3000;
const KEY_BYTES_MAX = 64;
const ACTOR_PORT = 6200 + portOffset;
const ROUTING_PORT = 6450 + portOffset;
const STATUS_URL = `http://127.0.0.1:${6400 + portOffset}/status`;
const METRICS_URL = `http://127.0.0.1:${6400 + portOffset}/metrics`;

interface IdlePeer {
  socket: net.Socket;
  /** Bytes the node sent: its greeting and READY once it took the connection, nothing when it refused it. */
  receivedBytes: number;
}

/** A connection that completes a PUSH peer's ZMTP handshake (when the node takes it) and then says nothing. */
async function idlePeer(port: number): Promise<IdlePeer> {
  const socket = net.connect(port, "127.0.0.1");
  const peer: IdlePeer = { socket, receivedBytes: 0 };
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => (peer.receivedBytes += chunk.length));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(Buffer.concat([GREETING, readyCommand("PUSH")]));
  return peer;
}

async function status(): Promise<{ actors: { counters: Record<string, number> }[]; routing: Record<string, number> }> {
  return (await fetch(STATUS_URL)).json();
}

/** A gauge's value in /metrics (the first line of that name), or undefined when absent. */
async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(METRICS_URL)).text();
  const line = text
    .split("\n")
    .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("connection and request limits at a node", () => {
  let node: NodeProcess;
  let client: RawPeer;
  const opened: net.Socket[] = [];

  beforeAll(async () => {
    node = await startNodeProcess({
      portOffset,
      threads: 1,
      extraArgs: [
        `--max-connections=${CONNECTIONS_MAX}`,
        `--idle-timeout-ms=${IDLE_TIMEOUT_MS}`,
        `--max-key-bytes=${KEY_BYTES_MAX}`,
      ],
    });
    client = await RawPeer.open();
  });

  afterAll(async () => {
    for (const socket of opened) socket.destroy();
    client?.close();
    expect(await node?.stop()).toBe(0);
  });

  /**
   * Fills the port with CONNECTIONS_MAX idle handshaken connections, shows one more is
   * refused before ZMTP starts, then waits for the node to close the idle ones. Returns
   * when every slot is free again.
   */
  async function fillRefuseAndIdleOut(port: number): Promise<void> {
    const peers: IdlePeer[] = [];
    for (let i = 0; i < CONNECTIONS_MAX; i++) peers.push(await idlePeer(port));
    opened.push(...peers.map((peer) => peer.socket));
    // The node took each: its greeting came back.
    await waitFor(
      () => peers.every((peer) => peer.receivedBytes >= GREETING_BYTES),
      5000,
      () => "the node did not take every connection below the cap",
    );
    const refused = await idlePeer(port);
    opened.push(refused.socket);
    await waitFor(
      () => refused.socket.closed,
      5000,
      () => "a connection past the cap was not refused",
    );
    expect(refused.receivedBytes).toBe(0);
    expect(peers.every((peer) => !peer.socket.closed)).toBe(true);
    // Silent, the held connections are closed by the node: their slots are free again.
    await waitFor(
      () => peers.every((peer) => peer.socket.closed),
      IDLE_TIMEOUT_MS + 5000,
      () => "idle connections still open",
    );
  }

  it("refuses and counts connections to an actor past --max-connections; idle ones are closed and a client is served again", async () => {
    await fillRefuseAndIdleOut(ACTOR_PORT);
    await waitFor(
      async () => (await status()).actors[0].counters.connectionsIdleClosed >= CONNECTIONS_MAX,
      5000,
      () => "idle closes not counted",
    );
    const counters = (await status()).actors[0].counters;
    expect(counters.connectionsRefused).toBeGreaterThanOrEqual(1);
    expect(await metric("annakv_connections_refused_total")).toBe(counters.connectionsRefused);
    expect(await metric("annakv_connections_idle_closed_total")).toBeGreaterThanOrEqual(CONNECTIONS_MAX);
    await client.send(
      `tcp://127.0.0.1:${ACTOR_PORT}`,
      encodeKeyRequest({
        type: RequestType.GET,
        tuples: [{ key: "k" }],
        response_address: client.replyAddress,
        request_id: "after-idle",
      }),
    );
    const response = decodeKeyResponse(await client.receive(5000));
    expect(response.response_id).toBe("after-idle");
    expect(response.tuples[0].error).toBe(AnnaError.KEY_DNE);
    expect(node.output()).toMatch(
      /refused 1 connection\(s\) at its cap; latest: connection from tcp:\/\/127\.0\.0\.1:\d+ refused: 8 connections open/,
    );
  });

  it("refuses and counts connections to routing past --max-connections; idle ones are closed and routing answers again", async () => {
    await fillRefuseAndIdleOut(ROUTING_PORT);
    await waitFor(
      async () => (await status()).routing.connectionsIdleClosed >= CONNECTIONS_MAX,
      5000,
      () => "idle closes not counted",
    );
    const routing = (await status()).routing;
    expect(routing.connectionsRefused).toBeGreaterThanOrEqual(1);
    expect(await metric("annakv_routing_connections_refused_total")).toBe(routing.connectionsRefused);
    expect(await metric("annakv_routing_connections_idle_closed_total")).toBeGreaterThanOrEqual(CONNECTIONS_MAX);
    await client.send(
      `tcp://127.0.0.1:${ROUTING_PORT}`,
      encodeKeyAddressRequest({ response_address: client.replyAddress, keys: ["k"], request_id: "route-after-idle" }),
    );
    const response = decodeKeyAddressResponse(await client.receive(5000));
    expect(response.response_id).toBe("route-after-idle");
    expect(response.addresses).toEqual([{ key: "k", ips: [`tcp://127.0.0.1:${ACTOR_PORT}`] }]);
    expect(node.output()).toMatch(/routing refused 1 connection\(s\) at --max-connections/);
  });

  it("refuses address requests with a key over --max-key-bytes or too many keys, counts them as bad frames, keeps answering", async () => {
    const routing = `tcp://127.0.0.1:${ROUTING_PORT}`;
    const ask = async (keys: string[], request_id: string) => {
      await client.send(routing, encodeKeyAddressRequest({ response_address: client.replyAddress, keys, request_id }));
      const response = decodeKeyAddressResponse(await client.receive(5000));
      expect(response.response_id).toBe(request_id);
      return response;
    };
    const before = (await status()).routing.badFrames;
    // Bytes, not characters: 22 three-byte characters are 66 bytes.
    for (const [keys, id] of [
      [["k", "é".repeat(KEY_BYTES_MAX / 2 + 1)], "long"],
      [["€".repeat(22)], "long-utf8"],
      [Array.from({ length: KEYS_PER_ADDRESS_REQUEST_MAX + 1 }, (_, i) => `k${i}`), "many"],
    ] as const) {
      const refused = await ask([...keys], id);
      expect(refused.error).toBe(AnnaError.LATTICE);
      expect(refused.addresses).toEqual([]);
    }
    await waitFor(
      async () => (await status()).routing.badFrames === before + 3,
      5000,
      () => "refused requests not counted as bad frames",
    );
    const atLimit = await ask(["x".repeat(KEY_BYTES_MAX)], "at-limit");
    expect(atLimit.error).toBe(AnnaError.NO_ERROR);
    expect(atLimit.addresses).toHaveLength(1);
    expect((await status()).routing.badFrames).toBe(before + 3);
  });
});
