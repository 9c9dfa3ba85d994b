import { decodeGossipFrame, factorsFrame, factorsSettledFrame, factorsSnapshotFrame, GossipFrameKind, handoffAckFrame, handoffFrame, recordsFrame } from "../../src/actor/gossip-frame";
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
    expect(decoded.records.map((r) => [Buffer.from(r.key).toString(), [...r.payload]])).toEqual([["a", [1, 2]], ["b", [3]]]);

    const handoff = decodeGossipFrame(handoffFrame("tcp://10.0.0.7:6251", 0xfffffffe, [record("k", [9])]));
    expect(handoff).toMatchObject({ kind: GossipFrameKind.HANDOFF, sender: "tcp://10.0.0.7:6251", handoffId: 0xfffffffe });
    if (handoff.kind === GossipFrameKind.HANDOFF) expect(handoff.records.map((r) => Buffer.from(r.key).toString())).toEqual(["k"]);
    expect(decodeGossipFrame(handoffAckFrame("tcp://[::1]:6253", 42))).toEqual({ kind: GossipFrameKind.HANDOFF_ACK, sender: "tcp://[::1]:6253", handoffId: 42 });
    const factors = [
      { key: "hot", factor: 16, version: 7 },
      { key: "ключ", factor: 1, version: 2 ** 40 },
    ];
    expect(decodeGossipFrame(factorsFrame(factors))).toEqual({ kind: GossipFrameKind.FACTORS, factors });
    expect(decodeGossipFrame(factorsSettledFrame(2 ** 40))).toEqual({ kind: GossipFrameKind.FACTORS_SETTLED, version: 2 ** 40 });
    expect(decodeGossipFrame(factorsSnapshotFrame(9, factors))).toEqual({ kind: GossipFrameKind.FACTORS_SNAPSHOT, version: 9, factors });
    expect(decodeGossipFrame(factorsSnapshotFrame(0, []))).toEqual({ kind: GossipFrameKind.FACTORS_SNAPSHOT, version: 0, factors: [] });
  });

  it.each([
    ["an empty frame", new Uint8Array(0), "empty gossip frame"],
    ["an unknown kind", Uint8Array.of(9, 0, 0), "unknown gossip frame kind 9"],
    ["a cut handoff header", Uint8Array.of(GossipFrameKind.HANDOFF, 1, 0), "shorter than its header"],
    ["a handoff cut inside its address", Uint8Array.of(GossipFrameKind.HANDOFF, 9, 0, 0x61, 0, 0, 0, 0), "inside its sender address"],
    ["an ack naming no sender", Uint8Array.of(GossipFrameKind.HANDOFF_ACK, 0, 0, 1, 0, 0, 0), "inside its sender address"],
    ["an ack with trailing bytes", Uint8Array.of(GossipFrameKind.HANDOFF_ACK, 1, 0, 0x61, 1, 0, 0, 0, 5), "trailing bytes"],
    ["a record cut short", recordsFrame([record("key", [1, 2, 3])]).subarray(0, 12), "ends inside a record"],
    ["factors claiming too many entries", Uint8Array.of(GossipFrameKind.FACTORS, 0xff, 0xff, 0xff, 0xff), "claims 4294967295 entries"],
    ["a factors entry cut short", factorsFrame([{ key: "k".repeat(30), factor: 2, version: 1 }, { key: "a", factor: 2, version: 1 }, { key: "b", factor: 2, version: 1 }]).subarray(0, 59), "ends inside an entry"],
    ["a factors key cut short", factorsFrame([{ key: "k".repeat(30), factor: 2, version: 1 }]).subarray(0, 30), "ends inside a key"],
    ["a factor of zero", factorsFrame([{ key: "k", factor: 2, version: 1 }]).fill(0, 10, 12), "bad factor entry"],
    ["a key that is not UTF-8", factorsFrame([{ key: "k", factor: 2, version: 1 }]).fill(0xff, 9, 10), "not valid"],
    ["a snapshot cut inside its version", factorsSnapshotFrame(3, []).subarray(0, 6), "snapshot shorter than its header"],
    ["a snapshot cut inside its count", factorsSnapshotFrame(3, []).subarray(0, 11), "shorter than its header"],
    ["a snapshot claiming more entries than it has", factorsSnapshotFrame(3, [{ key: "k", factor: 2, version: 1 }]).subarray(0, 20), "claims 1 entries"],
    ["a settled version cut short", factorsSettledFrame(3).subarray(0, 5), "factors-settled frame of 5 bytes"],
    ["a settled version that is not a version", Buffer.from(factorsSettledFrame(3)).fill(0xff, 1, 9), "bad settled version"],
  ])("refuses %s", (_name, frame, message) => {
    expect(() => decodeGossipFrame(frame)).toThrow(message);
  });
});
