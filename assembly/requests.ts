// Anna's KeyRequests served inside the core (docs/wasm-abi.md, "Serving KeyRequests"):
// the host copies a burst of request frames into the input region; parseRequests reads
// them into the request table (one i32 column per field, spans as addresses into the
// input); the host decides each tuple's fate in the table (placement, limits); then
// serveRequests runs every tuple left with no error against the store and writes each
// request's KeyResponse into the output. The host's own reader and writer
// (src/protocol/key-frames.ts) follow the same rules, byte for byte.
import { allocPages, freePages, pagesFor, PAGE_BYTES } from "./arena";
import { reserveOutput, setOutputToBuffer } from "./buffers";
import { BAD, fieldLength, fieldNumber, fieldPtr, fieldValue, readField, varintBytes, WIRE_LEN, WIRE_VARINT, wireType, writeVarint } from "./codec";
import { xxh64 } from "./hash";
import { NOT_FOUND, OK, OUT_OF_MEMORY } from "./status";
import { findValue, foundValueLength, foundValuePtr, putValue, resultType } from "./store";
import { WARM_GROUP, warmLookups } from "./table";

// ---- the table: request columns, then tuple columns, each `capacity` i32s ----

const enum RequestColumn {
  STATUS, // PARSED, or why the frame is not a KeyRequest
  TYPE,
  FIRST_TUPLE,
  TUPLES_READ,
  TUPLE_COUNT,
  ADDRESS_START,
  ADDRESS_LENGTH,
  ID_START,
  ID_LENGTH,
  ERROR, // set by the host: the whole request's error
  SERVE, // set by the host: 1 to answer the request
  RESPONSE_START, // set by serveRequests: offset in the output
  RESPONSE_LENGTH,
  PUT_ACKS, // annakv's extension put_acks: uint32 bits, 0 when absent
}
// @ts-ignore: decorator
@inline const REQUEST_COLUMNS: u32 = RequestColumn.PUT_ACKS + 1;

const enum TupleColumn {
  KEY_START,
  KEY_LENGTH,
  LATTICE_TYPE,
  ERROR,
  PAYLOAD_START,
  PAYLOAD_LENGTH,
  ADDRESS_CACHE_SIZE,
  INVALIDATE,
  STATUS, // set by serveRequests: the store's status
  HASH_HIGH, // the key's xxHash64, for the host's placement and the store
  HASH_LOW,
}
// @ts-ignore: decorator
@inline const TUPLE_COLUMNS: u32 = TupleColumn.HASH_LOW + 1;

// RequestColumn.STATUS values.
const PARSED: i32 = 0;
const MALFORMED_FIELD: i32 = 1;
const KEY_NOT_UTF8: i32 = 2;

// anna.proto numbers.
const REQUEST_GET: i32 = 1;
const REQUEST_PUT: i32 = 2;
/** KeyRequest's put_acks, annakv's extension of Anna's protocol. */
const REQUEST_PUT_ACKS_FIELD: u64 = 15;
const ANNA_NO_ERROR: i32 = 0;
const ANNA_KEY_DNE: i32 = 1;
const ANNA_LATTICE: i32 = 4;

let tablePtr: usize = 0;
let tableBytes: u64 = 0;
let requestCapacity: u32 = 0;
let tupleCapacity: u32 = 0;

/**
 * Makes the table hold exactly `requests` request rows and `tuples` tuple rows (the
 * columns' lengths, so the host knows where each starts); returns its address, or 0 when
 * memory is short. The contents are not kept.
 */
export function reserveRequestTable(requests: u32, tuples: u32): usize {
  if (tablePtr != 0 && requests == requestCapacity && tuples == tupleCapacity) return tablePtr;
  const bytes = (<u64>requests * REQUEST_COLUMNS + <u64>tuples * TUPLE_COLUMNS) * 4;
  const pages = pagesFor(max<u64>(bytes, 1));
  const ptr = allocPages(pages);
  if (ptr == 0) return 0;
  if (tablePtr != 0) freePages(tablePtr, pagesFor(tableBytes));
  tablePtr = ptr;
  tableBytes = pages * PAGE_BYTES;
  requestCapacity = requests;
  tupleCapacity = tuples;
  return ptr;
}

