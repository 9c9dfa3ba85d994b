/**
 * Causal sessions against a real node (2 actors, local replication 2: every key on both),
 * over AnnaClient's real transport, with one causal cut per client: a dependency written
 * through one client is seen by another's reader; a value whose dependency is missing is
 * refused after asking each replica, then read once the dependency exists; single-key
 * siblings under the versions the actors name (DOTTED_CAUSAL), and bare values as Anna's
 * plain causal calls see them.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { decodeDottedCausalWire, type DottedCausal } from "../../src/lattices/dotted-causal";
import { NodeProcess, onEveryReplica, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const texts = (values: Uint8Array[]) => values.map(text).sort();
/** Gossip runs every 20 ms (the harness's default): this is many periods. */
const GOSSIP_WAIT_MS = 2000;

/** Reads until the siblings are `expected`: a replica may not have the latest write yet. */
async function eventually(read: () => Promise<Uint8Array[]>, expected: string[]): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => JSON.stringify((last = texts(await read()))) === JSON.stringify(expected),
    GOSSIP_WAIT_MS,
    () => `read ${JSON.stringify(last)}, not ${JSON.stringify(expected)}`,
  );
}

describe("causal sessions against a node with two replicas of every key", () => {
  let node: NodeProcess;
  let writerClient: AnnaClient;
  let readerClient: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset: PORT_OFFSETS.consistencyCausal, threads: 2, localReplication: 2 });
    writerClient = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
    readerClient = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
  });

  afterAll(async () => {
    await writerClient?.close();
    await readerClient?.close();
    expect(await node?.stop()).toBe(0);
  });

  it("shows another client's reader a value only with what it depends on", async () => {
    const writer = writerClient.causalSession({ scope: "multi-key" });
    await writer.put("photo", "p1");
    await writer.put("album", "a1");
    await onEveryReplica(readerClient, "album", 2, GOSSIP_WAIT_MS);
    const album = await readerClient.getMultiCausal("album");
    expect(album?.dependencies.map(({ key }) => key)).toEqual(["photo"]);
    const reader = readerClient.causalSession({ scope: "multi-key" });
    expect(texts(await reader.get("album"))).toEqual(["a1"]);
    // The cut took photo in with album: no replica can take the reader back before it.
    expect(texts(await reader.get("photo"))).toEqual(["p1"]);
    writer.close();
    reader.close();
  });

  it("refuses a value whose dependency no replica holds, then reads it once the dependency is written", async () => {
    await writerClient.putMultiCausal("needs-x", {
      vectorClock: { plain: 2 },
      dependencies: [{ key: "x", vectorClock: { plain: 1 } }],
      values: ["y"],
    });
    await onEveryReplica(readerClient, "needs-x", 2, GOSSIP_WAIT_MS);
    const reader = readerClient.causalSession({ scope: "multi-key", dependencyWaitMs: 500 });
    await expect(reader.get("needs-x")).rejects.toMatchObject({
      code: "CAUSAL_DEPENDENCY_UNAVAILABLE",
      message: expect.stringMatching(/depends on "x", which no replica asked held .*\(4 rounds/),
    });
    await writerClient.putMultiCausal("x", { vectorClock: { plain: 1 }, dependencies: [], values: ["x"] });
    // Bare values (a plain client's) are shown as they are.
    expect(texts(await reader.get("needs-x"))).toEqual(["y"]);
    reader.close();
  });

  it("settles a single-key write whose answer never came (the node stopped), and the session's next write overwrites it", async () => {
    const client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 300 });
    try {
      const session = client.causalSession({ scope: "single-key", dependencyWaitMs: 5000 });
      await session.put("late", "v0");
      node.child.kill("SIGSTOP");
      try {
        // Sent once: a replica that does not answer may still apply it, so it is not sent to the other.
        await expect(session.put("late", "v1")).rejects.toMatchObject({ code: "TIMEOUT" });
      } finally {
        node.child.kill("SIGCONT");
      }
      // The node, woken, refuses the request as late (below its accept floor) or applies it: the read
      // settles it either way, by the stable time passing its stamp or by finding its version.
      const settled = texts(await session.get("late"));
      expect([["v0"], ["v1"]]).toContainEqual(settled);
      // Had it happened unseen, a write that did not follow it would leave it beside v2.
      await session.put("late", "v2");
      const reader = readerClient.causalSession({ scope: "single-key" });
      await eventually(() => reader.get("late"), ["v2"]);
    } finally {
      await client.close();
    }
  });

  it("keeps concurrent single-key writes as siblings under versions the actors name, and a session's write over them supersedes both", async () => {
    const first = writerClient.causalSession({ scope: "single-key" });
    const second = readerClient.causalSession({ scope: "single-key" });
    await Promise.all([first.put("doc", "draft A"), second.put("doc", "draft B")]);
    await eventually(() => first.get("doc"), ["draft A", "draft B"]);
    let stored: DottedCausal | undefined;
    await waitFor(
      async () => {
        const read = await writerClient.get("doc");
        stored = read === undefined ? undefined : decodeDottedCausalWire(read.payload);
        return stored?.versions.length === 2;
      },
      GOSSIP_WAIT_MS,
      () => `doc holds ${stored?.versions.length} versions`,
    );
    // One context entry per actor that named a version (two actors hold every key), none per session.
    expect(stored!.context.vector.length + stored!.context.cloud.length).toBeLessThanOrEqual(2);
    expect(stored!.versions.map((version) => text(version.value)).sort()).toEqual(["draft A", "draft B"]);
    await first.put("doc", "merged");
    await eventually(() => second.get("doc"), ["merged"]);
    const bare = writerClient.causalSession({ scope: "single-key", envelope: false });
    await bare.put("plain-doc", "readable by Anna's clients");
    await onEveryReplica(readerClient, "plain-doc", 2, GOSSIP_WAIT_MS);
    expect((await readerClient.getCausal("plain-doc"))!.values.map(text)).toEqual(["readable by Anna's clients"]);
  });
});
