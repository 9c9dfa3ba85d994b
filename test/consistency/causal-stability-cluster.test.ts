/**
 * The stable time of a cluster (docs/causal-stability.md §7; three node processes on
 * 127.0.0.1-3, global replication 2): every node reports one in one epoch, the hash of its
 * members, so a session's writes stop listing what every replica holds; when a member
 * dies the survivors name a new epoch and their stable time starts anew in it, and a
 * session keeps listing what it wrote in the old epoch above that epoch's last stable time,
 * however far the new one goes (the epoch rule: the dead member may have taken such a
 * version with it).
 */
import { AnnaClient } from "../../src/client/anna-client";
import { stampedValuesOf } from "../../src/lattices/causal-stamp";
import { decodeMultiCausal } from "../../src/lattices/values";
import type { PutTuple } from "../../src/consistency/transport";
import { ClusterNode, startCluster, waitForCluster } from "../support/cluster";
import { waitFor } from "../support/node-process";
import { PORT_OFFSETS } from "../support/ports";

const portOffset = PORT_OFFSETS.consistencyStabilityCluster;
/**
 * The stable time trails the clock by about this plus a few ticks. Long enough that what a
 * test writes in a row stays unstable while it writes, however loaded the machine: at 50 ms
 * (a trail of ~80 ms), 8 writes in a row on a loaded CI machine once took longer, and the
 * last listed 3 of the 7 before it.
 */
const ACCEPT_LAG_MS = 1000;
/** Members' bounds travel by `stability` message between heartbeats; a wait of several heartbeats (500 ms) is ample. */
const STABLE_WAIT_MS = 10_000;
/** Keys read to hear from every node (each key on two of the three). */
const PROBE_KEYS = Array.from({ length: 24 }, (_, index) => `probe-${index}`);

describe("the stable time of a cluster", () => {
  let nodes: ClusterNode[];
  let client: AnnaClient;
  /** Every PUT the observed client sends, in order. */
  const sent: PutTuple[] = [];
  let observed: AnnaClient;

  beforeAll(async () => {
    nodes = await startCluster(3, { portOffset, args: [`--causal-accept-lag-ms=${ACCEPT_LAG_MS}`] });
    const routingAddresses = nodes.map((node) => node.routingAddress);
    client = new AnnaClient({ routingAddresses, timeoutMs: 1000, maxAttempts: 4 });
    observed = new AnnaClient({ routingAddresses, timeoutMs: 1000, maxAttempts: 4 });
    const send = observed.putManySettled.bind(observed);
    observed.putManySettled = (puts, options) => {
      sent.push(...puts);
      return send(puts, options);
    };
  }, 60_000);

  afterAll(async () => {
    await observed?.close();
    await client?.close();
    for (const node of nodes ?? []) await node.process.stop("SIGKILL");
  });

  /** What the nodes answering reads of the probe keys report: each epoch named, and the least stable time. */
  async function reports(): Promise<{ epochs: Set<number>; leastStableMicros: number }> {
    const values = await client.getMany(PROBE_KEYS, { absentAsValues: true });
    const answers = [...values.values()];
    return {
      epochs: new Set(answers.map((value) => value?.stableEpoch ?? 0)),
      leastStableMicros: Math.min(...answers.map((value) => value?.stableMicros ?? 0)),
    };
  }

  /** Waits until every answer names one epoch (other than `not`) and a stable time above `micros`; returns the epoch. */
  async function stableAbove(micros: number, not = 0): Promise<number> {
    let last = { epochs: new Set<number>(), leastStableMicros: 0 };
    await waitFor(
      async () => {
        last = await reports();
        return last.epochs.size === 1 && !last.epochs.has(not) && last.leastStableMicros > micros;
      },
      STABLE_WAIT_MS,
      () => `epochs ${[...last.epochs]}, least stable time ${last.leastStableMicros} µs, wanted above ${micros} µs`,
    );
    return [...last.epochs][0];
  }

  /** The dependency stamps of the last PUT of `key` sent, as `key@epoch`. */
  function listedOf(key: string): string[] {
    const put = [...sent].reverse().find((tuple) => tuple.key === key)!;
    const [stamped] = stampedValuesOf(put.payload)!;
    const decoder = new TextDecoder();
    return stamped.dependencyStamps.map(({ key, epoch }) => `${decoder.decode(key)}@${epoch}`);
  }

  it("is reported by every node in one epoch, and a session's writes stop listing what every replica holds", async () => {
    const epoch = await stableAbove(0);
    expect(epoch).toBeGreaterThan(0);
    // Each node sends its bound to the others as it rises, not only in its heartbeat (docs/causal-stability.md §10).
    for (const node of nodes) expect((await node.status()).cluster.membershipStabilityMessagesSent).toBeGreaterThan(0);
    const session = observed.causalSession({ scope: "multi-key" });
    for (let index = 0; index < 8; index++) await session.put(`chain-${index}`, `c${index}`);
    expect(decodeMultiCausal(sent[sent.length - 1].payload).dependencies.length).toBe(7);
    expect(stampedValuesOf(sent[sent.length - 1].payload)![0].epoch).toBe(epoch);
    await stableAbove(Date.now() * 1000);
    // The first write learns the stable time from its answer; the next lists nothing then stable: the chain is gone.
    await session.put("learn", "l");
    await session.put("after", "a");
    expect(listedOf("after")).toEqual([`learn@${epoch}`]);
  }, 60_000);

  it("starts anew in a new epoch when a member dies, and keeps listing what was written above the old one's", async () => {
    const before = await stableAbove(0);
    const session = observed.causalSession({ scope: "multi-key" });
    await session.put("doomed-a", "a");
    await session.put("doomed-b", "b");
    const writtenMicros = Date.now() * 1000;
    // Killed within a heartbeat of the writes: no member's bound in the old epoch reaches them.
    await nodes[2].process.stop("SIGKILL");
    const survivors = nodes.slice(0, 2);
    await waitForCluster(survivors, 2);
    const after = await stableAbove(writtenMicros, before);
    expect(after).not.toBe(before);
    // The first write learns the new epoch's stable time, far past the doomed writes; the next still lists them.
    await session.put("learn-new", "l");
    await session.put("after-death", "d");
    expect(listedOf("after-death")).toEqual(
      expect.arrayContaining([`doomed-a@${before}`, `doomed-b@${before}`, `learn-new@${after}`]),
    );
    expect(stampedValuesOf(sent[sent.length - 1].payload)![0].epoch).toBe(after);
    // The session reads on in the new epoch: its replicas' stable time covers what it requires.
    expect((await session.get("after-death")).map((bytes) => new TextDecoder().decode(bytes))).toEqual(["d"]);
  }, 90_000);
});
