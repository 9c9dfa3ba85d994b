/**
 * KeyRequests from clients: the actor's request server reads a drained burst of frames
 * into KeyTuples (columns, no object per tuple); this handler decides each tuple's fate
 * (limits, placement, invalidation) in place; the server runs every tuple left with no
 * error as one store call and writes the KeyResponses, which are pushed to their clients.
 */
import { keyName } from "../../wire/key";
import type { StoreLimits } from "../../core/limits";
import { Status } from "../../core/status";
import { isKnownLatticeType } from "../../lattices/lattice-type";
import { AnnaError, encodeKeyResponse, isUsableResponseAddress, RequestType } from "../../protocol/anna";
import type { FrameHead, KeyTuples } from "../../protocol/key-frames";
import type { CopyingFrameSink } from "../../protocol/outlet-pool";
import type { Hash64 } from "../../routing/hash";
import type { ClusterPlacement } from "../../routing/cluster-placement";
import type { AccessSampler } from "../access-sampler";
import { annaErrorOf, RequestBurst, RequestServer } from "../request-servers";
import { ActorCounters, countContainedError, countTupleError, ErrorPlace } from "../stats";
import type { DurablePuts } from "../durable-puts";
import { LatticeType } from "../../lattices/lattice-type";
import { hasStaleStamp, isStaleStamp } from "../../lattices/causal-stamp";
import { stampedOfLwwPut } from "../../lattices/causal-lww";
import type { StabilityState } from "../causal-stability";
import { responseExtensionBytes, type AppliedDot } from "../../protocol/response-extensions";
import { dotRequestOf, encodeDot, type DotRequest } from "../../lattices/dot-requests";
import type { DotIssuer } from "../dot-issuer";
import type { Store } from "../../core/store";
import { StoreError } from "../../core/status";
import { MalformedPayloadError, utf8Text } from "../../wire/protobuf";

export interface RequestContext {
  tid: number;
  /** Reads bursts and answers them, on the actor's store. */
  server: RequestServer;
  placement: ClusterPlacement;
  replies: CopyingFrameSink;
  counters: ActorCounters;
  maxTuplesPerRequest: number;
  /**
   * The store's key and value limits, checked before placement: an oversized key is
   * refused without hashing it, an oversized value without handing it to the store (which
   * would refuse both the same way).
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
  /** Holds PUTs that ask for more than one replica node until they have them (absent: every PUT is answered at once). */
  durablePuts?: DurablePuts;
  /**
   * Told of each exception the handler contained, with what it cost (a phrase: "answered
   * ..."; the handler counts it either way); absent where only the counters matter (unit
   * tests, benches).
   */
  reportError?(place: ErrorPlace, what: string, error: unknown): void;
  /**
   * The accept floor, the replicated causal keys written and the node's stable time
   * (docs/causal-stability.md); absent where nothing keeps a stable time (unit tests, benches).
   */
  stability?: StabilityState;
  /**
   * Where dot requests are taken (docs/causal-dots.md §5): the actor's dot issuer, and its
   * store, into which a request with dot requests is merged after its burst.
   */
  dots: { issuer: DotIssuer; store: Store };
}

/**
 * A request holding a dot request (docs/causal-dots.md §5), taken out of its burst as
 * planned: the core serves the burst from a region the store's own calls reuse, so such a
 * request is served after the burst, tuple by tuple, in TypeScript. Copies, not views.
 */
interface DotRequestsRequest {
  responseAddress: string;
  requestId: string;
  putAcks: number;
  tuples: PlannedTuple[];
}

/** A tuple of such a request as planned: its error decided, and, to run, its value. */
interface PlannedTuple {
  key: Uint8Array;
  latticeType: LatticeType;
  error: AnnaError;
  invalidate: boolean;
  /** The value to merge (error NO_ERROR only). */
  payload: Uint8Array;
  /** Whether it is a dot request. */
  isDotRequest: boolean;
}

/** The tuples of the request being planned that are dot requests: reused, one thread, no await while planning. */
const dotTuples: number[] = [];

