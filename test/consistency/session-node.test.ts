/**
 * Sessions and read-committed transactions against a real node (2 actors, local
 * replication 2: every key on both), over AnnaClient's real transport: per-key outcomes
 * of putManySettled, a session reading its writes, and a commit that lands on both
 * replicas with one stamp and write id while an abort lands nowhere.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww, encodeLww, encodeSet } from "../../src/lattices/values";
import { NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

/** Gossip runs every 20 ms (the harness's default): this is many periods. */
const SETTLE_MS = 300;
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The write id a read-committed commit gives each of its keys: the transaction's tag and number, write number 0. */
function commitWriteIdHex(transactionId: string): string {
  const [tag, number] = transactionId.split(".");
  return `${tag}${Number(number).toString(16).padStart(8, "0")}00000000`;
}

describe("consistency levels against a node with two replicas of every key", () => {
  let node: NodeProcess;
  let client: AnnaClient;
  let other: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({ portOffset: PORT_OFFSETS.consistencySession, threads: 2, localReplication: 2 });
    client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
    other = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
  });

  afterAll(async () => {
    await client?.close();
    await other?.close();
    expect(await node?.stop()).toBe(0);
  });

  /** Every replica's payload of `key`, polled until `settled` holds of them. */
  async function everyReplica(key: string, settled: (values: (Uint8Array | undefined)[]) => boolean) {
    const replicas = await client.replicasOf(key);
    expect(replicas).toHaveLength(2);
    let payloads: (Uint8Array | undefined)[] = [];
    await waitFor(
      async () => {
        payloads = await Promise.all(
          replicas.map(async (replica) => (await client.getFromReplica(replica, [key])).get(key)?.payload),
        );
        return settled(payloads);
      },
      5000,
      () => `replicas of ${key} hold ${payloads.map((payload) => payload && hex(payload)).join(", ")}`,
    );
    return payloads;
  }

  it("settles a PUT per key: applied, refused (LATTICE), unknown (fewer replica nodes than asked); putMany throws the refusal", async () => {
    await client.putLww("holds-lww", "v");
    const lww = (value: string) => ({ key: "", type: LatticeType.LWW, payload: encodeLww({ timestamp: 1, value }) });
    const outcomes = await client.putManySettled([
      { ...lww("a"), key: "settled-ok" },
      { key: "holds-lww", type: LatticeType.SET, payload: encodeSet(["x"]) },
    ]);
    expect(outcomes.get("settled-ok")).toMatchObject({ status: "applied" });
    expect(outcomes.get("holds-lww")).toMatchObject({
      status: "refused",
      error: { name: "AnnaClientError", code: "LATTICE" },
    });
    // One node: a PUT asking for two replica nodes is applied on this one, but not as durable as asked.
    const underReplicated = await client.putManySettled([{ ...lww("b"), key: "settled-few" }], { acks: 2 });
    expect(underReplicated.get("settled-few")).toMatchObject({
      status: "unknown",
      error: { code: "TIMEOUT", message: expect.stringMatching(/fewer replica nodes than asked for \(2\)/) },
    });
    await expect(
      client.putMany([
        { ...lww("c"), key: "settled-ok" },
        { key: "holds-lww", type: LatticeType.SET, payload: encodeSet(["x"]) },
      ]),
    ).rejects.toMatchObject({ code: "LATTICE", message: expect.stringMatching(/refused "holds-lww"/) });
  });

  it("reads a session's writes back at once, and both replicas come to hold them", async () => {
    const session = client.session({ guarantees: "all" });
    for (let round = 0; round < 20; round++) {
      await session.putLww("session-key", `v${round}`);
      expect(text((await session.getLww("session-key"))?.value)).toBe(`v${round}`);
    }
    await session.addToSet("session-set", ["a"]);
    await session.addToSet("session-set", ["b"]);
    expect((await session.getSet("session-set"))?.map(text)).toEqual(["a", "b"]);
    const payloads = await everyReplica("session-key", (values) =>
      values.every((value) => text(value && decodeLww(value).value) === "v19"),
    );
    expect(hex(payloads[0]!)).toBe(hex(payloads[1]!));
    session.close();
  });

  it("commits read-committed writes on both replicas with one stamp and write id, and an abort leaves nothing", async () => {
    const session = client.session({ guarantees: ["read-your-writes"] });
    const transaction = session.transaction({ isolation: "read-committed" });
    await transaction.put("rc-a", "a1");
    await transaction.put("rc-b", "b1");
    await transaction.put("rc-a", "a2");
    expect(text(await transaction.get("rc-a"))).toBe("a2");
    expect(await other.getLww("rc-a")).toBeUndefined();
    const { stamp } = await transaction.commit();
    expect(transaction.state).toBe("committed");
    expect(text((await session.getLww("rc-b"))?.value)).toBe("b1");
    const written = await Promise.all(
      ["rc-a", "rc-b"].map(async (key) =>
        (await everyReplica(key, (values) => values.every((value) => value !== undefined))).map((value) =>
          decodeLww(value!),
        ),
      ),
    );
    const [a, b] = written;
    expect([...a, ...b].map(({ timestamp }) => timestamp)).toEqual([stamp, stamp, stamp, stamp]);
    expect(new Set([...a, ...b].map(({ writeId }) => hex(writeId)))).toEqual(
      new Set([commitWriteIdHex(transaction.id)]),
    );
    expect([...a.map(({ value }) => text(value)), ...b.map(({ value }) => text(value))]).toEqual([
      "a2",
      "a2",
      "b1",
      "b1",
    ]);

    const aborted = session.transaction({ isolation: "read-committed" });
    await aborted.put("rc-aborted", "never");
    await aborted.abort();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    for (const replica of await client.replicasOf("rc-aborted")) {
      expect((await client.getFromReplica(replica, ["rc-aborted"])).get("rc-aborted")).toBeUndefined();
    }
    session.close();
  });
});