// @ts-ignore: decorator
@inline function requestCell(column: u32, row: u32): usize {
  return tablePtr + ((<usize>column * requestCapacity + row) << 2);
}

// @ts-ignore: decorator
@inline function tupleCell(column: u32, row: u32): usize {
  return tablePtr + ((<usize>REQUEST_COLUMNS * requestCapacity + <usize>column * tupleCapacity + row) << 2);
}

// @ts-ignore: decorator
@inline function getRequest(column: u32, row: u32): i32 {
  return load<i32>(requestCell(column, row));
}

// @ts-ignore: decorator
@inline function setRequest(column: u32, row: u32, value: i32): void {
  store<i32>(requestCell(column, row), value);
}

// @ts-ignore: decorator
@inline function getTuple(column: u32, row: u32): i32 {
  return load<i32>(tupleCell(column, row));
}

// @ts-ignore: decorator
@inline function setTuple(column: u32, row: u32, value: i32): void {
  store<i32>(tupleCell(column, row), value);
}

// ---- reading ----

/** Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as Node's isUtf8. */
function isUtf8(ptr: usize, length: u32): bool {
  const end = ptr + length;
  while (ptr < end) {
    if (end - ptr >= 8 && (load<u64>(ptr) & 0x8080808080808080) == 0) {
      ptr += 8;
      continue;
    }
    const lead = <u32>load<u8>(ptr);
    if (lead < 0x80) {
      ptr++;
      continue;
    }
    let extra: u32;
    let low: u32 = 0x80;
    let high: u32 = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) extra = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      if (lead == 0xe0) low = 0xa0;
      else if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      if (lead == 0xf0) low = 0x90;
      else if (lead == 0xf4) high = 0x8f;
    } else return false;
    if (<usize>extra >= end - ptr) return false;
    const second = <u32>load<u8>(ptr, 1);
    if (second < low || second > high) return false;
    for (let i: u32 = 2; i <= extra; i++) {
      const next = <u32>load<u8>(ptr + i);
      if (next < 0x80 || next > 0xbf) return false;
    }
    ptr += 1 + extra;
  }
  return true;
}

/** An int32 enum keeps the varint's low 32 bits. */
// @ts-ignore: decorator
@inline function enumValue(): i32 {
  return <i32>fieldValue;
}