export function handleRequestFrames(context: RequestContext, frames: readonly Uint8Array[]): number {
  const started = performance.now();
  const burst = context.server.read(frames, context.maxTuplesPerRequest);
  for (const reason of burst.refusals) {
    context.counters.badFrames++;
    context.reportBadFrame(reason);
  }
  const answered: FrameHead[] = [];
  /** Requests whose planning threw: answered LATTICE, counted failed (allocated only then). */
  let failed: Set<FrameHead> | undefined;
  /** Requests with dot requests, served after the burst (allocated only then). */
  let withDotRequests: DotRequestsRequest[] | undefined;
  for (const head of burst.heads) {
    if (!isUsableResponseAddress(head.responseAddress)) {
      context.counters.badFrames++;
      context.reportBadFrame(
        `KeyRequest with unusable response_address ${JSON.stringify(head.responseAddress.slice(0, 80))}`,
      );
      continue;
    }
    dotTuples.length = 0;
    try {
      planRequest(context, burst.tuples, head, dotTuples);
      if (dotTuples.length > 0) {
        (withDotRequests ??= []).push(takeOut(burst.tuples, head, dotTuples));
        continue;
      }
    } catch (error) {
      failRequest(context, burst.tuples, head, false, error);
      (failed ??= new Set()).add(head);
    }
    answered.push(head);
  }
  const planned = performance.now();
  context.counters.decodeMs += planned - started;
  let responses: Uint8Array[] | undefined;
  try {
    responses = context.server.answer(burst, answered);
  } catch (error) {
    // A request of the burst made the store call throw: each is answered on its own, so that it costs only itself.
    countContainedError(context.counters, "request-burst");
    context.reportError?.(
      "request-burst",
      `answered a burst of ${answered.length} request(s) one by one after serving it whole threw`,
      error,
    );
  }
  const stored = performance.now();
  context.counters.storeMs += stored - planned;
  let replies = 0;
  if (responses === undefined) replies = answerOneByOne(context, burst, answered, failed);
  else {
    countStoreErrors(context.counters, burst, answered);
    for (let i = 0; i < answered.length; i++)
      if (sendResponse(context, burst, answered[i], responses[i], failed?.has(answered[i]) ?? false)) replies++;
  }
  // The burst's responses are sent (copied): the store may be called again.
  for (const request of withDotRequests ?? []) if (serveDotRequests(context, request)) replies++;
  context.counters.encodeMs += performance.now() - stored;
  return replies;
}

/** Copies a planned request with dot requests out of its burst, which does not serve it. */
function takeOut(tuples: KeyTuples, head: FrameHead, dotTuples: readonly number[]): DotRequestsRequest {
  const { frame } = head;
  const planned: PlannedTuple[] = [];
  for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
    const keyStart = tuples.keyStart[i];
    const payloadStart = tuples.payloadStart[i];
    planned.push({
      key: frame.slice(keyStart, keyStart + tuples.keyLength[i]),
      latticeType: tuples.latticeType[i],
      error: tuples.error[i],
      invalidate: tuples.invalidate[i] !== 0,
      payload: frame.slice(payloadStart, payloadStart + tuples.payloadLength[i]),
      isDotRequest: dotTuples.includes(i),
    });
  }
  return {
    responseAddress: head.responseAddress,
    requestId: utf8Text(frame.subarray(head.idStart, head.idStart + head.idLength)),
    putAcks: head.putAcks,
    tuples: planned,
  };
}

/**
 * Serves a request with dot requests (docs/causal-dots.md §5): each tuple planned to run
 * is merged into the store, a dot request as its context with the dot the actor makes and
 * the version, and the response names, per dot request merged, its dot. False when the
 * response could not be sent.
 */
function serveDotRequests(context: RequestContext, request: DotRequestsRequest): boolean {
  const { issuer, store } = context.dots;
  const appliedDots: AppliedDot[] = [];
  const storedKeys: Uint8Array[] = [];
  for (const tuple of request.tuples) {
    if (tuple.error !== AnnaError.NO_ERROR) continue;
    try {
      if (tuple.isDotRequest) {
        const { dot, payload } = issuer.dotted(dotRequestOf(tuple.payload)!, store.get(tuple.key));
        store.put(tuple.key, tuple.latticeType, payload);
        appliedDots.push({ key: tuple.key, dot: encodeDot(dot) });
      } else store.put(tuple.key, tuple.latticeType, tuple.payload);
      storedKeys.push(tuple.key);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      tuple.error = annaErrorOf(Status[error.code]);
      countTupleError(context.counters, error.code);
    }
  }
  const stability = context.stability;
  const response = encodeKeyResponse({
    type: RequestType.PUT,
    tuples: request.tuples.map(({ key, latticeType, error, invalidate }) => ({
      key: utf8Text(key),
      lattice_type: latticeType,
      error,
      invalidate,
    })),
    response_id: request.requestId,
  });
  const extensions = responseExtensionBytes({
    stableMicros: stability?.nodeStableMicros ?? 0,
    acceptFloorMicros: 0,
    epoch: stability?.epoch ?? 0,
    appliedDots,
  });
  try {
    const acks = context.durablePuts?.acksWanted(request.putAcks) ?? 1;
    if (acks > 1)
      context.durablePuts!.defer(
        request.responseAddress,
        extensions === undefined ? response : Buffer.concat([response, extensions]),
        storedKeys,
        acks,
      );
    else context.replies.sendCopy(request.responseAddress, response, extensions);
  } catch (error) {
    context.counters.requestsFailed++;
    countContainedError(context.counters, "request");
    context.reportError?.(
      "request",
      `left a request with dot requests to ${request.responseAddress} unanswered`,
      error,
    );
    return false;
  }
  context.counters.requests++;
  return true;
}

