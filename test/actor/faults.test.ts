/**
 * The fault file (src/actor/faults.ts): one fault a line, read again at each refresh, a
 * fault holding only while its line is there; without a file named nothing is injected
 * and the sinks and servers given are returned as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ActorFaults } from "../../src/actor/faults";
import { GossipFrameKind } from "../../src/actor/gossip-frame";
import { BatchRequestServer } from "../../src/actor/request-servers";
import { createStore } from "../../src/core/create-store";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import { encodeKeyRequest, RequestType } from "../../src/protocol/anna";
import type { FrameSink } from "../../src/protocol/outlet-pool";

const REMOTE = "tcp://10.0.0.2:6250";

describe("ActorFaults", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-faults-"));
  const file = path.join(dir, "fault");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads one fault a line, each holding only while its line is there", () => {
    const faults = new ActorFaults(file, () => false);
    faults.refresh();
    expect([faults.throwsInGossipTick, faults.crashes(1)]).toEqual([false, false]);
    writeFileSync(file, "throw-in-gossip-tick\n  crash-actor 1  \nno-such-fault\n");
    faults.refresh();
    expect([faults.throwsInGossipTick, faults.crashes(0), faults.crashes(1)]).toEqual([true, false, true]);
    writeFileSync(file, "crash-actor 0\n");
    faults.refresh();
    expect([faults.throwsInGossipTick, faults.crashes(0), faults.crashes(1)]).toEqual([false, true, false]);
    rmSync(file);
    faults.refresh();
    expect(faults.crashes(0)).toBe(false);
  });

  it("drops RECORDS frames to other nodes' actors under drop-remote-records, and nothing else", () => {
    const sent: string[] = [];
    const sink: FrameSink = { send: (address) => sent.push(address) };
    const faults = new ActorFaults(file, (address) => address !== REMOTE);
    const wrapped = faults.wrap(sink);
    writeFileSync(file, "drop-remote-records\n");
    faults.refresh();
    wrapped.send(REMOTE, Uint8Array.of(GossipFrameKind.REMOTE_RECORDS));
    wrapped.send("tcp://127.0.0.1:6251", Uint8Array.of(GossipFrameKind.RECORDS));
    wrapped.send(REMOTE, Uint8Array.of(GossipFrameKind.HANDOFF_ACK));
    expect(sent).toEqual(["tcp://127.0.0.1:6251", REMOTE]);
    expect(faults.dropped).toBe(1);
  });

  it("drops every gossip frame to other nodes' actors under drop-remote-gossip, and none to its own", () => {
    const sent: string[] = [];
    const sink: FrameSink = { send: (address, frame) => sent.push(`${GossipFrameKind[frame[0]]} ${address}`) };
    const faults = new ActorFaults(file, (address) => address !== REMOTE);
    const wrapped = faults.wrap(sink);
    writeFileSync(file, "drop-remote-gossip\n");
    faults.refresh();
    const kinds = [
      GossipFrameKind.RECORDS,
      GossipFrameKind.HANDOFF,
      GossipFrameKind.HANDOFF_ACK,
      GossipFrameKind.DIGESTS,
    ];
    for (const kind of kinds) wrapped.send(REMOTE, Uint8Array.of(kind));
    wrapped.send("tcp://127.0.0.1:6251", Uint8Array.of(GossipFrameKind.HANDOFF));
    expect(sent).toEqual(["HANDOFF tcp://127.0.0.1:6251"]);
    expect(faults.dropped).toBe(4);
    writeFileSync(file, "");
    faults.refresh();
    wrapped.send(REMOTE, Uint8Array.of(GossipFrameKind.HANDOFF));
    expect(sent).toEqual(["HANDOFF tcp://127.0.0.1:6251", `HANDOFF ${REMOTE}`]);
  });

  it("makes a server throw before it runs a request holding a poison key, and only then", () => {
    const server = new BatchRequestServer(createStore({ engine: "ts", limits: DEFAULT_LIMITS }));
    const faults = new ActorFaults(file, () => false);
    const wrapped = faults.wrapServer(server);
    writeFileSync(file, "throw-on-key poison\n");
    faults.refresh();
    const request = (key: string) =>
      Buffer.from(
        encodeKeyRequest({
          type: RequestType.GET,
          tuples: [{ key }],
          response_address: "tcp://client:1",
          request_id: key,
        }),
      );
    const burst = wrapped.read([request("fine"), request("poison")], 16);
    expect(wrapped.answer(burst, [burst.heads[0]])).toHaveLength(1);
    expect(() => wrapped.answer(burst, burst.heads)).toThrow("injected fault: throw-on-key poison");
    writeFileSync(file, "");
    faults.refresh();
    expect(wrapped.answer(burst, burst.heads)).toHaveLength(2);
  });

  it("wraps nothing without a fault file", () => {
    const sink: FrameSink = { send: () => undefined };
    const server = new BatchRequestServer(createStore({ engine: "ts", limits: DEFAULT_LIMITS }));
    const faults = new ActorFaults(undefined, () => false);
    faults.refresh();
    expect(faults.wrap(sink)).toBe(sink);
    expect(faults.wrapServer(server)).toBe(server);
  });
});
