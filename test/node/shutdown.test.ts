/**
 * SIGTERM under load: every request the node received before it stopped is answered, and
 * the process exits 0. The node logs how many requests it answered; the client counts.
 * And the process exits cleanly while its actors gossip to each other (hot keys), which
 * once aborted it now and then: worker threads released zeromq.js frames after exiting.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { runLoad } from "../../bench/load-generator";
import { decodeKeyResponse, encodeKeyRequest, RequestType } from "../../src/protocol/anna";
import { startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";
import { RawPeer } from "../support/raw-socket";

const portOffset = PORT_OFFSETS.shutdown;
const REQUESTS_PER_ACTOR = 3000;
const THREADS = 2;

describe("SIGTERM under load", () => {
  it("answers every received request before exiting 0", async () => {
    const node = await startNodeProcess({ portOffset, threads: THREADS });
    const peer = await RawPeer.open();
    try {
      let answered = 0;
      const receiving = (async () => {
        for (;;) {
          try {
            decodeKeyResponse(await peer.receive(3000));
            answered++;
          } catch {
            return; // no reply for 3 s: the node is gone
          }
        }
      })();
      // Flood both actors, then stop the node while requests are still queued there.
      let sent = 0;
      sending: for (let i = 0; i < REQUESTS_PER_ACTOR; i++) {
        for (let tid = 0; tid < THREADS; tid++) {
          const frame = encodeKeyRequest({
            type: RequestType.GET,
            tuples: [{ key: `k${i}` }],
            response_address: peer.replyAddress,
            request_id: String(sent++),
          });
          try {
            await peer.send(`tcp://127.0.0.1:${6200 + portOffset + tid}`, frame);
          } catch {
            break sending; // the node has stopped listening
          }
        }
        if (i === 200) {
          // Load first: sends only queue the frames, so wait until the node has answered one.
          await waitFor(
            async () => answered > 0,
            10_000,
            () => "no request answered before the SIGTERM",
          );
          node.child.kill("SIGTERM");
        }
      }
      expect(await node.stop()).toBe(0);
      await receiving;
      const match = /"requestsAnswered":(\d+)/.exec(node.output());
      expect(match).not.toBeNull();
      const reported = Number(match![1]);
      expect(reported).toBeGreaterThan(0);
      expect(answered).toBe(reported);
    } finally {
      peer.close();
      await node.stop();
    }
  });
});

describe("SIGTERM while actors gossip", () => {
  const ROUNDS = 6;

  it(`exits 0 every time, ${ROUNDS} times running, with hot keys replicated between actors`, async () => {
    const load = { portOffset, concurrency: 8, keyCount: 500, keyBytes: 16, valueBytes: 120, seed: 3 };
    for (let round = 0; round < ROUNDS; round++) {
      const node = await startNodeProcess({
        portOffset,
        threads: THREADS,
        extraArgs: ["--hot-key-window-ms=100", "--hot-key-min-ops-per-sec=50"],
      });
      try {
        await runLoad({ ...load, keysPerRequest: 1, preload: true, warmupMs: 0, durationMs: 0 });
        // Skewed writes until the monitor has replicated a key: from then on the actors gossip.
        await waitFor(
          async () => {
            await runLoad({ ...load, keysPerRequest: 8, putFraction: 1, skew: 1.2, warmupMs: 0, durationMs: 150 });
            return node.output().includes("now on 2 actor(s)");
          },
          10_000,
          () => `no key was replicated:\n${node.output()}`,
        );
        // Stop right after more writes: the actors still owe each other their last gossip.
        await runLoad({
          ...load,
          keysPerRequest: 8,
          putFraction: 1,
          skew: 1.2,
          warmupMs: 0,
          durationMs: 50 + 20 * round,
        });
        expect(await node.stop()).toBe(0);
      } finally {
        await node.stop("SIGKILL");
      }
    }
  });

  it("keeps zeromq.js out of the actors' threads", () => {
    // Loads the actor's module graph in a fresh process and lists what came from zeromq.
    const script = `require(${JSON.stringify(path.resolve(__dirname, "../../dist/actor/actor.js"))}); console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes("zeromq"))));`;
    expect(JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }))).toEqual([]);
  });
});