/** Answers each request with a store call of its own; a request whose call throws is answered LATTICE. Returns the replies sent. */
function answerOneByOne(
  context: RequestContext,
  burst: RequestBurst,
  heads: readonly FrameHead[],
  failed: Set<FrameHead> | undefined,
): number {
  let replies = 0;
  for (const head of heads) {
    let hasFailed = failed?.has(head) ?? false;
    let response: Uint8Array;
    try {
      [response] = context.server.answer(burst, [head]);
    } catch (error) {
      if (hasFailed) {
        reportUnanswered(context, head, error);
        continue;
      }
      failRequest(context, burst.tuples, head, true, error);
      hasFailed = true;
      try {
        // Now an error response only: nothing of it runs.
        [response] = context.server.answer(burst, [head]);
      } catch (secondError) {
        reportUnanswered(context, head, secondError);
        continue;
      }
    }
    if (!hasFailed) countStoreErrors(context.counters, burst, [head]);
    if (sendResponse(context, burst, head, response, hasFailed)) replies++;
  }
  return replies;
}

/**
 * Queues (or, for a PUT waiting for acknowledgements, holds) one response, a view the
 * server reuses: copied as it is queued. Counts the request served, or failed when it is
 * the error response of a failed request; false when it could not be sent.
 */
function sendResponse(
  context: RequestContext,
  burst: RequestBurst,
  head: FrameHead,
  response: Uint8Array,
  hasFailed: boolean,
): boolean {
  try {
    const acks = head.type === RequestType.PUT && !hasFailed ? (context.durablePuts?.acksWanted(head.putAcks) ?? 1) : 1;
    const stability = context.stability;
    const extensions = responseExtensionBytes({
      stableMicros: stability?.nodeStableMicros ?? 0,
      acceptFloorMicros:
        stability !== undefined && head.type === RequestType.PUT && refusedStale(burst.tuples, head)
          ? stability.acceptFloorMicros
          : 0,
      epoch: stability?.epoch ?? 0,
    });
    if (acks > 1) {
      const whole = extensions === undefined ? response : Buffer.concat([response, extensions]);
      context.durablePuts!.defer(head.responseAddress, whole, storedKeys(burst.tuples, head), acks);
    } else context.replies.sendCopy(head.responseAddress, response, extensions);
  } catch (error) {
    if (!hasFailed) context.counters.requestsFailed++;
    countContainedError(context.counters, "request");
    context.reportError?.(
      "request",
      `left a request ${requestName(head)} unanswered: its reply could not be sent`,
      error,
    );
    return false;
  }
  if (!hasFailed) context.counters.requests++;
  return true;
}

/**
 * Turns a request into its error response: LATTICE for the request and each tuple, no
 * payload, nothing run. `planned`: its planning had completed, counting the tuples it meant
 * to run, which are taken back.
 */
function failRequest(
  context: RequestContext,
  tuples: KeyTuples,
  head: FrameHead,
  planned: boolean,
  error: unknown,
): void {
  let plannedToRun = 0;
  for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
    if (tuples.error[i] === AnnaError.NO_ERROR) plannedToRun++;
    refuse(tuples, i, AnnaError.LATTICE, false);
  }
  if (planned && head.error === AnnaError.NO_ERROR) countTuples(context.counters, head, -plannedToRun);
  head.error = AnnaError.LATTICE;
  context.counters.requestsFailed++;
  countContainedError(context.counters, "request");
  context.reportError?.(
    "request",
    `answered LATTICE to a request ${requestName(head)} whose planning or serving threw`,
    error,
  );
}

function reportUnanswered(context: RequestContext, head: FrameHead, error: unknown): void {
  countContainedError(context.counters, "request");
  context.reportError?.(
    "request",
    `left a request ${requestName(head)} unanswered: not even its error response could be written`,
    error,
  );
}

