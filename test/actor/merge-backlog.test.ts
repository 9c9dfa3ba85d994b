/**
 * The merges an actor owes (src/actor/merge-backlog.ts): the backlog's bounds on its own,
 * then the gossip handler at the memory limit on both engines: a value that does not fit
 * stops none of the others, is owed, counted, logged and merged once room frees, and a
 * handoff carrying it stays unacknowledged.
 */
import { GossipContext, newGossipState } from "../../src/actor/gossip-context";
import { decodeGossipFrame, GossipFrameKind, handoffFrame, recordsFrame } from "../../src/actor/gossip-frame";
import { handleGossipFrames, sendDirtyKeys } from "../../src/actor/handlers/gossip";
import { MERGE_RETRY_INTERVAL_MS, MergeBacklog } from "../../src/actor/merge-backlog";
import { emptyCounters } from "../../src/actor/stats";
import { RECORD_HEADER_BYTES, StoreRecord, writeRecord } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import type { EngineName } from "../../src/core/store";
import { decodeLww, encodeLww, LatticeType } from "../../src/lattices";
import { ClusterPlacement } from "../../src/routing/cluster-placement";
import { singleNodeLayout } from "../../src/routing/layout";

const lww = (timestamp: number, value: string | Buffer) => encodeLww({ timestamp, value });
const record = (key: string, payload: Uint8Array): StoreRecord => ({
  type: LatticeType.LWW,
  key: Buffer.from(key),
  payload,
});
const recordBytes = (key: string, payload: Uint8Array) => RECORD_HEADER_BYTES + Buffer.byteLength(key) + payload.length;

describe("MergeBacklog", () => {
  it("holds copies, joins what is owed for one key, and takes them out for a retry", () => {
    const backlog = new MergeBacklog();
    const frame = Buffer.from(lww(2, "newer"));
    expect(backlog.owe(record("k", frame), 100)).toBe("held");
    frame.fill(0);
    expect(backlog.owe(record("k", lww(1, "older")), 100)).toBe("held");
    expect(backlog.owe(record("j", lww(1, "j")), 100)).toBe("held");
    expect(backlog.keyCount).toBe(2);
    expect(backlog.bytesHeld).toBe(recordBytes("k", lww(2, "newer")) + recordBytes("j", lww(1, "j")));
    const held = backlog.takeHeld(0);
    expect(held.map(({ key, payload }) => [Buffer.from(key).toString(), decodeLww(payload).timestamp])).toEqual([
      ["k", 2n],
      ["j", 1n],
    ]);
    expect(backlog.keyCount).toBe(0);
    expect(backlog.bytesHeld).toBe(0);
  });

  it("keeps only the key past its byte cap, nothing past its key cap, and counts both drops", () => {
    const backlog = new MergeBacklog(recordBytes("a", lww(1, "a")), 2);
    expect(backlog.owe(record("a", lww(1, "a")), 0)).toBe("held");
    expect(backlog.owe(record("b", lww(1, "b")), 0)).toBe("value-dropped");
    expect(backlog.owe(record("c", lww(1, "c")), 0)).toBe("key-dropped");
    expect(backlog.keyCount).toBe(2);
    expect(backlog.valuesDropped).toBe(2);
    // A key owed without its value is settled by any merge of it; a held one waits for its retry.
    backlog.merged(Buffer.from("b"));
    backlog.merged(Buffer.from("a"));
    expect(backlog.keyCount).toBe(1);
    expect(backlog.takeHeld(0)).toHaveLength(1);
  });

  it("is due for a retry once the store shrank, or once the interval passed", () => {
    const backlog = new MergeBacklog();
    expect(backlog.retryDue(0, 0)).toBe(false);
    backlog.owe(record("k", lww(1, "v")), 1000);
    expect(backlog.retryDue(0, 1000)).toBe(true);
    backlog.takeHeld(0);
    backlog.owe(record("k", lww(1, "v")), 1000);
    expect(backlog.retryDue(1, 1000)).toBe(false);
    expect(backlog.retryDue(1, 999)).toBe(true);
    expect(backlog.retryDue(MERGE_RETRY_INTERVAL_MS, 1000)).toBe(true);
  });
});

