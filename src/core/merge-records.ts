/**
 * Merging records that came from other replicas, in bounded pieces: one store batch of
 * MERGE ops per chunk of at most MERGE_CHUNK_BYTES (a bigger record goes alone), so the
 * input region asked of the store stays small however many records a burst of gossip
 * holds. A store close to its memory limit may refuse even that region: the chunk is then
 * merged record by record, and a record that still finds no room is answered
 * OUT_OF_MEMORY without stopping the others. Both engines, one implementation.
 */
import { BATCH_HEADER_BYTES, BatchWriter, opBytes, Opcode, RESULT_HEADER_BYTES, StoreRecord } from "./batch";
import { Status, StoreError } from "./status";
import type { Store } from "./store";

/**
 * Batch bytes per chunk: one Wasm page, the input region a store holds anyway (see
 * WasmStore's INPUT_BYTES_MIN), so merging never grows it for records that fit a page.
 */
export const MERGE_CHUNK_BYTES = 64 * 1024;

/** Merges `records` in order; returns each one's status (Status values), in the same order. */
export function mergeRecords(
  store: Store,
  records: readonly StoreRecord[],
  chunkBytesMax: number = MERGE_CHUNK_BYTES,
): Uint8Array {
  if (!(Number.isSafeInteger(chunkBytesMax) && chunkBytesMax > 0))
    throw new RangeError(`chunkBytesMax must be a positive integer, got ${chunkBytesMax}`);
  const statuses = new Uint8Array(records.length);
  let first = 0;
  while (first < records.length) {
    let end = first + 1;
    let batchBytes = BATCH_HEADER_BYTES + recordOpBytes(records[first]);
    while (end < records.length && batchBytes + recordOpBytes(records[end]) <= chunkBytesMax)
      batchBytes += recordOpBytes(records[end++]);
    if (!mergeChunk(store, records, first, end, batchBytes, statuses)) {
      for (let index = first; index < end; index++) {
        const alone =
          end - first > 1 &&
          mergeChunk(store, records, index, index + 1, BATCH_HEADER_BYTES + recordOpBytes(records[index]), statuses);
        if (!alone) statuses[index] = Status.OUT_OF_MEMORY;
      }
    }
    first = end;
  }
  return statuses;
}

function recordOpBytes(record: StoreRecord): number {
  return opBytes(record.key.length, record.payload.length);
}

/**
 * One batch of MERGE ops for records [first, end), their statuses written into `statuses`;
 * false, with nothing merged, when the store has no memory for the batch itself.
 */
function mergeChunk(
  store: Store,
  records: readonly StoreRecord[],
  first: number,
  end: number,
  batchBytes: number,
  statuses: Uint8Array,
): boolean {
  let output: Uint8Array;
  try {
    const writer = new BatchWriter(store.batchBuffer(batchBytes));
    for (let index = first; index < end; index++)
      writer.add(Opcode.MERGE, records[index].type, records[index].key, records[index].payload);
    output = store.executeBatchInPlace(writer.finish());
  } catch (error) {
    if (error instanceof StoreError && error.code === "OUT_OF_MEMORY") return false;
    throw error;
  }
  // A MERGE's result carries no payload: the results are fixed-size headers.
  const count = end - first;
  if (output.length !== BATCH_HEADER_BYTES + count * RESULT_HEADER_BYTES)
    throw new Error(`merge batch of ${count} ops gave ${output.length} bytes of results`);
  for (let op = 0; op < count; op++) statuses[first + op] = output[BATCH_HEADER_BYTES + op * RESULT_HEADER_BYTES];
  return true;
}
