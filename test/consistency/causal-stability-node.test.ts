/**
 * The stable time against a real node (docs/causal-stability.md; 2 actors, every key on
 * both): the node reports one on every response, a little behind its clock; a stamped
 * multi-key write (MULTI_CAUSAL, or causal-multi-key-lww's LWW value) at or below an actor's
 * accept floor, or of another epoch, is refused STALE_STAMP with the floor, the epoch and
 * the refusing replica named, and a session stamps it again; a session's past keeps only what is not yet
 * stable, so its writes stop listing what everyone holds; and a new client reads what
 * such writes depend on without walking their history.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { encodeStamped } from "../../src/lattices/causal-stamp";
import { decodeCausalLww, encodeCausalLww } from "../../src/lattices/causal-lww";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeMultiCausal, encodeMultiCausal } from "../../src/lattices/values";
import { toVectorClock } from "../../src/lattices/vector-clock";
import type { PutTuple } from "../../src/consistency/transport";
import { NodeProcess, startNodeProcess, waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/**
 * The stable time trails the clock by about this plus a few ticks: long enough that the 20
 * writes in a row below stay unstable while they are written, however loaded the machine
 * (test/consistency/causal-stability-cluster.test.ts failed so at 50 ms).
 */
const ACCEPT_LAG_MS = 1000;
/** Several accept lags and many stability ticks (10 ms): the stable time has passed what was written before. */
const STABLE_WAIT_MS = 5000;

