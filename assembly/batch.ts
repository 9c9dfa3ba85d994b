// The batch call (docs/wasm-abi.md, "Batch format"): the whole framing is checked before
// any operation runs, then the operations run in order with their results in the output.
import { inputPtr, reserveOutput, setOutputToBuffer } from "./buffers";
import { beginDeferring, endDeferring } from "./deferred";
import { BAD_BATCH, LWW, OK, OUT_OF_MEMORY } from "./status";
import { xxh64 } from "./hash";
import { findValue, foundValueLength, foundValuePtr, putValue, removeValue, resultType } from "./store";
import { isSuperseded } from "./superseded";
import { WARM_GROUP, warmLookups } from "./table";

// @ts-ignore: decorator
@inline const BATCH_HEADER_BYTES: u64 = 4;
// @ts-ignore: decorator
@inline const OP_HEADER_BYTES: u64 = 10;
// @ts-ignore: decorator
@inline const RESULT_HEADER_BYTES: u64 = 6;
const OP_GET: u8 = 1;
const OP_PUT: u8 = 2;
const OP_DELETE: u8 = 3;
const OP_MERGE: u8 = 4;
/** Per operation of the warm group: its key's hash (not for a superseded one). */
const warmHashes: usize = memory.data(<i32>WARM_GROUP * 8, 8);
/** The hashes of the group's keys to look up, one after the other. */
const warmList: usize = memory.data(<i32>WARM_GROUP * 8, 8);
/** Per operation of the warm group: 1 when the next operation supersedes it (superseded.ts). */
const supersededFlags: usize = memory.data(<i32>WARM_GROUP, 1);

function isWellFramed(ptr: usize, length: u64): bool {
  if (length < BATCH_HEADER_BYTES) return false;
  const opCount = <u64>load<u32>(ptr);
  if (opCount * OP_HEADER_BYTES > length - BATCH_HEADER_BYTES) return false;
  let offset = BATCH_HEADER_BYTES;
  for (let op: u64 = 0; op < opCount; op++) {
    if (length - offset < OP_HEADER_BYTES) return false;
    const opcode = load<u8>(ptr + <usize>offset);
    if (opcode < OP_GET || opcode > OP_MERGE) return false;
    const keyLength = <u64>load<u32>(ptr + <usize>offset, 2);
    const payloadLength = <u64>load<u32>(ptr + <usize>offset, 6);
    if ((opcode == OP_GET || opcode == OP_DELETE) && payloadLength != 0) return false;
    offset += OP_HEADER_BYTES + keyLength + payloadLength;
    if (offset > length) return false;
  }
  return offset == length;
}

function writeResultHeader(pos: usize, status: u32, type: u32, payloadLength: u32): void {
  store<u8>(pos, <u8>status);
  store<u8>(pos, <u8>type, 1);
  store<u32>(pos, payloadLength, 2);
}

/** Runs a GET into the output at `outputBytes`; returns the output's new length. */
function runGet(keyHash: u64, keyPtr: usize, keyLength: u32, outputBytes: u64, laterHeaderBytes: u64): u64 {
  let output = reserveOutput(0, 0);
  const status = findValue(keyHash, keyPtr, keyLength, true);
  if (status != OK) {
    writeResultHeader(output + <usize>outputBytes, status, 0, 0);
    return outputBytes + RESULT_HEADER_BYTES;
  }
  const valueLength = foundValueLength();
  const needed = outputBytes + RESULT_HEADER_BYTES + valueLength + laterHeaderBytes;
  output = reserveOutput(needed, outputBytes);
  if (output == 0) {
    output = reserveOutput(0, 0);
    writeResultHeader(output + <usize>outputBytes, OUT_OF_MEMORY, 0, 0);
    return outputBytes + RESULT_HEADER_BYTES;
  }
  writeResultHeader(output + <usize>outputBytes, OK, resultType, valueLength);
  memory.copy(output + <usize>(outputBytes + RESULT_HEADER_BYTES), foundValuePtr(), valueLength);
  return outputBytes + RESULT_HEADER_BYTES + valueLength;
}

/** Whether the operation at `pos` is a client's LWW PUT (the writes superseded.ts looks at). */
// @ts-ignore: decorator
@inline function isLwwPut(pos: usize): bool {
  return load<u8>(pos) == OP_PUT && <u32>load<u8>(pos, 1) == LWW;
}

/**
 * Whether the client's LWW PUT of `keyLength` key bytes at `keyPtr` is superseded by the
 * operation at `nextPos`, if that is one (superseded.ts).
 */
