/** Membership messages: what is encoded decodes the same; anything malformed is refused with a reason. */
import { Lifecycle, MemberEntry, Suspicion } from "../../src/cluster/member";
import {
  decodeMembershipMessage,
  encodeMembershipMessage,
  MEMBERSHIP_FRAME_BYTES_MAX,
} from "../../src/cluster/messages";

const entry: MemberEntry = {
  id: "10.0.0.2:6350",
  incarnation: 1_796_000_000_000,
  lifecycle: Lifecycle.JOINING,
  suspicion: Suspicion.NONE,
  heartbeat: 7,
  data: {
    host: "10.0.0.2",
    portOffset: 0,
    threads: 4,
    localReplication: 1,
    keyCount: 12,
    synced: { "10.0.0.3:6350": 5 },
    factors: { version: 2, factors: [{ key: "hot", local: 4, global: 2 }] },
    stability: { heldMicros: 1_796_000_000_000_000, epoch: 12_345_678_901 },
  },
};

describe("membership messages", () => {
  it.each([
    { kind: "join" as const, from: entry.id, clusterName: "annakv", globalReplication: 2, entry },
    { kind: "welcome" as const, from: "10.0.0.1:6350", members: [entry] },
    { kind: "refused" as const, from: "10.0.0.1:6350", reason: "--global-replication 3 differs from this cluster's 2" },
    {
      kind: "gossip" as const,
      from: "10.0.0.1:6350",
      clusterName: "annakv",
      members: [entry, { ...entry, id: "10.0.0.1:6350", lifecycle: Lifecycle.ALIVE }],
    },
    {
      kind: "stability" as const,
      from: "10.0.0.1:6350",
      clusterName: "annakv",
      incarnation: 1_796_000_000_000,
      epoch: 12_345_678_901,
      heldMicros: 1_796_000_000_000_000,
    },
  ])("round-trips a $kind message", (message) => {
    expect(decodeMembershipMessage(encodeMembershipMessage(message))).toEqual(message);
  });

  it("reads an entry without a held bound (a node from before the stable time) as one with none", () => {
    const { stability: _left, ...older } = entry.data;
    const decoded = decodeMembershipMessage(
      json({ kind: "welcome", from: "a:1", members: [{ ...entry, data: older }] }),
    );
    expect(decoded.kind === "welcome" && decoded.members[0].data.stability).toEqual({ heldMicros: 0, epoch: 0 });
  });

  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  it.each([
    ["bytes that are not JSON", Buffer.from("{nope"), "not JSON"],
    ["an array instead of a message", json([1]), "message must be an object"],
    ["an unknown kind", json({ kind: "steal", from: "a:1" }), "unknown membership message kind"],
    [
      "a message without a sender",
      json({ kind: "gossip", clusterName: "annakv", members: [] }),
      "from must be a string",
    ],
    [
      "a lifecycle past LEFT",
      json({ kind: "welcome", from: "a:1", members: [{ ...entry, lifecycle: 9 }] }),
      "lifecycle must be an integer",
    ],
    [
      "a negative heartbeat",
      json({ kind: "welcome", from: "a:1", members: [{ ...entry, heartbeat: -1 }] }),
      "heartbeat must be an integer",
    ],
    [
      "more local replicas than actors",
      json({ kind: "welcome", from: "a:1", members: [{ ...entry, data: { ...entry.data, localReplication: 5 } }] }),
      "localReplication is above",
    ],
    [
      "a factor of zero",
      json({
        kind: "welcome",
        from: "a:1",
        members: [
          { ...entry, data: { ...entry.data, factors: { version: 1, factors: [{ key: "k", local: 0, global: 1 }] } } },
        ],
      }),
      "factor.local must be",
    ],
    [
      "a negative held bound",
      json({
        kind: "welcome",
        from: "a:1",
        members: [{ ...entry, data: { ...entry.data, stability: { heldMicros: -1, epoch: 1 } } }],
      }),
      "data.stability.heldMicros must be",
    ],
    [
      "an epoch past 2^53",
      json({
        kind: "welcome",
        from: "a:1",
        members: [{ ...entry, data: { ...entry.data, stability: { heldMicros: 1, epoch: 2 ** 60 } } }],
      }),
      "data.stability.epoch must be",
    ],
    [
      "a stability message without an epoch",
      json({ kind: "stability", from: "a:1", clusterName: "annakv", incarnation: 1, heldMicros: 5 }),
      "epoch must be an integer",
    ],
    [
      "a stability message with a fractional bound",
      json({ kind: "stability", from: "a:1", clusterName: "annakv", incarnation: 1, epoch: 2, heldMicros: 0.5 }),
      "heldMicros must be an integer",
    ],
    ["a frame over the bound", Buffer.alloc(MEMBERSHIP_FRAME_BYTES_MAX + 1, 0x20), "membership frame of"],
  ])("refuses %s", (_name, frame, reason) => {
    expect(() => decodeMembershipMessage(frame)).toThrow(reason);
  });
});