/** Reads one KeyTuple's fields from [pos, end) into tuple row `row`; returns PARSED or why not. */
function readTuple(pos: usize, end: usize, row: u32): i32 {
  setTuple(TupleColumn.KEY_START, row, 0);
  setTuple(TupleColumn.KEY_LENGTH, row, 0);
  setTuple(TupleColumn.LATTICE_TYPE, row, 0);
  setTuple(TupleColumn.ERROR, row, ANNA_NO_ERROR);
  setTuple(TupleColumn.PAYLOAD_START, row, 0);
  setTuple(TupleColumn.PAYLOAD_LENGTH, row, 0);
  setTuple(TupleColumn.ADDRESS_CACHE_SIZE, row, 0);
  setTuple(TupleColumn.INVALIDATE, row, 0);
  setTuple(TupleColumn.STATUS, row, OK);
  setTuple(TupleColumn.HASH_HIGH, row, 0);
  setTuple(TupleColumn.HASH_LOW, row, 0);
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) return MALFORMED_FIELD;
    const field = fieldNumber;
    if (field == 1 || field == 4) {
      if (!wireTypeIs(WIRE_LEN)) return MALFORMED_FIELD;
      if (field == 1) {
        if (!isUtf8(fieldPtr, fieldLength)) return KEY_NOT_UTF8;
        setTuple(TupleColumn.KEY_START, row, <i32>fieldPtr);
        setTuple(TupleColumn.KEY_LENGTH, row, <i32>fieldLength);
      } else {
        setTuple(TupleColumn.PAYLOAD_START, row, <i32>fieldPtr);
        setTuple(TupleColumn.PAYLOAD_LENGTH, row, <i32>fieldLength);
      }
    } else if (field == 2 || field == 3 || field == 5 || field == 6) {
      if (!wireTypeIs(WIRE_VARINT)) return MALFORMED_FIELD;
      if (field == 2) setTuple(TupleColumn.LATTICE_TYPE, row, enumValue());
      else if (field == 3) setTuple(TupleColumn.ERROR, row, enumValue());
      else if (field == 5) setTuple(TupleColumn.ADDRESS_CACHE_SIZE, row, <i32>fieldValue);
      else setTuple(TupleColumn.INVALIDATE, row, <u32>fieldValue != 0 ? 1 : 0);
    }
  }
  // The empty key too: a tuple without one is still placed (as the empty key).
  const hash = xxh64(<usize>getTuple(TupleColumn.KEY_START, row), <u32>getTuple(TupleColumn.KEY_LENGTH, row));
  setTuple(TupleColumn.HASH_HIGH, row, <i32>(hash >> 32));
  setTuple(TupleColumn.HASH_LOW, row, <i32>hash);
  return PARSED;
}

// @ts-ignore: decorator
@inline function wireTypeIs(expected: u32): bool {
  return wireType == expected;
}

/**
 * Reads the KeyRequest in [pos, pos + length) into request row `row`, its tuples from
 * tuple row `firstTuple` (at most `rowsLeft` of them); returns the tuple rows it used (0
 * when the frame is not a KeyRequest: RequestColumn.STATUS says why), or 0xFFFFFFFF past `rowsLeft`.
 */
function readRequest(pos: usize, length: u32, row: u32, firstTuple: u32, maxTuples: u32, rowsLeft: u32): u32 {
  const end = pos + length;
  setRequest(RequestColumn.STATUS, row, PARSED);
  setRequest(RequestColumn.TYPE, row, 0);
  setRequest(RequestColumn.FIRST_TUPLE, row, <i32>firstTuple);
  setRequest(RequestColumn.TUPLES_READ, row, 0);
  setRequest(RequestColumn.TUPLE_COUNT, row, 0);
  setRequest(RequestColumn.ADDRESS_START, row, 0);
  setRequest(RequestColumn.ADDRESS_LENGTH, row, 0);
  setRequest(RequestColumn.ID_START, row, 0);
  setRequest(RequestColumn.ID_LENGTH, row, 0);
  setRequest(RequestColumn.ERROR, row, ANNA_NO_ERROR);
  setRequest(RequestColumn.SERVE, row, 0);
  setRequest(RequestColumn.RESPONSE_START, row, 0);
  setRequest(RequestColumn.RESPONSE_LENGTH, row, 0);
  setRequest(RequestColumn.PUT_ACKS, row, 0);
  let tupleCount: u32 = 0;
  let status = PARSED;
  while (pos < end) {
    pos = readField(pos, end);
    if (pos == BAD) {
      status = MALFORMED_FIELD;
      break;
    }
    const field = fieldNumber;
    if (field == 1 || field == REQUEST_PUT_ACKS_FIELD) {
      if (!wireTypeIs(WIRE_VARINT)) {
        status = MALFORMED_FIELD;
        break;
      }
      // put_acks is a uint32: like every uint32 field, it keeps the varint's low 32 bits.
      if (field == 1) setRequest(RequestColumn.TYPE, row, enumValue());
      else setRequest(RequestColumn.PUT_ACKS, row, <i32>fieldValue);
    } else if (field >= 2 && field <= 4) {
      if (!wireTypeIs(WIRE_LEN)) {
        status = MALFORMED_FIELD;
        break;
      }
      if (field == 2) {
        // Tuples past maxTuples are counted, their framing checked, not read.
        if (tupleCount++ < maxTuples) {
          // The host sized the table by countRequestTuples; a row past it would be a bug.
          if (tupleCount > rowsLeft) return 0xffffffff;
          status = readTuple(fieldPtr, fieldPtr + fieldLength, firstTuple + tupleCount - 1);
          if (status != PARSED) break;
        }
      } else if (field == 3) {
        setRequest(RequestColumn.ADDRESS_START, row, <i32>fieldPtr);
        setRequest(RequestColumn.ADDRESS_LENGTH, row, <i32>fieldLength);
      } else {
        setRequest(RequestColumn.ID_START, row, <i32>fieldPtr);
        setRequest(RequestColumn.ID_LENGTH, row, <i32>fieldLength);
      }
    }
  }
  setRequest(RequestColumn.STATUS, row, status);
  if (status != PARSED) return 0;
  const read = min<u32>(tupleCount, maxTuples);
  setRequest(RequestColumn.TUPLE_COUNT, row, <i32>tupleCount);
  setRequest(RequestColumn.TUPLES_READ, row, <i32>read);
  return read;
}

