import {
  decodeGossipFrame,
  digestsFrame,
  GossipFrameKind,
  handoffAckFrame,
  handoffFrame,
  recordsFrame,
} from "../../src/actor/gossip-frame";
import { RECORD_HEADER_BYTES, writeRecord } from "../../src/core/batch";
import { LatticeType } from "../../src/lattices/lattice-type";

function record(key: string, payload: number[]): Uint8Array {
  const keyBytes = new TextEncoder().encode(key);
  const out = new Uint8Array(RECORD_HEADER_BYTES + keyBytes.length + payload.length);
  writeRecord(out, 0, LatticeType.LWW, keyBytes, Uint8Array.from(payload));
  return out;
}

describe("gossip frames", () => {
  it("round-trip records, handoffs and acks", () => {
    const records = recordsFrame([record("a", [1, 2]), record("b", [3])]);
    const decoded = decodeGossipFrame(records);
    expect(decoded.kind).toBe(GossipFrameKind.RECORDS);
    if (decoded.kind !== GossipFrameKind.RECORDS) return;
    expect(decoded.records.map((r) => [Buffer.from(r.key).toString(), [...r.payload]])).toEqual([
      ["a", [1, 2]],
      ["b", [3]],
    ]);

    const handoff = decodeGossipFrame(handoffFrame("tcp://10.0.0.7:6251", 0xfffffffe, [record("k", [9])]));
    expect(handoff).toMatchObject({
      kind: GossipFrameKind.HANDOFF,
      sender: "tcp://10.0.0.7:6251",
      handoffId: 0xfffffffe,
    });
    if (handoff.kind === GossipFrameKind.HANDOFF)
      expect(handoff.records.map((r) => Buffer.from(r.key).toString())).toEqual(["k"]);
    expect(decodeGossipFrame(handoffAckFrame("tcp://[::1]:6253", 42))).toEqual({
      kind: GossipFrameKind.HANDOFF_ACK,
      sender: "tcp://[::1]:6253",
      handoffId: 42,
    });
    const digest = Uint32Array.from({ length: 16 }, (_, i) => (i * 0x9e3779b1) >>> 0);
    expect(decodeGossipFrame(digestsFrame("tcp://10.0.0.7:6251", digest))).toEqual({
      kind: GossipFrameKind.DIGESTS,
      sender: "tcp://10.0.0.7:6251",
      digest,
    });
    const remote = decodeGossipFrame(recordsFrame([record("a", [1])], GossipFrameKind.REMOTE_RECORDS));
    expect(remote.kind).toBe(GossipFrameKind.REMOTE_RECORDS);
  });

  it.each([
    ["an empty frame", new Uint8Array(0), "empty gossip frame"],
    ["an unknown kind", Uint8Array.of(9, 0, 0), "unknown gossip frame kind 9"],
    ["a cut handoff header", Uint8Array.of(GossipFrameKind.HANDOFF, 1, 0), "shorter than its header"],
    [
      "a handoff cut inside its address",
      Uint8Array.of(GossipFrameKind.HANDOFF, 9, 0, 0x61, 0, 0, 0, 0),
      "inside its sender address",
    ],
    [
      "an ack naming no sender",
      Uint8Array.of(GossipFrameKind.HANDOFF_ACK, 0, 0, 1, 0, 0, 0),
      "inside its sender address",
    ],
    [
      "an ack with trailing bytes",
      Uint8Array.of(GossipFrameKind.HANDOFF_ACK, 1, 0, 0x61, 1, 0, 0, 0, 5),
      "trailing bytes",
    ],
    ["a record cut short", recordsFrame([record("key", [1, 2, 3])]).subarray(0, 12), "ends inside a record"],
    [
      "digests of a length other than their count says",
      digestsFrame("tcp://a:1", new Uint32Array(8)).subarray(0, 30),
      "digests frame of",
    ],
    ["a frame of a retired kind (4: numbered factors)", Uint8Array.of(4, 0, 0, 0, 0), "unknown gossip frame kind 4"],
  ])("refuses %s", (_name, frame, message) => {
    expect(() => decodeGossipFrame(frame)).toThrow(message);
  });
});
