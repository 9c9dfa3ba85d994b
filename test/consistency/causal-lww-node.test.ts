/**
 * causal-multi-key-lww sessions (docs/causal-stability.md §9) against a real node (2 actors,
 * local replication 2: every key on both), over AnnaClient's real transport: a write's
 * LWW value carries its stamp and names its dependencies by (key, stamp, write id); another
 * client's reader is shown a value only with what it depends on; a value whose dependency
 * no replica holds is refused, then read once the dependency exists; of concurrent writes
 * of a key, the greater (stamp, write id) is what every reader sees.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { ConsistencyError } from "../../src/consistency/errors";
import { decodeCausalLww, encodeCausalLww } from "../../src/lattices/causal-lww";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeLww } from "../../src/lattices/values";
import { NodeProcess, onEveryReplica, startNodeProcess, waitFor } from "../support/node-process";
import { replicasAgree } from "../support/level-workload-cluster";
import { PORT_OFFSETS } from "../support/ports";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const texts = (values: Uint8Array[]) => values.map(text);
/** Gossip runs every 20 ms (the harness's default): this is many periods. */
const GOSSIP_WAIT_MS = 2000;

describe("causal-multi-key-lww sessions against a node with two replicas of every key", () => {
  let node: NodeProcess;
  let writerClient: AnnaClient;
  let readerClient: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset: PORT_OFFSETS.consistencyCausalLww, threads: 2, localReplication: 2 });
    writerClient = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
    readerClient = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
  });

  afterAll(async () => {
    await writerClient?.close();
    await readerClient?.close();
    expect(await node?.stop()).toBe(0);
  });

  /** The node's epoch, which a stamped value must name (any answer carries it). */
  async function epochOf(): Promise<number> {
    const probe = "epoch-probe";
    return (await readerClient.getMany([probe], { absentAsValues: true })).get(probe)?.stableEpoch ?? 0;
  }

  it("writes LWW values that name their dependencies by stamp and write id, and shows them only together", async () => {
    const writer = writerClient.causalSession({ scope: "multi-key-lww" });
    await writer.put("photo", "p1");
    await writer.put("album", "a1");
    await onEveryReplica(readerClient, "album", 2, GOSSIP_WAIT_MS);
    const album = await readerClient.get("album");
    expect(album?.type).toBe(LatticeType.LWW);
    const { stamped, version } = decodeCausalLww(album!.payload);
    const photo = decodeCausalLww((await readerClient.get("photo"))!.payload);
    // album depends on photo exactly at the version photo's write left, unless the stable time had passed it.
    const listed = stamped!.dependencyStamps.map(({ key, stampMicros, writer: writeId }) => [
      text(key),
      stampMicros,
      writeId,
    ]);
    expect([[], [["photo", photo.version.micros, photo.version.writeId]]]).toContainEqual(listed);
    expect(version.micros).toBeGreaterThan(photo.version.micros);
    const reader = readerClient.causalSession({ scope: "multi-key-lww" });
    expect(texts(await reader.get("album"))).toEqual(["a1"]);
    expect(texts(await reader.get("photo"))).toEqual(["p1"]);
    expect(await reader.get("never-written")).toEqual([]);
    writer.close();
    reader.close();
  });

  it("refuses a value whose dependency no replica holds, then reads it once the dependency is written", async () => {
    // A dependency on a bare version (no tag in its write id) has no stamp: only that version or a later one covers it.
    const bareWriteId = utf8.encode("bare-writer");
    const dependencyMicros = Date.now() * 1000;
    const writer = utf8.encode("hand");
    // Asked before the stamp is taken: a round trip between the two could leave the stamp below the accept floor.
    const epoch = await epochOf();
    await writerClient.put(
      "needs-x",
      LatticeType.LWW,
      encodeCausalLww({
        stampMicros: Date.now() * 1000 + 1000,
        baseMicros: 0,
        writer,
        dependencyStamps: [{ key: utf8.encode("x"), stampMicros: dependencyMicros, epoch: 0, writer: bareWriteId }],
        value: utf8.encode("y"),
        epoch,
        baseEpoch: 0,
      }),
    );
    await onEveryReplica(readerClient, "needs-x", 2, GOSSIP_WAIT_MS);
    const reader = readerClient.causalSession({ scope: "multi-key-lww", dependencyWaitMs: 200 });
    const refusal = await reader.get("needs-x").catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConsistencyError);
    expect(refusal).toMatchObject({ code: "CAUSAL_DEPENDENCY_UNAVAILABLE", guarantee: "causal-multi-key-lww" });
    expect((refusal as Error).message).toContain('"x"');
    // An older version of x does not cover the dependency; the version named does.
    await writerClient.put(
      "x",
      LatticeType.LWW,
      encodeLww({ timestamp: dependencyMicros - 1, writeId: bareWriteId, value: "x0" }),
    );
    await onEveryReplica(readerClient, "x", 2, GOSSIP_WAIT_MS);
    await expect(reader.get("needs-x")).rejects.toMatchObject({ code: "CAUSAL_DEPENDENCY_UNAVAILABLE" });
    await writerClient.put(
      "x",
      LatticeType.LWW,
      encodeLww({ timestamp: dependencyMicros, writeId: bareWriteId, value: "x1" }),
    );
    await onEveryReplica(readerClient, "x", 2, GOSSIP_WAIT_MS);
    await waitFor(
      async () => (await reader.get("needs-x").catch(() => [])).length === 1,
      GOSSIP_WAIT_MS,
      () => "needs-x never closed",
    );
    expect(texts(await reader.getMany(["needs-x", "x"]).then((read) => [...read.values()].flat()))).toEqual([
      "y",
      "x1",
    ]);
    reader.close();
  });

  it("resolves concurrent writes of a key by stamp: every reader sees the greater, and a later write overwrites it", async () => {
    const first = writerClient.causalSession({ scope: "multi-key-lww" });
    const second = readerClient.causalSession({ scope: "multi-key-lww" });
    // Neither has read the other's: the writes are concurrent.
    await Promise.all([first.put("shared", "from-first"), second.put("shared", "from-second")]);
    // Each put reached one replica: the winner is known only once both replicas hold the same value.
    const replicas = await readerClient.replicasOf("shared");
    expect(replicas).toHaveLength(2);
    await waitFor(
      () => replicasAgree(readerClient, ["shared"]),
      GOSSIP_WAIT_MS,
      () => "the replicas of shared did not come to hold the same value",
    );
    const agreed = (await readerClient.getFromReplica(replicas[0], ["shared"])).get("shared")!;
    const held = text(decodeCausalLww(agreed.payload).value);
    const stored = decodeCausalLww((await readerClient.get("shared"))!.payload);
    const winner = text(stored.value);
    expect(winner).toBe(held);
    expect(["from-first", "from-second"]).toContain(winner);
    await waitFor(
      async () => texts(await first.get("shared"))[0] === winner && texts(await second.get("shared"))[0] === winner,
      GOSSIP_WAIT_MS,
      () => `the sessions did not both come to read ${winner}`,
    );
    // Having read it, the loser's next write is stamped above it and overwrites it.
    const loser = winner === "from-first" ? second : first;
    await loser.put("shared", "after");
    let after = stored;
    await waitFor(
      async () => text((after = decodeCausalLww((await readerClient.get("shared"))!.payload)).value) === "after",
      GOSSIP_WAIT_MS,
      () => `the replicas still hold ${text(after.value)}`,
    );
    expect(after.version.micros).toBeGreaterThan(stored.version.micros);
    first.close();
    second.close();
  });

  it("refuses envelope: false for this scope with a clear error", () => {
    expect(() => writerClient.causalSession({ scope: "multi-key-lww", envelope: false })).toThrow(
      /multi-key-lww always writes stamped values/,
    );
  });
});
