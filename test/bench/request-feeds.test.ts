/**
 * The scaling bench's request feeds (bench/scaling/request-feeds.ts): whatever the stream,
 * the resident feed hands the core the very batches the copied feed writes, and it really
 * leaves the payload bytes of an update-only stream where they lie. Seeded streams; replay
 * another with ANNAKV_SEED=<seed>.
 */
import { decodeBatchResults } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { Status } from "../../src/core/status";
import type { Store } from "../../src/core/store";
import { LatticeType } from "../../src/lattices/lattice-type";
import { RequestFeed, RequestFeedName } from "../../bench/scaling/request-feeds";
import { GET_FLAG, lwwPayload, lwwPayloadBytes, LWW_TIMESTAMP_OFFSET, valuePool } from "../../bench/scaling/requests";
import { KeySpace, Prng, TIMESTAMP_BASE } from "../../bench/workload";

const SEED = process.env.ANNAKV_SEED !== undefined ? Number(process.env.ANNAKV_SEED) : 20261206;
const KEY_COUNT = 50;
const BATCH_OPS = 40;
const VALUE_BYTES = 200;

interface Fed {
  store: Store;
  feed: RequestFeed;
}

function fed(name: RequestFeedName, keys: KeySpace, requests: Uint32Array): Fed {
  const payloads = valuePool(new Prng(SEED), VALUE_BYTES).map((value) => lwwPayload(TIMESTAMP_BASE, value));
  const store = createStore({ engine: "wasm" });
  for (let index = 0; index < KEY_COUNT; index++) store.put(keys.key(index), LatticeType.LWW, payloads[0]);
  return { store, feed: new RequestFeed(name, store, keys, payloads, requests, BATCH_OPS) };
}

/** `count` requests over the keys; a GET with probability `getShare`. */
function stream(random: Prng, count: number, getShare: number): Uint32Array {
  return Uint32Array.from(
    { length: count },
    () => (random.int(KEY_COUNT) | (random.next() < getShare ? GET_FLAG : 0)) >>> 0,
  );
}

describe.each([
  ["update-only", 0],
  ["mixed", 0.3],
])("the resident feed, on a %s stream", (_, getShare) => {
  it(`writes and runs the batches the copied feed does (seed ${SEED})`, () => {
    const random = new Prng(SEED);
    const keys = new KeySpace(KEY_COUNT, 8);
    // Not a multiple of the batch: batches wrap around the stream at different places.
    const requests = stream(random, BATCH_OPS * 3 + 7, getShare);
    const copied = fed("copied", keys, requests);
    const resident = fed("resident", keys, requests);
    let timestamp = TIMESTAMP_BASE + 1;
    for (let batch = 0; batch < 12; batch++) {
      if (batch === 5) {
        // Reads write their key into the input region: the feed is told and copies again.
        resident.store.get(keys.key(3));
        resident.feed.forget();
      }
      const length = copied.feed.writeBatch(timestamp, 2);
      expect(resident.feed.writeBatch(timestamp, 2)).toBe(length);
      expect(resident.feed.putCount).toBe(copied.feed.putCount);
      timestamp += 2 * copied.feed.putCount;
      expect(resident.store.batchBuffer(length)).toEqual(copied.store.batchBuffer(length));
      const copiedResults = decodeBatchResults(copied.store.executeBatchInPlace(length));
      const residentResults = decodeBatchResults(resident.store.executeBatchInPlace(length));
      expect(residentResults).toEqual(copiedResults);
      expect(copiedResults.every((result) => result.status === Status.OK)).toBe(true);
    }
    for (let index = 0; index < KEY_COUNT; index++)
      expect(resident.store.get(keys.key(index))).toEqual(copied.store.get(keys.key(index)));
  });
});

it("leaves an update-only stream's payloads in place and stamps only their timestamps", () => {
  const keys = new KeySpace(KEY_COUNT, 8);
  const requests = stream(new Prng(SEED), BATCH_OPS * 2, 0);
  const resident = fed("resident", keys, requests);
  const length = resident.feed.writeBatch(TIMESTAMP_BASE + 1, 1);
  const lastByte = length - 1;
  const changed = resident.store.batchBuffer(length)[lastByte] ^ 0xff;
  resident.store.batchBuffer(length)[lastByte] = changed;
  const timestampAt = length - lwwPayloadBytes(VALUE_BYTES) + LWW_TIMESTAMP_OFFSET;
  const stampedBefore = resident.store.batchBuffer(length).slice(timestampAt, timestampAt + 5);
  expect(resident.feed.writeBatch(TIMESTAMP_BASE + 1 + BATCH_OPS, 1)).toBe(length);
  const after = resident.store.batchBuffer(length);
  // The changed value byte was not written over; the timestamp before it was.
  expect(after[lastByte]).toBe(changed);
  expect(after.slice(timestampAt, timestampAt + 5)).not.toEqual(stampedBefore);
});
