/**
 * Address refresh: a client keeps addresses cached from a node with 2 actors; the node is
 * replaced by one with 3 actors on the same ports, so some keys now live elsewhere. The
 * client gets WRONG_THREAD (invalidate) from the stale actor, asks routing again, and the
 * operation succeeds without the caller noticing; the client's counters show the extra
 * lookup and the resent tuple.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { LocalPlacement } from "../../src/routing/placement";
import { startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.restartBefore;
const encoder = new TextEncoder();

/** A key owned by actor 0 with 2 actors and by another actor with 3. */
function keyThatMoves(): string {
  const before = new LocalPlacement(2, 1);
  const after = new LocalPlacement(3, 1);
  for (let i = 0; ; i++) {
    const key = `moving-${i}`;
    if (before.replicas(encoder.encode(key))[0] === 0 && after.replicas(encoder.encode(key))[0] !== 0) return key;
  }
}

describe("client address refresh", () => {
  it("follows a key to its new actor after WRONG_THREAD", async () => {
    const key = keyThatMoves();
    const client = new AnnaClient({ routingAddress: `tcp://127.0.0.1:${6450 + portOffset}`, timeoutMs: 1000 });
    let node = await startNodeProcess({ portOffset, threads: 2 });
    try {
      await client.putLww(key, "before");
      expect((await client.addressesOf([key])).get(key)).toEqual([`tcp://127.0.0.1:${6200 + portOffset}`]);
      expect(client.counters).toMatchObject({ routingRequests: 1, tuplesResent: 0, keyRequests: 1 });
      expect(await node.stop()).toBe(0);

      node = await startNodeProcess({ portOffset, threads: 3 });
      await client.putLww(key, "after");
      // The PUT went to the stale address, was refused, looked up again and resent once.
      expect(client.counters).toMatchObject({ routingRequests: 2, tuplesResent: 1, keyRequests: 3 });
      const moved = (await client.addressesOf([key])).get(key)!;
      expect(moved).not.toEqual([`tcp://127.0.0.1:${6200 + portOffset}`]);
      expect(new TextDecoder().decode((await client.getLww(key))!.value)).toBe("after");
      // The stale actor 0 said WRONG_THREAD: its counters show it once its next report is in.
      await waitFor(
        async () => {
          const status = await (await fetch(`http://127.0.0.1:${6400 + portOffset}/status`)).json();
          return (status.actors[0].counters.tupleErrors.WRONG_THREAD ?? 0) >= 1;
        },
        5000,
        () => "actor 0 never reported a WRONG_THREAD answer",
      );
    } finally {
      await client.close();
      await node.stop();
    }
  });
});
