/**
 * KeyRequests from clients: decode a drained burst of frames, apply every tuple this actor
 * is a replica of as ONE store batch, and push one KeyResponse per request.
 */
import { Opcode, opBytes, BATCH_HEADER_BYTES, BatchWriter, RESULT_HEADER_BYTES } from "../../core/batch";
import { keyName } from "../../core/key";
import type { StoreLimits } from "../../core/limits";
import { Status } from "../../core/status";
import type { Store } from "../../core/store";
import { LatticeType } from "../../lattices/lattice-type";
import { AnnaError, isUsableResponseAddress, RequestType } from "../../protocol/anna";
import { FrameTuple, readRequestFrame, RequestFrame, ResponseFrame, writeResponseFrame } from "../../protocol/key-frames";
import type { FrameSink } from "../../protocol/outlet-pool";
import type { LocalPlacement } from "../../routing/placement";
import type { AccessSampler } from "../access-sampler";
import { ActorCounters, countTupleError } from "../stats";

export interface RequestContext {
  tid: number;
  store: Store;
  placement: LocalPlacement;
  replies: FrameSink;
  counters: ActorCounters;
  maxTuplesPerRequest: number;
  /**
   * The store's key and value limits, checked before placement and batching: an oversized
   * key is refused without hashing it, an oversized value without copying it into the
   * batch (the store would refuse both the same way).
   */
  limits: Pick<StoreLimits, "maxKeyBytes" | "maxValueBytes">;
  /** Counts accesses for hot-key detection; absent when selective replication is off. */
  accessSampler?: AccessSampler;
  /**
   * Where keys have one replica by default, PUTs of keys with a factor above one are
   * noted here for gossip (see handlers/gossip.ts); undefined otherwise.
   */
  replicatedWrites?: Set<string>;
  /** Called once per burst of refused frames, so logs are not flooded. */
  reportBadFrame(reason: string): void;
}

/** Where each tuple's answer comes from: the store batch (op index) or a fixed error. */
interface PlannedRequest {
  request: RequestFrame;
  response: ResponseFrame;
  /** Per tuple: index of its op in the store batch, or -1 when answered without the store. */
  opIndexes: Int32Array;
}

const UNPLACED = -1;
const EMPTY = new Uint8Array(0);

/** Maps a store status to Anna's per-tuple error. Anna's enum has no size or memory codes. */
function annaErrorOf(status: Status): AnnaError {
  switch (status) {
    case Status.OK:
      return AnnaError.NO_ERROR;
    case Status.NOT_FOUND:
      return AnnaError.KEY_DNE;
    default:
      // LATTICE, MALFORMED, KEY/VALUE_TOO_LARGE, OUT_OF_MEMORY: the tuple was refused.
      return AnnaError.LATTICE;
  }
}

export function handleRequestFrames(context: RequestContext, frames: readonly Uint8Array[]): number {
  const started = performance.now();
  const planned: PlannedRequest[] = [];
  const keys: Uint8Array[] = [];
  let batchBytes = BATCH_HEADER_BYTES;
  for (const frame of frames) {
    const request = decodeValidRequest(context, frame);
    if (request === undefined) continue;
    const plan = planRequest(context, request, keys);
    for (let i = 0; i < plan.opIndexes.length; i++) {
      if (plan.opIndexes[i] === UNPLACED) continue;
      batchBytes += opBytes(keys[plan.opIndexes[i]].length, request.tuples[i].payload.length);
    }
    planned.push(plan);
  }
  const decoded = performance.now();
  context.counters.decodeMs += decoded - started;
  if (keys.length > 0) runStoreBatch(context, planned, keys, batchBytes);
  const stored = performance.now();
  context.counters.storeMs += stored - decoded;
  for (const plan of planned) sendResponse(context, plan);
  context.counters.encodeMs += performance.now() - stored;
  return planned.length;
}

function decodeValidRequest(context: RequestContext, frame: Uint8Array): RequestFrame | undefined {
  let request: RequestFrame;
  try {
    request = readRequestFrame(frame, context.maxTuplesPerRequest);
  } catch (error) {
    context.counters.badFrames++;
    context.reportBadFrame((error as Error).message);
    return undefined;
  }
  if (!isUsableResponseAddress(request.responseAddress)) {
    context.counters.badFrames++;
    context.reportBadFrame(`KeyRequest with unusable response_address ${JSON.stringify(request.responseAddress.slice(0, 80))}`);
    return undefined;
  }
  context.counters.requests++;
  return request;
}

/** The store's refusal of an oversized key or PUT value, decided without the store; undefined when within limits. */
function oversizedStatus(context: RequestContext, type: RequestType, tuple: FrameTuple): Status | undefined {
  if (tuple.key.length > context.limits.maxKeyBytes) return Status.KEY_TOO_LARGE;
  if (type === RequestType.PUT && tuple.payload.length > context.limits.maxValueBytes) return Status.VALUE_TOO_LARGE;
  return undefined;
}