/**
 * The tuple rows parsing the `frameCount` frames at `input` will use at most: per frame,
 * its top-level tuple fields up to `maxTuples` (up to its first bad field); 0xFFFFFFFF
 * when the frames overrun the input.
 */
export function countRequestTuples(input: usize, inputLength: u32, frameCount: u32, maxTuples: u32): u32 {
  let pos = input;
  const end = input + inputLength;
  let tuples: u64 = 0;
  for (let row: u32 = 0; row < frameCount; row++) {
    if (end - pos < 4) return 0xffffffff;
    const length = load<u32>(pos);
    pos += 4;
    if (<usize>length > end - pos) return 0xffffffff;
    const frameEnd = pos + length;
    let frameTuples: u32 = 0;
    while (pos < frameEnd && frameTuples < maxTuples) {
      pos = readField(pos, frameEnd);
      if (pos == BAD) break;
      if (fieldNumber == 2 && wireType == WIRE_LEN) frameTuples++;
    }
    tuples += frameTuples;
    pos = frameEnd;
  }
  return <u32>min<u64>(tuples, 0xfffffffe);
}

/**
 * Reads the `frameCount` frames in the input at `input` (each a u32 length, then its
 * bytes; `inputLength` bytes in all) into the table; returns the tuple rows used, or
 * 0xFFFFFFFF when the frames overrun the input or the table is too small for them
 * (countRequestTuples says how many rows they need).
 */
export function readRequestFrames(input: usize, inputLength: u32, frameCount: u32, maxTuples: u32): u32 {
  if (frameCount > requestCapacity) return 0xffffffff;
  let pos = input;
  const end = input + inputLength;
  let tuples: u32 = 0;
  for (let row: u32 = 0; row < frameCount; row++) {
    if (end - pos < 4) return 0xffffffff;
    const length = load<u32>(pos);
    pos += 4;
    if (<usize>length > end - pos) return 0xffffffff;
    const read = readRequest(pos, length, row, tuples, maxTuples, tupleCapacity - tuples);
    if (read == 0xffffffff) return 0xffffffff;
    tuples += read;
    pos += length;
  }
  return tuples;
}

// ---- serving ----

const groupHashes: usize = memory.data(<i32>WARM_GROUP * 8, 8);

// @ts-ignore: decorator
@inline function tupleHash(tuple: u32): u64 {
  // Loaded as u32: a cast of the i32 getTuple to u32 and then u64 compiled to a sign-extending load.
  const high = <u64>load<u32>(tupleCell(TupleColumn.HASH_HIGH, tuple));
  const low = <u64>load<u32>(tupleCell(TupleColumn.HASH_LOW, tuple));
  return (high << 32) | low;
}

