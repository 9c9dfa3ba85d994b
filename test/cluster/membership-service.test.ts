/**
 * Two membership services on real sockets, with a heartbeat too long to come during a test:
 * a node's held bound reaches the other between heartbeats, by `stability` message
 * (docs/causal-stability.md §10), and a message that names an incarnation or a cluster the
 * table does not hold is dropped. They bind 127.0.50.1–2, hosts no other test uses, so
 * the default membership port is free there.
 */
import { MembershipService, memberId } from "../../src/cluster/membership-service";
import { encodeMembershipMessage, MembershipMessage } from "../../src/cluster/messages";
import { SEED_PORT } from "../../src/protocol/ports";
import { tcpAddress } from "../../src/protocol/zmtp/endpoint";
import { ZmtpPushPool } from "../../src/protocol/zmtp/push-pool";
import { waitFor } from "../support/node-process";

const WAIT_MS = 10_000;

const HEARTBEAT_MS = 600_000;
const EPOCH = 42;

function service(host: string, seeds: string[]): MembershipService {
  return new MembershipService({
    selfId: memberId(host, SEED_PORT),
    bindAddress: tcpAddress(host, SEED_PORT),
    ownData: { host, portOffset: 0, threads: 1, localReplication: 1 },
    seeds,
    clusterName: "annakv",
    globalReplication: 1,
    failureTimeoutMs: 10 * HEARTBEAT_MS,
    joinTimeoutMs: 10_000,
    heartbeatMs: HEARTBEAT_MS,
    keyCount: () => 0,
    log: () => {},
    onLayout: () => {},
  });
}

describe("membership service: held bounds between heartbeats", () => {
  const first = service("127.0.50.1", []);
  const second = service("127.0.50.2", [memberId("127.0.50.1", SEED_PORT)]);
  const firstId = memberId("127.0.50.1", SEED_PORT);
  const secondId = memberId("127.0.50.2", SEED_PORT);
  const forger = new ZmtpPushPool({
    maxSockets: 1,
    idleCloseMs: 60_000,
    maxQueuedBytes: 1 << 20,
    lingerMs: 1000,
    handshakeTimeoutMs: 5000,
  });

  beforeAll(async () => {
    await first.start();
    await second.start();
    await waitFor(
      () => first.table.get(secondId) !== undefined && second.table.get(firstId) !== undefined,
      WAIT_MS,
      () => `waited for each service to hold the other`,
    );
  });

  afterAll(async () => {
    forger.close();
    await second.stop(1000);
    await first.stop(1000);
  });

  const incarnationOf = (id: string) => first.table.get(id)!.incarnation;

  it("hears a member's bound rise, twice, while that member's heartbeat stands still", async () => {
    const heartbeatBefore = second.table.get(firstId)!.heartbeat;
    first.setStability({ heldMicros: 1_000, epoch: EPOCH });
    await waitFor(
      () => second.heldBoundOf(firstId, incarnationOf(firstId), EPOCH) === 1_000,
      WAIT_MS,
      () => `waited for the first bound at the second service`,
    );
    // The second rise comes within the first's period: it waits for it, then goes too.
    first.setStability({ heldMicros: 2_000, epoch: EPOCH });
    await waitFor(
      () => second.heldBoundOf(firstId, incarnationOf(firstId), EPOCH) === 2_000,
      WAIT_MS,
      () => `waited for the second bound at the second service`,
    );
    const entry = second.table.get(firstId)!;
    expect(entry.heartbeat).toBe(heartbeatBefore);
    expect(entry.data.stability).toEqual({ heldMicros: 0, epoch: 0 });
    expect(second.heldBoundOf(firstId, incarnationOf(firstId), EPOCH + 1)).toBeUndefined();
  });

  it("drops a bound that names another incarnation or another cluster", async () => {
    const incarnation = incarnationOf(firstId);
    const send = (message: Partial<Extract<MembershipMessage, { kind: "stability" }>>) =>
      forger.send(
        `tcp://${secondId}`,
        encodeMembershipMessage({
          kind: "stability",
          from: firstId,
          clusterName: "annakv",
          incarnation,
          epoch: EPOCH + 5,
          heldMicros: 50,
          ...message,
        }),
      );
    send({});
    send({ incarnation: incarnation - 1, heldMicros: 70 });
    send({ clusterName: "elsewhere", heldMicros: 80 });
    // Frames of one connection arrive in order: once this last one (of another member) is
    // heard, the ones before it were judged.
    send({ from: secondId, incarnation: incarnationOf(secondId), heldMicros: 1 });
    await waitFor(
      () => second.heldBoundOf(secondId, incarnationOf(secondId), EPOCH + 5) === 1,
      WAIT_MS,
      () => `waited for the last message at the second service`,
    );
    expect(second.heldBoundOf(firstId, incarnation, EPOCH + 5)).toBe(50);
  });
});