describe.each<EngineName>(["wasm", "ts"])("gossip at the memory limit (%s engine)", (engine) => {
  const VALUE_BYTES = 60 * 1024;
  const big = (timestamp: number) => lww(timestamp, Buffer.alloc(VALUE_BYTES, 96 + timestamp));
  const part = (key: string, payload: Uint8Array) => {
    const bytes = new Uint8Array(recordBytes(key, payload));
    writeRecord(bytes, 0, LatticeType.LWW, Buffer.from(key), payload);
    return bytes;
  };

  function fullActor(): {
    context: GossipContext;
    sent: Array<[string, Uint8Array]>;
    logged: string[];
    keys: string[];
  } {
    const sent: Array<[string, Uint8Array]> = [];
    const logged: string[] = [];
    const placement = new ClusterPlacement(singleNodeLayout("127.0.0.1", 0, 2, 2));
    const context: GossipContext = {
      tid: 0,
      store: createStore({ engine, limits: { maxMemoryBytes: 4 * 1024 * 1024 } }),
      placement,
      peers: { send: (address, frame) => sent.push([address, frame]) },
      counters: emptyCounters(),
      state: newGossipState(),
      gossipPageBytes: 1 << 20,
      gossipAddress: (peer) => `actor-${peer}`,
      selfAddress: "actor-0",
      reportBadFrame: (reason) => {
        throw new Error(reason);
      },
      log: (level, message) => logged.push(`${level}: ${message}`),
    };
    const keys: string[] = [];
    for (let owed = 0; owed === 0;) {
      handleGossipFrames(context, [recordsFrame([part(`full-${keys.length}`, big(1))])]);
      owed = context.counters.mergeKeysOwed;
      if (owed === 0) keys.push(`full-${keys.length}`);
    }
    expect(keys.length).toBeGreaterThan(40);
    // The last one did not fit: it is owed.
    expect(context.store.get(`full-${keys.length}`)).toBeUndefined();
    return { context, sent, logged, keys };
  }

  it("merges what fits, owes the rest, says so, and merges it once room frees", () => {
    const { context, sent, logged, keys } = fullActor();
    const owedKey = `full-${keys.length}`;
    handleGossipFrames(context, [recordsFrame([part("new", big(2)), part(keys[0], big(2)), part(keys[1], big(2))])]);
    // The values that fit (newer values of stored keys, in place) went in around the one that did not.
    for (const key of keys.slice(0, 2)) expect(decodeLww(context.store.get(key)!.payload).timestamp).toBe(2n);
    expect(context.store.get("new")).toBeUndefined();
    expect(context.counters.mergeKeysOwed).toBe(2);
    expect(context.counters.mergeValuesDropped).toBe(0);
    expect(logged.join("\n")).toMatch(
      /^warn: actor 0 could not merge 1 value\(s\) from its replicas for memory and is a degraded replica: 1 key\(s\) owed/m,
    );
    // A handoff with a value that does not fit stays unacknowledged (its sender sends it again); one that fits is acknowledged.
    handleGossipFrames(context, [
      handoffFrame("actor-1", 7, [part("handed-off", big(3))]),
      handoffFrame("actor-1", 8, [part(keys[2], big(3))]),
    ]);
    const acks = sent
      .map(([, frame]) => decodeGossipFrame(frame))
      .filter((frame) => frame.kind === GossipFrameKind.HANDOFF_ACK);
    expect(acks.map((frame) => (frame as { handoffId: number }).handoffId)).toEqual([8]);
    expect(context.counters.mergeKeysOwed).toBe(3);
    // Room frees: the next gossip tick merges what was owed.
    for (const key of keys.slice(10, 20)) context.store.delete(key);
    sendDirtyKeys(context);
    expect(context.counters.mergeKeysOwed).toBe(0);
    for (const key of [owedKey, "new", "handed-off"]) expect(context.store.get(key)).toBeDefined();
    expect(logged[logged.length - 1]).toBe("info: actor 0 merged every value it owed its replicas: no longer degraded");
  });
});