describe("the stable time of a node", () => {
  let node: NodeProcess;
  let client: AnnaClient;

  beforeAll(async () => {
    node = await startNodeProcess({
      portOffset: PORT_OFFSETS.consistencyStability,
      threads: 2,
      localReplication: 2,
      extraArgs: [`--causal-accept-lag-ms=${ACCEPT_LAG_MS}`],
    });
    client = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
  });

  afterAll(async () => {
    await client?.close();
    expect(await node?.stop()).toBe(0);
  });

  /** The stable time a read of `key` reports, once it reports one. */
  async function stableNow(key: string): Promise<number> {
    await client.putMultiCausal(key, { vectorClock: { probe: 1 }, dependencies: [], values: ["p"] });
    let stable = 0;
    await waitFor(
      async () => (stable = (await client.getMany([key])).get(key)?.stableMicros ?? 0) > 0,
      STABLE_WAIT_MS,
      () => "no stable time reported",
    );
    return stable;
  }

  /** The epoch the node names on its answers (docs/causal-stability.md §7). */
  async function epochNow(): Promise<number> {
    return (await client.getMany(["probe"], { absentAsValues: true })).get("probe")?.stableEpoch ?? 0;
  }

  it("is reported on every response, behind the node's clock by about the accept lag, and rises", async () => {
    const first = await stableNow("probe");
    const behindMs = Date.now() - first / 1000;
    expect(behindMs).toBeGreaterThanOrEqual(ACCEPT_LAG_MS - 5);
    expect(behindMs).toBeLessThan(STABLE_WAIT_MS);
    await waitFor(
      async () => (await stableNow("probe")) > first,
      STABLE_WAIT_MS,
      () => "the stable time stayed put",
    );
    // A PUT's answer carries it too.
    const epoch = await epochNow();
    expect(epoch).toBeGreaterThan(0);
    const outcome = (await client.putManySettled([stampedPut("probe-put", Date.now() * 1000, epoch)])).get(
      "probe-put",
    )!;
    expect(outcome).toMatchObject({ status: "applied", stableMicros: expect.any(Number), stableEpoch: epoch });
  });

  it("refuses a stamp at or below the accept floor with STALE_STAMP, naming the floor, and stores nothing", async () => {
    const staleMicros = (Date.now() - 10_000) * 1000;
    const epoch = await epochNow();
    const outcome = (await client.putManySettled([stampedPut("stale", staleMicros, epoch)])).get("stale")!;
    expect(outcome).toMatchObject({ status: "refused", error: { name: "AnnaClientError", code: "STALE_STAMP" } });
    expect(outcome.status === "refused" && outcome.acceptFloorMicros).toBeGreaterThan(staleMicros);
    // A fresh stamp of another epoch is refused too, naming the node's.
    const elsewhen = (await client.putManySettled([stampedPut("stale", Date.now() * 1000, epoch + 1)])).get("stale")!;
    expect(elsewhen).toMatchObject({ status: "refused", epoch, error: { code: "STALE_STAMP" } });
    expect((await client.getMany(["stale"])).get("stale")).toBeUndefined();
    // An unstamped value (Anna's clients) is taken whenever it comes.
    await client.putMultiCausal("stale", { vectorClock: { plain: 1 }, dependencies: [], values: ["bare"] });
    expect((await client.getMultiCausal("stale"))!.values.map(text)).toEqual(["bare"]);
  });

  it("refuses a stamped causal LWW value at or below the accept floor or of another epoch, and takes one above it", async () => {
    const staleMicros = (Date.now() - 10_000) * 1000;
    const epoch = await epochNow();
    const outcome = (await client.putManySettled([stampedLwwPut("lww", staleMicros, epoch)])).get("lww")!;
    expect(outcome).toMatchObject({ status: "refused", error: { name: "AnnaClientError", code: "STALE_STAMP" } });
    expect(outcome.status === "refused" && outcome.acceptFloorMicros).toBeGreaterThan(staleMicros);
    const elsewhen = (await client.putManySettled([stampedLwwPut("lww", Date.now() * 1000, epoch + 1)])).get("lww")!;
    expect(elsewhen).toMatchObject({ status: "refused", epoch, error: { code: "STALE_STAMP" } });
    expect((await client.getMany(["lww"])).get("lww")).toBeUndefined();
    // A plain LWW value as old is taken: it carries no stamp.
    await client.putLww("lww-plain", "bare", staleMicros);
    expect(text((await client.getLww("lww-plain"))!.value)).toBe("bare");
    // Stamped above the floor in the node's epoch, it is applied, and read back whole from either replica.
    const freshMicros = Date.now() * 1000;
    const fresh = (await client.putManySettled([stampedLwwPut("lww", freshMicros, epoch)])).get("lww")!;
    expect(fresh).toMatchObject({ status: "applied", stableEpoch: epoch });
    await waitFor(
      async () => {
        for (const replica of await client.replicasOf("lww")) {
          const read = (await client.getFromReplica(replica, ["lww"])).get("lww");
          if (read?.type !== LatticeType.LWW) return false;
          const { stamped, value } = decodeCausalLww(read.payload);
          if (stamped?.stampMicros !== freshMicros || text(value) !== "v") return false;
        }
        return true;
      },
      STABLE_WAIT_MS,
      () => "a replica lacks the stamped LWW write",
    );
  });

  it("names the replica that refused a stamp of another epoch, which takes it again stamped in its own", async () => {
    const epoch = await epochNow();
    const refused = (await client.putManySettled([stampedPut("elsewhen", Date.now() * 1000, epoch + 1)])).get(
      "elsewhen",
    )!;
    expect(refused).toMatchObject({ status: "refused", epoch, replica: expect.any(String) });
    const replica = refused.status === "refused" ? refused.replica! : "";
    expect(await client.replicasOf("elsewhen")).toContain(replica);
    const again = await client.putToReplica(replica, [stampedPut("elsewhen", Date.now() * 1000, epoch)]);
    expect(again.get("elsewhen")).toMatchObject({ status: "applied", stableEpoch: epoch });
    expect((await client.getFromReplica(replica, ["elsewhen"])).get("elsewhen")?.type).toBe(LatticeType.MULTI_CAUSAL);
  });

  it("lets a session's writes stop listing what every replica holds", async () => {
    const payloads: PutTuple[] = [];
    const observed = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
    const send = observed.putManySettled.bind(observed);
    observed.putManySettled = (puts, options) => {
      payloads.push(...puts);
      return send(puts, options);
    };
    const reader = new AnnaClient({ routingAddress: node.routingAddress, timeoutMs: 1000 });
    try {
      await writeChainThenRead(observed, payloads, reader);
    } finally {
      await reader.close();
      await observed.close();
    }
  });

  async function writeChainThenRead(observed: AnnaClient, payloads: PutTuple[], reader: AnnaClient): Promise<void> {
    const session = observed.causalSession({ scope: "multi-key" });
    for (let index = 0; index < 20; index++) await session.put(`chain-${index}`, `c${index}`);
    const dependenciesOf = (put: PutTuple) => decodeMultiCausal(put.payload).dependencies.length;
    // Written back to back, each write lists the ones before it (not yet stable).
    expect(dependenciesOf(payloads[payloads.length - 1])).toBeGreaterThan(5);
    const lastStamp = Date.now() * 1000;
    await waitFor(
      async () => (await stableNow("probe")) > lastStamp,
      STABLE_WAIT_MS,
      () => "not stable yet",
    );
    // The session learns the stable time from its next answer; the write after that lists nothing stable.
    await session.get("chain-0");
    await session.put("after", "a");
    expect(dependenciesOf(payloads[payloads.length - 1])).toBe(0);
    expect(session.stateSize.keyCount).toBeLessThanOrEqual(2);
    // A new client's reader, with an empty cut, reads the chain's last value in one round: what it depends on is stable.
    const fresh = reader.causalSession({ scope: "multi-key", maxDependencyRounds: 1 });
    expect((await fresh.get("chain-19")).map(text)).toEqual(["c19"]);
    expect((await fresh.get("chain-0")).map(text)).toEqual(["c0"]);
  }
});

/** A causal-multi-key-lww write as a session stamps it, at `stampMicros` in `epoch`. */
function stampedLwwPut(key: string, stampMicros: number, epoch: number): PutTuple {
  const payload = encodeCausalLww({
    stampMicros,
    baseMicros: 0,
    writer: utf8.encode("hand"),
    dependencyStamps: [],
    value: utf8.encode("v"),
    epoch,
    baseEpoch: 0,
  });
  return { key, type: LatticeType.LWW, payload };
}

/** A multi-key write as a session stamps it, at `stampMicros` in `epoch`. */
function stampedPut(key: string, stampMicros: number, epoch: number): PutTuple {
  const writer = utf8.encode("hand");
  const value = utf8.encode("v");
  const stamped = encodeStamped({
    stampMicros,
    baseMicros: 0,
    writer,
    dependencyStamps: [],
    value,
    epoch,
    baseEpoch: 0,
  });
  const element = encodeEnvelope({ clock: toVectorClock([{ key: writer, value: 1 }]), value: stamped });
  return {
    key,
    type: LatticeType.MULTI_CAUSAL,
    payload: encodeMultiCausal({ vectorClock: { hand: 1 }, dependencies: [], values: [element] }),
  };
}
