/**
 * KeyRequests from clients: read a drained burst of frames into one KeyTuples (columns,
 * no object per tuple), apply every tuple this actor is a replica of as ONE store batch
 * written straight from the frames, and push one KeyResponse per request, its tuples
 * answered in place.
 */
import { Opcode, opBytes, BATCH_HEADER_BYTES, BatchWriter, RESULT_HEADER_BYTES } from "../../core/batch";
import { keyName } from "../../core/key";
import type { StoreLimits } from "../../core/limits";
import { Status } from "../../core/status";
import type { Store } from "../../core/store";
import { LatticeType } from "../../lattices/lattice-type";
import { AnnaError, isUsableResponseAddress, RequestType } from "../../protocol/anna";
import { KeyTuples, readRequest, FrameHead, writeResponse } from "../../protocol/key-frames";
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
  /** The tuples of the burst being served: the actor's own, reused for every burst. */
  tuples: KeyTuples;
}

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
  const tuples = context.tuples;
  tuples.count = 0;
  const heads: FrameHead[] = [];
  let opsBytes = 0;
  for (const frame of frames) {
    const head = decodeValidRequest(context, frame);
    if (head === undefined) continue;
    opsBytes += planRequest(context, head);
    heads.push(head);
  }
  const decoded = performance.now();
  context.counters.decodeMs += decoded - started;
  // Every op takes at least its header: no bytes, no op for the store.
  const output = opsBytes > 0 ? runStoreBatch(context, heads, BATCH_HEADER_BYTES + opsBytes) : EMPTY;
  const stored = performance.now();
  context.counters.storeMs += stored - decoded;
  // GET payloads are views into engine memory: every response is encoded (copied into its
  // frame) before the store is called again.
  for (const head of heads) context.replies.send(head.responseAddress, writeResponse(head, tuples, output));
  context.counters.encodeMs += performance.now() - stored;
  return heads.length;
}

function decodeValidRequest(context: RequestContext, frame: Uint8Array): FrameHead | undefined {
  let head: FrameHead;
  try {
    head = readRequest(frame, context.tuples, context.maxTuplesPerRequest);
  } catch (error) {
    context.counters.badFrames++;
    context.reportBadFrame((error as Error).message);
    return undefined;
  }
  if (!isUsableResponseAddress(head.responseAddress)) {
    context.tuples.count = head.firstTuple;
    context.counters.badFrames++;
    context.reportBadFrame(`KeyRequest with unusable response_address ${JSON.stringify(head.responseAddress.slice(0, 80))}`);
    return undefined;
  }
  context.counters.requests++;
  return head;
}

/** The store's refusal of an oversized key or PUT value, decided without the store; undefined when within limits. */
function oversizedStatus(context: RequestContext, type: RequestType, tuples: KeyTuples, index: number): Status | undefined {
  if (tuples.keyLength[index] > context.limits.maxKeyBytes) return Status.KEY_TOO_LARGE;
  if (type === RequestType.PUT && tuples.payloadLength[index] > context.limits.maxValueBytes) return Status.VALUE_TOO_LARGE;
  return undefined;
}

/**
 * Decides each tuple's fate, answering in place: a tuple for the store batch gets
 * NO_ERROR (its result comes from the batch), any other its error and no payload. The
 * client's address_cache_size is compared with the replica count, never echoed. Returns
 * the bytes the placed tuples take in the store batch.
 */