/** A request as the log names it: its type, tuple count and reply address. */
function requestName(head: FrameHead): string {
  return `(${RequestType[head.type] ?? `type ${head.type}`} of ${head.tupleCount} tuple(s) from ${head.responseAddress.slice(0, 80)})`;
}

/**
 * The store's refusal of a tuple, decided without the store: an oversized key or PUT
 * value, or a PUT of an unknown lattice type (the store batch carries the type in a byte).
 * Undefined for a tuple the store may take.
 */
function refusalOf(context: RequestContext, isPut: boolean, tuples: KeyTuples, index: number): Status | undefined {
  if (tuples.keyLength[index] > context.limits.maxKeyBytes) return Status.KEY_TOO_LARGE;
  if (!isPut) return undefined;
  if (!isKnownLatticeType(tuples.latticeType[index])) return Status.LATTICE;
  if (tuples.payloadLength[index] > context.limits.maxValueBytes) return Status.VALUE_TOO_LARGE;
  return undefined;
}

/** Whether a tuple of the request was refused STALE_STAMP. */
function refusedStale(tuples: KeyTuples, head: FrameHead): boolean {
  for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++)
    if (tuples.error[i] === AnnaError.STALE_STAMP) return true;
  return false;
}

/** What the accept floor and the stability rounds make of a PUT tuple. */
const enum CausalPut {
  /** Neither MULTI_CAUSAL nor a stamped causal LWW value: nothing to check or hand off. */
  PLAIN,
  /** A causal value the floor takes: its key, when replicated, goes out in the next round. */
  CAUSAL,
  /** A stamp at or below the accept floor or of another epoch (`isStaleStamp`): refused STALE_STAMP. */
  STALE,
}

/**
 * Classifies a PUT tuple (docs/causal-stability.md §6, §7, §9): MULTI_CAUSAL values, bare
 * ones included, and LWW values stamped by causal-multi-key-lww (`stampedOfLwwPut`) are
 * causal. A plain LWW PUT costs two varints read in the frame (`stampedOfLwwPut` rejects it
 * in place), other types nothing.
 */
function causalPutOf(stability: StabilityState, frame: Uint8Array, tuples: KeyTuples, index: number): CausalPut {
  const type = tuples.latticeType[index];
  if (type !== LatticeType.MULTI_CAUSAL && type !== LatticeType.LWW) return CausalPut.PLAIN;
  const start = tuples.payloadStart[index];
  const end = start + tuples.payloadLength[index];
  const { acceptFloorMicros, epoch } = stability;
  if (type === LatticeType.MULTI_CAUSAL)
    return hasStaleStamp(frame.subarray(start, end), acceptFloorMicros, epoch) ? CausalPut.STALE : CausalPut.CAUSAL;
  const stamped = stampedOfLwwPut(frame, start, end);
  if (stamped === undefined) return CausalPut.PLAIN;
  return isStaleStamp(stamped, acceptFloorMicros, epoch) ? CausalPut.STALE : CausalPut.CAUSAL;
}

/**
 * Plans a DOTTED_CAUSAL PUT tuple (docs/causal-dots.md §5): PLAIN for a plain value, which
 * the store merges; for a dot request, its stamp checked as a causal write's, and, when
 * taken, its index noted in `dotTuples` (the request is served after the burst);
 * `{ refusal }` for a malformed one.
 */
function planDotRequest(
  context: RequestContext,
  frame: Uint8Array,
  tuples: KeyTuples,
  index: number,
  dotTuples: number[],
): CausalPut | { refusal: Status } {
  const start = tuples.payloadStart[index];
  let request: DotRequest | undefined;
  try {
    request = dotRequestOf(frame.subarray(start, start + tuples.payloadLength[index]));
  } catch (error) {
    if (error instanceof MalformedPayloadError) return { refusal: Status.MALFORMED };
    throw error;
  }
  if (request === undefined) return CausalPut.PLAIN;
  const { stability } = context;
  if (stability !== undefined && isStaleStamp(request, stability.acceptFloorMicros, stability.epoch))
    return CausalPut.STALE;
  dotTuples.push(index);
  return CausalPut.CAUSAL;
}

/** The hash of the tuple being placed, when its reader computed it: one object, reused. */
const keyHash: Hash64 = { high: 0, low: 0 };

/**
 * Decides each tuple's fate, answering in place: a tuple for the store gets NO_ERROR (its
 * result comes from the server), any other its error and no payload. The client's
 * address_cache_size is compared with the replica count, never echoed.
 */