function annaError(status: u32): i32 {
  if (status == OK) return ANNA_NO_ERROR;
  return status == NOT_FOUND ? ANNA_KEY_DNE : ANNA_LATTICE;
}

/** Runs request row `row`'s tuples that have no error, in groups whose lookups are warmed together. */
function runTuples(row: u32): void {
  const isGet = getRequest(RequestColumn.TYPE, row) == REQUEST_GET;
  const first = <u32>getRequest(RequestColumn.FIRST_TUPLE, row);
  const end = first + <u32>getRequest(RequestColumn.TUPLES_READ, row);
  let tuple = first;
  while (tuple < end) {
    // The next group: up to WARM_GROUP tuples to run, hashed and warmed together.
    let groupEnd = tuple;
    let count: u32 = 0;
    while (groupEnd < end && count < WARM_GROUP) {
      if (getTuple(TupleColumn.ERROR, groupEnd) == ANNA_NO_ERROR) {
        store<u64>(groupHashes + (<usize>count << 3), tupleHash(groupEnd));
        count++;
      }
      groupEnd++;
    }
    warmLookups(groupHashes, count);
    let hashIndex: u32 = 0;
    for (; tuple < groupEnd; tuple++) {
      if (getTuple(TupleColumn.ERROR, tuple) != ANNA_NO_ERROR) continue;
      const hash = load<u64>(groupHashes + (<usize>hashIndex << 3));
      hashIndex++;
      const keyPtr = <usize>getTuple(TupleColumn.KEY_START, tuple);
      const keyLength = <u32>getTuple(TupleColumn.KEY_LENGTH, tuple);
      let status: u32;
      if (isGet) {
        status = findValue(hash, keyPtr, keyLength, true);
        if (status == OK) {
          // The stored value is written into the response from where it lies: no request
          // in a burst both reads and writes, so it stays put until then.
          setTuple(TupleColumn.LATTICE_TYPE, tuple, <i32>resultType);
          setTuple(TupleColumn.PAYLOAD_START, tuple, <i32>foundValuePtr());
          setTuple(TupleColumn.PAYLOAD_LENGTH, tuple, <i32>foundValueLength());
        } else setTuple(TupleColumn.PAYLOAD_LENGTH, tuple, 0);
      } else {
        const type = <u32>getTuple(TupleColumn.LATTICE_TYPE, tuple);
        status = putValue(type, hash, keyPtr, keyLength, <usize>getTuple(TupleColumn.PAYLOAD_START, tuple), <u32>getTuple(TupleColumn.PAYLOAD_LENGTH, tuple), true, true);
        setTuple(TupleColumn.PAYLOAD_LENGTH, tuple, 0);
      }
      setTuple(TupleColumn.STATUS, tuple, <i32>status);
      setTuple(TupleColumn.ERROR, tuple, annaError(status));
    }
  }
}

/** Bytes of an int32 enum field: none for 0, a sign-extended 10-byte varint when negative. */
function enumFieldBytes(value: i32): u32 {
  return value == 0 ? 0 : 1 + varintBytes(<u64><i64>value);
}

function uint32FieldBytes(value: u32): u32 {
  return value == 0 ? 0 : 1 + varintBytes(<u64>value);
}

/** A length-delimited field, or nothing when empty (proto3's default). */
function spanFieldBytes(length: u32): u32 {
  return length == 0 ? 0 : 1 + varintBytes(length) + length;
}

function tupleBytes(tuple: u32): u32 {
  return (
    spanFieldBytes(<u32>getTuple(TupleColumn.KEY_LENGTH, tuple)) +
    enumFieldBytes(getTuple(TupleColumn.LATTICE_TYPE, tuple)) +
    enumFieldBytes(getTuple(TupleColumn.ERROR, tuple)) +
    spanFieldBytes(<u32>getTuple(TupleColumn.PAYLOAD_LENGTH, tuple)) +
    uint32FieldBytes(<u32>getTuple(TupleColumn.ADDRESS_CACHE_SIZE, tuple)) +
    (getTuple(TupleColumn.INVALIDATE, tuple) != 0 ? 2 : 0)
  );
}