function planRequest(context: RequestContext, head: FrameHead): number {
  const { tuples, placement, tid, accessSampler, replicatedWrites } = context;
  const first = head.firstTuple;
  const end = first + head.tuplesRead;
  if (head.tupleCount > context.maxTuplesPerRequest) {
    // Refused whole, no tuple answered: more than allowed (the reader kept only the first ones).
    head.error = AnnaError.LATTICE;
    head.tuplesRead = 0;
    countTupleError(context.counters, "LATTICE");
    return 0;
  }
  if (head.type !== RequestType.GET && head.type !== RequestType.PUT) {
    // Refused whole: every tuple answered LATTICE.
    head.error = AnnaError.LATTICE;
    for (let i = first; i < end; i++) refuse(tuples, i, AnnaError.LATTICE, false);
    countTupleError(context.counters, "LATTICE");
    return 0;
  }
  const frame = head.frame;
  let placedBytes = 0;
  for (let i = first; i < end; i++) {
    const oversized = oversizedStatus(context, head.type, tuples, i);
    if (oversized !== undefined) {
      refuse(tuples, i, annaErrorOf(oversized), false);
      countTupleError(context.counters, Status[oversized]);
      continue;
    }
    const keyStart = tuples.keyStart[i];
    const keyLength = tuples.keyLength[i];
    const replicaCount = placement.replicationAt(frame, tid, keyStart, keyLength);
    if (replicaCount === 0) {
      refuse(tuples, i, AnnaError.WRONG_THREAD, true);
      countTupleError(context.counters, "WRONG_THREAD");
      continue;
    }
    const clientCacheSize = tuples.addressCacheSize[i];
    answer(tuples, i, AnnaError.NO_ERROR, clientCacheSize > 0 && clientCacheSize !== replicaCount);
    accessSampler?.note(frame, keyStart, keyLength);
    if (replicaCount > 1 && head.type === RequestType.PUT) replicatedWrites?.add(keyName(frame.subarray(keyStart, keyStart + keyLength)));
    // A GET's batch op carries no payload, whatever the client put in the tuple.
    placedBytes += opBytes(keyLength, head.type === RequestType.PUT ? tuples.payloadLength[i] : 0);
  }
  return placedBytes;
}

/** After planRequest: whether the tuple goes to the store batch. */
function isPlaced(tuples: KeyTuples, index: number): boolean {
  return tuples.error[index] === AnnaError.NO_ERROR;
}

/** Writes the placed tuples of every request into one batch, straight from their frames, and runs it. */
function runStoreBatch(context: RequestContext, heads: FrameHead[], batchBytes: number): Uint8Array {
  const { tuples, counters } = context;
  const writer = new BatchWriter(context.store.batchBuffer(batchBytes));
  for (const head of heads) {
    const frame = head.frame;
    const isGet = head.type === RequestType.GET;
    for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
      if (!isPlaced(tuples, i)) continue;
      if (isGet) {
        counters.getTuples++;
        writer.addSpans(Opcode.GET, LatticeType.NONE, frame, tuples.keyStart[i], tuples.keyLength[i], frame, 0, 0);
      } else {
        counters.putTuples++;
        writer.addSpans(Opcode.PUT, tuples.latticeType[i], frame, tuples.keyStart[i], tuples.keyLength[i], frame, tuples.payloadStart[i], tuples.payloadLength[i]);
      }
    }
  }
  const output = context.store.executeBatchInPlace(writer.finish());
  fillResults(context, heads, output);
  return output;
}

/**
 * Answers each placed tuple from its result: its error, and for a GET found the stored
 * type and payload (a span of `output`, which the responses are written from).
 */
function fillResults(context: RequestContext, heads: FrameHead[], output: Uint8Array): void {
  const tuples = context.tuples;
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  let offset = BATCH_HEADER_BYTES;
  for (const head of heads) {
    const isGet = head.type === RequestType.GET;
    for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
      if (!isPlaced(tuples, i)) continue;
      const status = output[offset] as Status;
      const length = view.getUint32(offset + 2, true);
      const start = offset + RESULT_HEADER_BYTES;
      tuples.error[i] = annaErrorOf(status);
      if (status === Status.OK && isGet) {
        tuples.latticeType[i] = output[offset + 1];
        tuples.payloadStart[i] = start;
        tuples.payloadLength[i] = length;
      } else tuples.payloadLength[i] = 0;
      if (status !== Status.OK) countTupleError(context.counters, Status[status]);
      offset = start + length;
    }
  }
}

/** Sets a tuple's answer: the key and lattice type are echoed, the client's cache size is not. */
function answer(tuples: KeyTuples, index: number, error: AnnaError, invalidate: boolean): void {
  tuples.error[index] = error;
  tuples.invalidate[index] = invalidate ? 1 : 0;
  tuples.addressCacheSize[index] = 0;
}

/** An answer that never reaches the store: no payload either. */
function refuse(tuples: KeyTuples, index: number, error: AnnaError, invalidate: boolean): void {
  answer(tuples, index, error, invalidate);
  tuples.payloadLength[index] = 0;
}