function supersededByNext(keyPtr: usize, keyLength: u32, payloadLength: u32, nextPos: usize): bool {
  if (!isLwwPut(nextPos)) return false;
  const nextKeyLength = load<u32>(nextPos, 2);
  const nextKeyPtr = nextPos + <usize>OP_HEADER_BYTES;
  return isSuperseded(
    keyPtr, keyLength, keyPtr + keyLength, payloadLength,
    nextKeyPtr, nextKeyLength, nextKeyPtr + nextKeyLength, load<u32>(nextPos, 6),
  );
}

/**
 * Prepares the `count` operations from `pos`, the last of the batch when `endsBatch`: marks
 * in supersededFlags those the next operation supersedes, which are neither hashed nor
 * looked up, hashes the others' keys into warmHashes (where the operations take them from)
 * and warms their lookups.
 */
function prepareGroup(pos: usize, count: u32, endsBatch: bool): void {
  let warmed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const keyLength = load<u32>(pos, 2);
    const payloadLength = load<u32>(pos, 6);
    const keyPtr = pos + <usize>OP_HEADER_BYTES;
    const next = keyPtr + keyLength + payloadLength;
    const superseded = isLwwPut(pos) && !(endsBatch && i + 1 == count) && supersededByNext(keyPtr, keyLength, payloadLength, next);
    store<u8>(supersededFlags + <usize>i, <u8>superseded);
    if (!superseded) {
      const hash = xxh64(keyPtr, keyLength);
      store<u64>(warmHashes + (<usize>i << 3), hash);
      store<u64>(warmList + (<usize>warmed << 3), hash);
      warmed++;
    }
    pos = next;
  }
  warmLookups(warmList, warmed);
}

/** Writes `count` results of superseded writes from `start` in the output, with `status`. */
function writeSupersededResults(start: u64, count: u32, status: u32): void {
  const results = reserveOutput(0, 0) + <usize>start;
  for (let i: u32 = 0; i < count; i++) writeResultHeader(results + <usize>(i * <u32>RESULT_HEADER_BYTES), status, 0, 0);
}

/** Runs the batch of `inputLength` bytes at the input region; the caller checked it lies inside. */
export function runBatch(inputLength: u32): u32 {
  const input = inputPtr;
  if (!isWellFramed(input, inputLength)) return BAD_BATCH;
  const opCount = <u64>load<u32>(input);
  let output = reserveOutput(BATCH_HEADER_BYTES + opCount * RESULT_HEADER_BYTES, 0);
  if (output == 0) return OUT_OF_MEMORY;
  store<u32>(output, <u32>opCount);
  beginDeferring();
  let outputBytes = BATCH_HEADER_BYTES;
  let pos = input + <usize>BATCH_HEADER_BYTES;
  // Superseded writes just before this operation, answered with the status of the write
  // that ends their run; their results start at supersededStart.
  let supersededRun: u32 = 0;
  let supersededStart: u64 = 0;
  for (let op: u64 = 0; op < opCount; op++) {
    const member = <u32>(op % WARM_GROUP);
    if (member == 0) prepareGroup(pos, <u32>min<u64>(WARM_GROUP, opCount - op), op + WARM_GROUP >= opCount);
    const keyHash = load<u64>(warmHashes + (<usize>member << 3));
    const opcode = load<u8>(pos);
    const type = <u32>load<u8>(pos, 1);
    const keyLength = load<u32>(pos, 2);
    const payloadLength = load<u32>(pos, 6);
    const keyPtr = pos + <usize>OP_HEADER_BYTES;
    pos = keyPtr + keyLength + payloadLength;
    if (opcode == OP_GET) {
      outputBytes = runGet(keyHash, keyPtr, keyLength, outputBytes, (opCount - op - 1) * RESULT_HEADER_BYTES);
      continue;
    }
    if (load<u8>(supersededFlags + <usize>member) != 0) {
      if (supersededRun == 0) supersededStart = outputBytes;
      supersededRun++;
      outputBytes += RESULT_HEADER_BYTES;
      continue;
    }
    const status = opcode == OP_DELETE
      ? removeValue(keyHash, keyPtr, keyLength, true)
      : putValue(type, keyHash, keyPtr, keyLength, keyPtr + keyLength, payloadLength, opcode == OP_PUT, true);
    if (supersededRun > 0) {
      writeSupersededResults(supersededStart, supersededRun, status);
      supersededRun = 0;
    }
    writeResultHeader(reserveOutput(0, 0) + <usize>outputBytes, status, 0, 0);
    outputBytes += RESULT_HEADER_BYTES;
  }
  endDeferring();
  setOutputToBuffer(<u32>outputBytes);
  return OK;
}
