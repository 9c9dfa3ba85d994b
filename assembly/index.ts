// The exported ABI of build/annakv.wasm, documented in docs/wasm-abi.md. Every export
// takes and returns i32 (lengths unsigned) or f64: no BigInt crosses the boundary.
import { memoryBytes as linearMemoryBytes, setMaxMemoryPages, WASM_PAGES_MAX } from "./arena";
import { runBatch } from "./batch";
import {
  inputHolds, inputPtr, outputLength as lastOutputLength, outputPtr as lastOutputPtr, reserveInput, setOutput,
} from "./buffers";
import { clearAllDirty, dirtyCount as dirtyKeyCount, dirtyListBytes } from "./dirty";
import { xxh64 } from "./hash";
import { supersededWriteCount } from "./superseded";
import { answerRequests, countRequestTuples, readRequestFrames, reserveRequestTable } from "./requests";
import { BAD_BATCH, LATTICE, MALFORMED, OK } from "./status";
import {
  drainDirtyRecords, getValue, maxKeyBytes, putValue, removeValue, resultType as lastResultType, scanRecords, setLimits,
} from "./store";
import { keyCount as storedKeyCount, tableBytes } from "./table";

const ABI_VERSION: i32 = 8;
const LENGTH_MAX: u32 = 0x7fffffff;
const hashOutput: usize = memory.data(8, 8);

export function abiVersion(): i32 {
  return ABI_VERSION;
}

/** mergeHeadroomPages: the pages of the limit a PUT may not take (docs/wasm-abi.md); 0 when left out. */
export function configure(maxKeyBytes: u32, maxValueBytes: u32, maxMemoryPages: u32, mergeHeadroomPages: u32): u32 {
  if (maxKeyBytes == 0 || maxKeyBytes > LENGTH_MAX || maxValueBytes == 0 || maxValueBytes > LENGTH_MAX) return LATTICE;
  if (maxMemoryPages > WASM_PAGES_MAX || !setMaxMemoryPages(maxMemoryPages, mergeHeadroomPages)) return LATTICE;
  setLimits(maxKeyBytes, maxValueBytes);
  return OK;
}

export function inputBuffer(bytes: u32): usize {
  return reserveInput(bytes);
}

export function outputPtr(): usize {
  return lastOutputPtr;
}

export function outputLength(): u32 {
  return lastOutputLength;
}

export function resultType(): u32 {
  return lastResultType;
}

/** The hash of the key at the input region, or 0 when the store will refuse it unread. */
function inputKeyHash(keyLength: u32, inRegion: bool): u64 {
  return inRegion && keyLength <= maxKeyBytes ? xxh64(inputPtr, keyLength) : 0;
}

export function get(keyLength: u32): u32 {
  const inRegion = inputHolds(keyLength);
  return getValue(inputKeyHash(keyLength, inRegion), inputPtr, keyLength, inRegion);
}

export function put(latticeType: u32, keyLength: u32, payloadLength: u32): u32 {
  const inRegion = inputHolds(<u64>keyLength + payloadLength);
  return putValue(latticeType, inputKeyHash(keyLength, inRegion), inputPtr, keyLength, inputPtr + keyLength, payloadLength, true, inRegion);
}

export function merge(latticeType: u32, keyLength: u32, payloadLength: u32): u32 {
  const inRegion = inputHolds(<u64>keyLength + payloadLength);
  return putValue(latticeType, inputKeyHash(keyLength, inRegion), inputPtr, keyLength, inputPtr + keyLength, payloadLength, false, inRegion);
}

export function remove(keyLength: u32): u32 {
  const inRegion = inputHolds(keyLength);
  return removeValue(inputKeyHash(keyLength, inRegion), inputPtr, keyLength, inRegion);
}

export function batch(inputLength: u32): u32 {
  if (!inputHolds(inputLength)) return BAD_BATCH;
  return runBatch(inputLength);
}

/** Returns the record count, or 0xFFFFFFFF (-1) when not even one record fits in memory. */
export function drainDirty(maxBytes: u32): u32 {
  return drainDirtyRecords(maxBytes);
}

/** Clears every dirty mark without writing records (no replica to tell); returns how many. */
export function discardDirty(): u32 {
  return clearAllDirty();
}

export function dirtyCount(): u32 {
  return dirtyKeyCount;
}

/** Returns the next cursor (0: over), or 0xFFFFFFFF (-1) when not even one record fits in memory. */
export function scan(cursor: u32, maxBytes: u32): u32 {
  return scanRecords(cursor, maxBytes);
}

export function keyCount(): u32 {
  return storedKeyCount;
}

export function bytesUsed(): f64 {
  return <f64>(tableBytes() + dirtyListBytes());
}

/** PUTs of batches that the next PUT of their key superseded (assembly/superseded.ts). */
export function supersededWrites(): f64 {
  return <f64>supersededWriteCount;
}

export function memoryBytes(): f64 {
  return <f64>linearMemoryBytes();
}

/** The request table's address (docs/wasm-abi.md, "Serving KeyRequests"), holding at least these rows; 0 when memory is short. */
export function requestTable(requests: u32, tuples: u32): usize {
  return reserveRequestTable(requests, tuples);
}

/** The tuple rows parseRequests will need for the frames in the input region (at most), or 0xFFFFFFFF (-1). */
export function countRequests(inputLength: u32, frameCount: u32, maxTuplesPerRequest: u32): u32 {
  if (!inputHolds(inputLength)) return 0xffffffff;
  return countRequestTuples(inputPtr, inputLength, frameCount, maxTuplesPerRequest);
}

/** Reads `frameCount` length-prefixed KeyRequest frames from the input region into the table; returns the tuple rows used, or 0xFFFFFFFF (-1). */
export function parseRequests(inputLength: u32, frameCount: u32, maxTuplesPerRequest: u32): u32 {
  if (!inputHolds(inputLength)) return 0xffffffff;
  return readRequestFrames(inputPtr, inputLength, frameCount, maxTuplesPerRequest);
}

/** Answers the table's first `requestCount` requests marked to serve; their KeyResponses go to the output. */
export function serveRequests(requestCount: u32): u32 {
  return answerRequests(requestCount);
}

export function hashKey(keyLength: u32): u32 {
  if (!inputHolds(keyLength)) return MALFORMED;
  store<u64>(hashOutput, xxh64(inputPtr, keyLength));
  setOutput(hashOutput, 8);
  return OK;
}
