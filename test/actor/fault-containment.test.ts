/**
 * Actors that fail, on real node processes (dist/, worker threads, sockets), through the
 * fault file (ANNAKV_FAULT_FILE, src/actor/faults.ts), one node at a time on
 * PORT_OFFSETS.actorFaults:
 * - a gossip tick that throws is contained: the node serves, /status counts it, and what
 *   was written meanwhile reaches the other replica once the fault clears;
 * - a request that throws costs only itself: a burst sent in one write gets every other
 *   reply, and the counters count the served and the failed apart;
 * - an actor thread that dies stops the node, which exits 6 (EXIT.ACTOR_DIED) saying which
 *   actor died and why.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeLww } from "../../src/lattices";
import {
  AnnaError,
  decodeKeyResponse,
  encodeKeyRequest,
  KeyRequest,
  KeyResponse,
  RequestType,
} from "../../src/protocol/anna";
import { frameHeaderBytes, GREETING, readyCommand, writeFrameHeader } from "../../src/protocol/zmtp/frames";
import { actorRequestAddress, metricsPort } from "../../src/protocol/ports";
import { NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.actorFaults;
const EXIT_ACTOR_DIED = 6;
/** Stats reach /status once a second: counters are awaited this long. */
const STATUS_WAIT_MS = 10_000;
/** How often actors report their counters to /status (src/node/node.ts, STATS_INTERVAL_MS). */
const STATS_REPORT_MS = 1000;

interface ActorCounters {
  requests: number;
  requestsFailed: number;
  errorsContained: Record<string, number>;
}

async function actorCounters(): Promise<ActorCounters[]> {
  const status = await (await fetch(`http://127.0.0.1:${metricsPort(portOffset)}/status`)).json();
  return status.actors.map((actor: { counters: ActorCounters }) => actor.counters);
}

/**
 * The counters once the actors' reports include every request sent so far: two reads a
 * report interval apart that agree on what was answered (a report older than the last
 * requests would make a later difference count them).
 */
async function settledActorCounters(): Promise<ActorCounters[]> {
  const answered = (counters: ActorCounters[]) => counters.map((c) => `${c.requests}/${c.requestsFailed}`).join(",");
  let previous = await actorCounters();
  const deadlineMs = Date.now() + STATUS_WAIT_MS;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, STATS_REPORT_MS + 100));
    const current = await actorCounters();
    if (answered(current) === answered(previous)) return current;
    if (Date.now() > deadlineMs)
      throw new Error(`actor counters kept changing: ${answered(previous)} then ${answered(current)}`);
    previous = current;
  }
}

/** Frames to a node's request port in a single TCP write, after the ZMTP handshake: one burst for the actor. */
async function sendInOneWrite(port: number, frames: Uint8Array[]): Promise<net.Socket> {
  const parts: Buffer[] = [GREETING, readyCommand("PUSH")];
  for (const frame of frames) {
    const header = Buffer.alloc(frameHeaderBytes(frame.length));
    writeFrameHeader(header, 0, 0, frame.length);
    parts.push(header, Buffer.from(frame));
  }
  const socket = net.connect(port, "127.0.0.1");
  socket.on("data", () => undefined);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.write(Buffer.concat(parts));
  return socket;
}