function planRequest(context: RequestContext, tuples: KeyTuples, head: FrameHead, dotTuples: number[]): void {
  const { placement, tid, accessSampler, replicatedWrites, counters, stability } = context;
  const first = head.firstTuple;
  const end = first + head.tuplesRead;
  if (head.tupleCount > context.maxTuplesPerRequest) {
    // Refused whole, no tuple answered: more than allowed (the reader kept only the first ones).
    head.error = AnnaError.LATTICE;
    head.tuplesRead = 0;
    countTupleError(counters, "LATTICE");
    return;
  }
  if (head.type !== RequestType.GET && head.type !== RequestType.PUT) {
    // Refused whole: every tuple answered LATTICE.
    head.error = AnnaError.LATTICE;
    for (let i = first; i < end; i++) refuse(tuples, i, AnnaError.LATTICE, false);
    countTupleError(counters, "LATTICE");
    return;
  }
  const isPut = head.type === RequestType.PUT;
  const frame = head.frame;
  // Counted once the whole request is planned: a request whose planning throws ran no tuple.
  let tuplesToRun = 0;
  for (let i = first; i < end; i++) {
    const refusal = refusalOf(context, isPut, tuples, i);
    if (refusal !== undefined) {
      refuse(tuples, i, annaErrorOf(refusal), false);
      countTupleError(counters, Status[refusal]);
      continue;
    }
    const keyStart = tuples.keyStart[i];
    const keyLength = tuples.keyLength[i];
    let replicaCount: number;
    if (tuples.hashesKnown) {
      keyHash.high = tuples.hashHigh[i] >>> 0;
      keyHash.low = tuples.hashLow[i] >>> 0;
      replicaCount = placement.replicationAtHash(keyHash, frame, tid, keyStart, keyLength);
    } else replicaCount = placement.replicationAt(frame, tid, keyStart, keyLength);
    if (replicaCount === 0) {
      refuse(tuples, i, AnnaError.WRONG_THREAD, true);
      countTupleError(counters, "WRONG_THREAD");
      continue;
    }
    const causal = !isPut
      ? CausalPut.PLAIN
      : tuples.latticeType[i] === LatticeType.DOTTED_CAUSAL
        ? planDotRequest(context, frame, tuples, i, dotTuples)
        : stability !== undefined
          ? causalPutOf(stability, frame, tuples, i)
          : CausalPut.PLAIN;
    if (typeof causal === "object") {
      refuse(tuples, i, annaErrorOf(causal.refusal), false);
      countTupleError(counters, Status[causal.refusal]);
      continue;
    }
    if (causal === CausalPut.STALE) {
      refuse(tuples, i, AnnaError.STALE_STAMP, false);
      countTupleError(counters, "STALE_STAMP");
      continue;
    }
    const clientCacheSize = tuples.addressCacheSize[i] >>> 0;
    answer(tuples, i, AnnaError.NO_ERROR, clientCacheSize !== 0 && clientCacheSize !== replicaCount);
    accessSampler?.note(frame, keyStart, keyLength, tuples.hashesKnown ? tuples.hashLow[i] : undefined);
    tuplesToRun++;
    if (isPut && replicaCount > 1) {
      const name = keyName(frame.subarray(keyStart, keyStart + keyLength));
      replicatedWrites?.add(name);
      if (causal === CausalPut.CAUSAL) stability?.causalWrites.add(name);
    }
  }
  countTuples(counters, head, tuplesToRun);
}

/** Adds (or, for a request that failed once planned, takes back) the GET or PUT tuples planned to run. */
function countTuples(counters: ActorCounters, head: FrameHead, tuples: number): void {
  if (head.type === RequestType.PUT) counters.putTuples += tuples;
  else if (head.type === RequestType.GET) counters.getTuples += tuples;
}

/** The keys of a request's tuples that the store ran and took (views into the frame). */
function storedKeys(tuples: KeyTuples, head: FrameHead): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
    if (tuples.error[i] !== AnnaError.NO_ERROR || tuples.status[i] !== Status.OK) continue;
    keys.push(head.frame.subarray(tuples.keyStart[i], tuples.keyStart[i] + tuples.keyLength[i]));
  }
  return keys;
}

/** Counts the tuples the store refused (the others' statuses are OK: they were not run, or ran well). */
function countStoreErrors(counters: ActorCounters, burst: RequestBurst, heads: readonly FrameHead[]): void {
  const status = burst.tuples.status;
  for (const head of heads) {
    for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++)
      if (status[i] !== Status.OK) countTupleError(counters, Status[status[i]]);
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