/** Decides each tuple's fate; tuples the store must see get consecutive op indexes. */
function planRequest(context: RequestContext, request: RequestFrame, keys: Uint8Array[]): PlannedRequest {
  const response: ResponseFrame = { type: request.type, tuples: [], responseId: request.requestId, error: AnnaError.NO_ERROR };
  if (request.tupleCount > context.maxTuplesPerRequest) {
    // Refused whole, no tuple answered: more than allowed (the reader kept only the first ones).
    response.error = AnnaError.LATTICE;
    countTupleError(context.counters, "LATTICE");
    return { request, response, opIndexes: new Int32Array(0) };
  }
  const tupleCount = request.tuples.length;
  const opIndexes = new Int32Array(tupleCount).fill(UNPLACED);
  // Every tuple is answered in place: the response's tuples are the request's.
  response.tuples = request.tuples;
  if (request.type !== RequestType.GET && request.type !== RequestType.PUT) {
    // Refused whole: every tuple answered LATTICE.
    response.error = AnnaError.LATTICE;
    for (const tuple of request.tuples) refuse(tuple, AnnaError.LATTICE, false);
    countTupleError(context.counters, "LATTICE");
    return { request, response, opIndexes };
  }
  const { placement, tid, accessSampler, replicatedWrites } = context;
  for (let i = 0; i < tupleCount; i++) {
    const tuple = request.tuples[i];
    const key = tuple.key;
    const oversized = oversizedStatus(context, request.type, tuple);
    if (oversized !== undefined) {
      refuse(tuple, annaErrorOf(oversized), false);
      countTupleError(context.counters, Status[oversized]);
      continue;
    }
    const replicaCount = placement.replicationAt(key, tid);
    if (replicaCount === 0) {
      refuse(tuple, AnnaError.WRONG_THREAD, true);
      countTupleError(context.counters, "WRONG_THREAD");
      continue;
    }
    const invalidate = tuple.addressCacheSize > 0 && tuple.addressCacheSize !== replicaCount;
    accessSampler?.note(key);
    if (replicaCount > 1 && request.type === RequestType.PUT) replicatedWrites?.add(keyName(key));
    answer(tuple, AnnaError.NO_ERROR, invalidate);
    opIndexes[i] = keys.length;
    keys.push(key);
  }
  return { request, response, opIndexes };
}

function runStoreBatch(context: RequestContext, planned: PlannedRequest[], keys: Uint8Array[], batchBytes: number): void {
  const buffer = context.store.batchBuffer(batchBytes);
  const writer = new BatchWriter(buffer);
  for (const { request, opIndexes } of planned) {
    for (let i = 0; i < opIndexes.length; i++) {
      if (opIndexes[i] === UNPLACED) continue;
      const tuple = request.tuples[i];
      if (request.type === RequestType.GET) {
        context.counters.getTuples++;
        writer.add(Opcode.GET, LatticeType.NONE, keys[opIndexes[i]]);
      } else {
        context.counters.putTuples++;
        writer.add(Opcode.PUT, tuple.latticeType as LatticeType, keys[opIndexes[i]], tuple.payload);
      }
    }
  }
  const output = context.store.executeBatchInPlace(writer.finish());
  fillResults(context, planned, output);
}

/**
 * Points each response tuple at its result. GET payloads stay views into engine memory:
 * the responses are encoded (copied into their frames) before the store is called again.
 */
function fillResults(context: RequestContext, planned: PlannedRequest[], output: Uint8Array): void {
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  let offset = BATCH_HEADER_BYTES;
  for (const { response, opIndexes } of planned) {
    for (let i = 0; i < opIndexes.length; i++) {
      if (opIndexes[i] === UNPLACED) continue;
      const status = view.getUint8(offset) as Status;
      const type = view.getUint8(offset + 1);
      const length = view.getUint32(offset + 2, true);
      const start = offset + RESULT_HEADER_BYTES;
      const tuple = response.tuples[i];
      tuple.error = annaErrorOf(status);
      if (status === Status.OK && response.type === RequestType.GET) {
        tuple.latticeType = type;
        tuple.payload = output.subarray(start, start + length);
      } else tuple.payload = EMPTY;
      if (status !== Status.OK) countTupleError(context.counters, Status[status]);
      offset = start + length;
    }
  }
}

function sendResponse(context: RequestContext, plan: PlannedRequest): void {
  context.replies.send(plan.request.responseAddress, writeResponseFrame(plan.response));
}

/**
 * Turns a request tuple into its answer in place (the response's tuples are the request's):
 * key and lattice type echoed, the client's cache size not. The payload stays until the
 * store batch is written; fillResults replaces it.
 */
function answer(tuple: FrameTuple, error: AnnaError, invalidate: boolean): void {
  tuple.error = error;
  tuple.invalidate = invalidate;
  tuple.addressCacheSize = 0;
}

/** An answer that never reaches the store: no payload either. */
function refuse(tuple: FrameTuple, error: AnnaError, invalidate: boolean): void {
  answer(tuple, error, invalidate);
  tuple.payload = EMPTY;
}
