/**
 * The batch writers of src/core/batch.ts: an op written header by header (writeOpHeader,
 * writeBatchHeader, key and payload placed by the caller) is byte for byte the op that
 * BatchWriter and encodeBatch write, and both engines run it alike.
 */
import {
  BATCH_HEADER_BYTES,
  decodeBatchResults,
  encodeBatch,
  Opcode,
  OP_HEADER_BYTES,
  opBytes,
  writeBatchHeader,
  writeOpHeader,
} from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { Status } from "../../src/core/status";
import { LatticeType } from "../../src/lattices/lattice-type";

const text = new TextEncoder();
/** LWWValue { timestamp = 7, value = "seven" }. */
const PAYLOAD = Uint8Array.from([0x08, 0x07, 0x12, 0x05, ...text.encode("seven")]);
const PUT_KEY = text.encode("put-key");
const GET_KEY = text.encode("get");

/** A PUT then a GET of its key, each written header first with its bytes placed by hand. */
function writtenByHeaders(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = BATCH_HEADER_BYTES;
  let keyAt = writeOpHeader(view, offset, Opcode.PUT, LatticeType.LWW, PUT_KEY.length, PAYLOAD.length);
  expect(keyAt).toBe(offset + OP_HEADER_BYTES);
  bytes.set(PUT_KEY, keyAt);
  bytes.set(PAYLOAD, keyAt + PUT_KEY.length);
  offset += opBytes(PUT_KEY.length, PAYLOAD.length);
  keyAt = writeOpHeader(view, offset, Opcode.GET, LatticeType.LWW, PUT_KEY.length, 0);
  bytes.set(PUT_KEY, keyAt);
  offset += opBytes(PUT_KEY.length, 0);
  writeBatchHeader(view, 2);
  return offset;
}

const ENCODED = encodeBatch([
  { opcode: Opcode.PUT, type: LatticeType.LWW, key: PUT_KEY, payload: PAYLOAD },
  { opcode: Opcode.GET, type: LatticeType.LWW, key: PUT_KEY },
]);

describe("writeOpHeader and writeBatchHeader", () => {
  it("write the bytes encodeBatch writes", () => {
    const bytes = new Uint8Array(ENCODED.length + 16).fill(0xee);
    const length = writtenByHeaders(bytes.subarray(8));
    expect(length).toBe(ENCODED.length);
    expect(bytes.subarray(8, 8 + length)).toEqual(ENCODED);
    expect(bytes.subarray(0, 8).every((byte) => byte === 0xee)).toBe(true);
    expect(bytes.subarray(8 + length).every((byte) => byte === 0xee)).toBe(true);
  });

  it("leave a payload already in place untouched", () => {
    const bytes = new Uint8Array(BATCH_HEADER_BYTES + opBytes(GET_KEY.length, PAYLOAD.length));
    const payloadAt = BATCH_HEADER_BYTES + OP_HEADER_BYTES + GET_KEY.length;
    bytes.set(PAYLOAD, payloadAt);
    const view = new DataView(bytes.buffer);
    bytes.set(GET_KEY, writeOpHeader(view, BATCH_HEADER_BYTES, Opcode.PUT, LatticeType.LWW, 3, PAYLOAD.length));
    writeBatchHeader(view, 1);
    expect(bytes.subarray(payloadAt)).toEqual(PAYLOAD);
    expect(bytes).toEqual(encodeBatch([{ opcode: Opcode.PUT, type: LatticeType.LWW, key: GET_KEY, payload: PAYLOAD }]));
  });

  it.each(["wasm", "ts"] as const)("write a batch the %s engine runs in place", (engine) => {
    const store = createStore({ engine });
    const length = writtenByHeaders(store.batchBuffer(ENCODED.length));
    const results = decodeBatchResults(store.executeBatchInPlace(length));
    expect(results.map((result) => result.status)).toEqual([Status.OK, Status.OK]);
    expect(results[1].payload).toEqual(PAYLOAD);
  });
});