function responseBytes(row: u32): u32 {
  const first = <u32>getRequest(RequestColumn.FIRST_TUPLE, row);
  const end = first + <u32>getRequest(RequestColumn.TUPLES_READ, row);
  let bytes = enumFieldBytes(getRequest(RequestColumn.TYPE, row)) + spanFieldBytes(<u32>getRequest(RequestColumn.ID_LENGTH, row)) + enumFieldBytes(getRequest(RequestColumn.ERROR, row));
  // Every tuple is written, an empty one too: a tag, its length, its fields.
  for (let tuple = first; tuple < end; tuple++) {
    const size = tupleBytes(tuple);
    bytes += 1 + varintBytes(size) + size;
  }
  return bytes;
}

function writeEnumField(pos: usize, tag: u8, value: i32): usize {
  if (value == 0) return pos;
  store<u8>(pos, tag);
  return writeVarint(pos + 1, <u64><i64>value);
}

function writeUint32Field(pos: usize, tag: u8, value: u32): usize {
  if (value == 0) return pos;
  store<u8>(pos, tag);
  return writeVarint(pos + 1, <u64>value);
}

function writeSpanField(pos: usize, tag: u8, src: usize, length: u32): usize {
  if (length == 0) return pos;
  store<u8>(pos, tag);
  pos = writeVarint(pos + 1, length);
  memory.copy(pos, src, length);
  return pos + length;
}

/** Writes request row `row`'s KeyResponse at `pos` (fields in anna.proto's order); returns its end. */
function writeResponse(pos: usize, row: u32): usize {
  pos = writeEnumField(pos, 0x08, getRequest(RequestColumn.TYPE, row));
  const first = <u32>getRequest(RequestColumn.FIRST_TUPLE, row);
  const end = first + <u32>getRequest(RequestColumn.TUPLES_READ, row);
  for (let tuple = first; tuple < end; tuple++) {
    store<u8>(pos, 0x12);
    pos = writeVarint(pos + 1, tupleBytes(tuple));
    pos = writeSpanField(pos, 0x0a, <usize>getTuple(TupleColumn.KEY_START, tuple), <u32>getTuple(TupleColumn.KEY_LENGTH, tuple));
    pos = writeEnumField(pos, 0x10, getTuple(TupleColumn.LATTICE_TYPE, tuple));
    pos = writeEnumField(pos, 0x18, getTuple(TupleColumn.ERROR, tuple));
    pos = writeSpanField(pos, 0x22, <usize>getTuple(TupleColumn.PAYLOAD_START, tuple), <u32>getTuple(TupleColumn.PAYLOAD_LENGTH, tuple));
    pos = writeUint32Field(pos, 0x28, <u32>getTuple(TupleColumn.ADDRESS_CACHE_SIZE, tuple));
    if (getTuple(TupleColumn.INVALIDATE, tuple) != 0) {
      store<u8>(pos, 0x30);
      store<u8>(pos, 1, 1);
      pos += 2;
    }
  }
  pos = writeSpanField(pos, 0x1a, <usize>getRequest(RequestColumn.ID_START, row), <u32>getRequest(RequestColumn.ID_LENGTH, row));
  return writeEnumField(pos, 0x20, getRequest(RequestColumn.ERROR, row));
}

/** GETs found whose values find no room in the output: answered OUT_OF_MEMORY, without the value. */
function dropFoundValues(row: u32): void {
  const first = <u32>getRequest(RequestColumn.FIRST_TUPLE, row);
  const end = first + <u32>getRequest(RequestColumn.TUPLES_READ, row);
  for (let tuple = first; tuple < end; tuple++) {
    if (getTuple(TupleColumn.PAYLOAD_LENGTH, tuple) == 0) continue;
    setTuple(TupleColumn.PAYLOAD_LENGTH, tuple, 0);
    setTuple(TupleColumn.STATUS, tuple, <i32>OUT_OF_MEMORY);
    setTuple(TupleColumn.ERROR, tuple, ANNA_LATTICE);
  }
}