describe("faults an actor contains", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-actor-faults-"));
  const faultFile = path.join(dir, "fault");
  const actorAddress = (tid: number) => actorRequestAddress("127.0.0.1", portOffset, tid);
  let node: NodeProcess;
  let peer: RawPeer;
  let counter = 0;

  async function request(tid: number, type: RequestType, tuples: KeyRequest["tuples"]): Promise<KeyResponse> {
    const request_id = `probe-${++counter}`;
    await peer.send(
      actorAddress(tid),
      encodeKeyRequest({ type, tuples, response_address: peer.replyAddress, request_id }),
    );
    const response = decodeKeyResponse(await peer.receive());
    expect(response.response_id).toBe(request_id);
    return response;
  }

  beforeAll(async () => {
    // Two actors each holding every key: one learns the other's writes only by gossip (anti-entropy off).
    node = await startNodeProcess({
      portOffset,
      threads: 2,
      localReplication: 2,
      extraArgs: ["--anti-entropy-period-ms=0"],
      env: { ANNAKV_FAULT_FILE: faultFile },
    });
    peer = await RawPeer.open();
  }, 30_000);

  afterAll(async () => {
    peer.close();
    await node.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps serving while its gossip tick throws, and gossips what was written meanwhile once it stops", async () => {
    writeFileSync(faultFile, "throw-in-gossip-tick\n");
    await waitFor(
      async () => (await actorCounters()).every((counters) => (counters.errorsContained["gossip-tick"] ?? 0) > 0),
      STATUS_WAIT_MS,
      () => "no gossip tick failure counted",
    );
    const value = encodeLww({ timestamp: 1, value: "written under the fault" });
    expect(
      (await request(0, RequestType.PUT, [{ key: "held", lattice_type: LatticeType.LWW, payload: value }])).tuples[0]
        .error ?? AnnaError.NO_ERROR,
    ).toBe(AnnaError.NO_ERROR);
    expect(Buffer.from((await request(0, RequestType.GET, [{ key: "held" }])).tuples[0].payload!)).toEqual(
      Buffer.from(value),
    );
    // Actor 0's ticks fail before they send: actor 1 has not heard of the key.
    expect((await request(1, RequestType.GET, [{ key: "held" }])).tuples[0].error).toBe(AnnaError.KEY_DNE);
    expect(node.output()).toContain("error(s) contained in gossip-tick");
    expect(node.output()).toContain("injected fault: throw-in-gossip-tick");
    writeFileSync(faultFile, "");
    await waitFor(
      async () =>
        ((await request(1, RequestType.GET, [{ key: "held" }])).tuples[0].error ?? AnnaError.NO_ERROR) ===
        AnnaError.NO_ERROR,
      5000,
      () => "the key written under the fault never reached actor 1",
    );
    expect(Buffer.from((await request(1, RequestType.GET, [{ key: "held" }])).tuples[0].payload!)).toEqual(
      Buffer.from(value),
    );
    expect((await actorCounters()).map((counters) => counters.requestsFailed)).toEqual([0, 0]);
  }, 30_000);

  it("answers every other request of a burst in which one request throws, and counts each", async () => {
    writeFileSync(faultFile, "throw-on-key poison\n");
    // In force from the actor's next gossip tick.
    await waitFor(
      async () => (await request(0, RequestType.GET, [{ key: "poison" }])).error === AnnaError.LATTICE,
      5000,
      () => "throw-on-key never took effect",
    );
    const before = await settledActorCounters();
    const value = (text: string) => encodeLww({ timestamp: 2, value: text });
    const burst: KeyRequest[] = [
      {
        type: RequestType.PUT,
        tuples: [{ key: "first", lattice_type: LatticeType.LWW, payload: value("one") }],
        response_address: peer.replyAddress,
        request_id: "b1",
      },
      {
        type: RequestType.PUT,
        tuples: [
          { key: "second", lattice_type: LatticeType.LWW, payload: value("two") },
          { key: "poison", lattice_type: LatticeType.LWW, payload: value("x") },
        ],
        response_address: peer.replyAddress,
        request_id: "b2",
      },
      {
        type: RequestType.GET,
        tuples: [{ key: "first" }, { key: "never-written" }],
        response_address: peer.replyAddress,
        request_id: "b3",
      },
      {
        type: RequestType.PUT,
        tuples: [{ key: "third", lattice_type: LatticeType.LWW, payload: value("three") }],
        response_address: peer.replyAddress,
        request_id: "b4",
      },
    ];
    const socket = await sendInOneWrite(
      6200 + portOffset,
      burst.map((request) => encodeKeyRequest(request)),
    );
    try {
      const replies = new Map<string, KeyResponse>();
      while (replies.size < burst.length) {
        const response = decodeKeyResponse(await peer.receive());
        replies.set(response.response_id, response);
      }
      const errors = (id: string) => [
        replies.get(id)!.error ?? AnnaError.NO_ERROR,
        ...replies.get(id)!.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR),
      ];
      expect(errors("b1")).toEqual([AnnaError.NO_ERROR, AnnaError.NO_ERROR]);
      expect(errors("b2")).toEqual([AnnaError.LATTICE, AnnaError.LATTICE, AnnaError.LATTICE]);
      expect(errors("b3")).toEqual([AnnaError.NO_ERROR, AnnaError.NO_ERROR, AnnaError.KEY_DNE]);
      expect(Buffer.from(replies.get("b3")!.tuples[0].payload!)).toEqual(Buffer.from(value("one")));
      expect(errors("b4")).toEqual([AnnaError.NO_ERROR, AnnaError.NO_ERROR]);
    } finally {
      socket.destroy();
    }
    // The failed request ran nothing: "second" was never stored.
    expect((await request(0, RequestType.GET, [{ key: "second" }])).tuples[0].error).toBe(AnnaError.KEY_DNE);
    // b1, b3, b4 and the GET just sent served; b2 failed.
    const served = 4;
    let after = before[0];
    await waitFor(
      async () => {
        [after] = await actorCounters();
        return after.requests === before[0].requests + served && after.requestsFailed === before[0].requestsFailed + 1;
      },
      STATUS_WAIT_MS,
      () =>
        `counters did not come to ${served} served and 1 failed: before ${JSON.stringify(before[0])}, after ${JSON.stringify(after)}`,
    );
    expect(after.errorsContained.request).toBe((before[0].errorsContained.request ?? 0) + 1);
    // Logged at most once per interval per place: the probe GETs above may have taken this interval's line.
    expect(node.output()).toMatch(
      /contained in request since the last such line .*answered LATTICE to a request \((GET|PUT) of \d+ tuple\(s\)/,
    );
    writeFileSync(faultFile, "");
  }, 30_000);

  it("stops with exit code 0 after the faults it contained", async () => {
    expect(await node.stop()).toBe(0);
  }, 30_000);
});

describe("an actor thread that dies", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-actor-crash-"));
  const faultFile = path.join(dir, "fault");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stops the node, which exits 6 naming the actor and the cause", async () => {
    const node = await startNodeProcess({ portOffset, threads: 2, env: { ANNAKV_FAULT_FILE: faultFile } });
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 2000 });
    try {
      await client.putLww("before-the-crash", "served");
      writeFileSync(faultFile, "crash-actor 1\n");
      await waitFor(
        () => node.child.exitCode !== null,
        15_000,
        () => `the node did not exit after its actor died:\n${node.output()}`,
      );
      expect(await node.stop()).toBe(EXIT_ACTOR_DIED);
      const output = node.output();
      expect(output).toContain("actor 1 died (uncaught Error: injected fault: crash-actor 1)");
      expect(output).toContain(`the node stopped (exit ${EXIT_ACTOR_DIED}): restart it`);
    } finally {
      await client.close();
      await node.stop("SIGKILL");
    }
  }, 40_000);
});
