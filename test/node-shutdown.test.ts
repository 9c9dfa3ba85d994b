/**
 * SIGTERM under load: every request the node received before it stopped is answered, and
 * the process exits 0. The node logs how many requests it answered; the client counts.
 */
import { decodeKeyResponse, encodeKeyRequest, RequestType } from "../src/protocol/anna";
import { startNodeProcess } from "./support/node-process";
import { PORT_OFFSETS } from "./support/ports";
import { RawPeer } from "./support/raw-socket";

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
          const frame = encodeKeyRequest({ type: RequestType.GET, tuples: [{ key: `k${i}` }], response_address: peer.replyAddress, request_id: String(sent++) });
          try {
            await peer.send(`tcp://127.0.0.1:${6200 + portOffset + tid}`, frame);
          } catch {
            break sending; // the node has stopped listening
          }
        }
        if (i === 200) node.child.kill("SIGTERM");
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