/** At most the bytes a response's tuple takes without its payload, besides its key: tag and length, a lattice type and an error of up to 11 bytes each, a cache size, invalidate. */
// @ts-ignore: decorator
@inline const VALUELESS_TUPLE_BYTES_MAX: u64 = 6 + 6 + 11 + 11 + 6 + 2;
/** At most the bytes of a response's own fields besides its id: type and error. */
// @ts-ignore: decorator
@inline const RESPONSE_FIELDS_BYTES_MAX: u64 = 11 + 11 + 6;

/** At most the bytes request row `row`'s response takes without payloads, whatever running its tuples changes. */
function valuelessBound(row: u32): u64 {
  const first = <u32>getRequest(RequestColumn.FIRST_TUPLE, row);
  const end = first + <u32>getRequest(RequestColumn.TUPLES_READ, row);
  let bytes = RESPONSE_FIELDS_BYTES_MAX + <u64>load<u32>(requestCell(RequestColumn.ID_LENGTH, row)) + <u64>(end - first) * VALUELESS_TUPLE_BYTES_MAX;
  for (let tuple = first; tuple < end; tuple++) bytes += <u64>load<u32>(tupleCell(TupleColumn.KEY_LENGTH, tuple));
  return bytes;
}

/**
 * Answers the first `requestCount` request rows whose RequestColumn.SERVE the host set: runs their
 * tuples with no error (GETs and PUTs of any other request type are the host's to refuse)
 * and writes their KeyResponses one after the other into the output buffer. A response
 * takes its values only where the responses still to come keep room for theirs without
 * values, so that a store at its memory limit still answers every request (a value with
 * no room is answered OUT_OF_MEMORY). OK, or OUT_OF_MEMORY when not even that fits.
 */
export function answerRequests(requestCount: u32): u32 {
  if (requestCount > requestCapacity) return OUT_OF_MEMORY;
  // Each response's bound waits in its length column until the response replaces it.
  let laterBytes: u64 = 0;
  for (let row: u32 = 0; row < requestCount; row++) {
    if (getRequest(RequestColumn.SERVE, row) == 0) continue;
    const bound = min<u64>(valuelessBound(row), 0x7fffffff);
    setRequest(RequestColumn.RESPONSE_LENGTH, row, <i32>bound);
    laterBytes += bound;
  }
  let outputBytes: u64 = 0;
  for (let row: u32 = 0; row < requestCount; row++) {
    if (getRequest(RequestColumn.SERVE, row) == 0) continue;
    laterBytes -= <u64>load<u32>(requestCell(RequestColumn.RESPONSE_LENGTH, row));
    const type = getRequest(RequestColumn.TYPE, row);
    if (getRequest(RequestColumn.ERROR, row) == ANNA_NO_ERROR && (type == REQUEST_GET || type == REQUEST_PUT)) runTuples(row);
    let bytes = responseBytes(row);
    let output = reserveOutput(outputBytes + bytes + laterBytes, outputBytes);
    if (output == 0) {
      dropFoundValues(row);
      bytes = responseBytes(row);
      output = reserveOutput(outputBytes + bytes + laterBytes, outputBytes);
      if (output == 0) return OUT_OF_MEMORY;
    }
    const written = writeResponse(output + <usize>outputBytes, row) - (output + <usize>outputBytes);
    assert(written == <usize>bytes, "KeyResponse size");
    setRequest(RequestColumn.RESPONSE_START, row, <i32>outputBytes);
    setRequest(RequestColumn.RESPONSE_LENGTH, row, <i32>bytes);
    outputBytes += bytes;
  }
  setOutputToBuffer(<u32>outputBytes);
  return OK;
}
