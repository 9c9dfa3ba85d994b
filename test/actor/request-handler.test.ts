/**
 * The request handler on one burst of frames, with each request server: the Wasm core
 * serving the burst itself, and the batch server on either engine. Requests are read into
 * one set of columns, run as one store call, one response per valid request. A bad frame
 * in the middle of a burst must cost only itself: the requests around it keep their own
 * tuples and are answered in order. Replies are captured (copied, as the pool does) and
 * read back with protobufjs.
 */
import { handleRequestFrames, RequestContext } from "../../src/actor/handlers/request";
import { emptyCounters } from "../../src/actor/stats";
import { createStore } from "../../src/core/create-store";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import type { EngineName } from "../../src/core/store";
import { loadWasmModule } from "../../src/core/wasm-store";
import { LatticeType } from "../../src/lattices/lattice-type";
import {
  AnnaError,
  decodeKeyResponse,
  encodeKeyRequest,
  KeyRequest,
  KeyResponse,
  RequestType,
  responseMicros,
} from "../../src/protocol/anna";
import { BatchRequestServer, requestServerFor } from "../../src/actor/request-servers";
import type { Store } from "../../src/core/store";
import { singleNodePlacement } from "../../src/routing/cluster-placement";
import { newStabilityState } from "../../src/actor/causal-stability";
import { encodeEnvelope } from "../../src/lattices/causal-envelope";
import { encodeStamped } from "../../src/lattices/causal-stamp";
import { encodeCausalLww } from "../../src/lattices/causal-lww";
import { encodeLww, encodeMultiCausal } from "../../src/lattices/values";
import { toVectorClock } from "../../src/lattices/vector-clock";
import { DotIssuer } from "../../src/actor/dot-issuer";
import { decodeDot, encodeDotRequest } from "../../src/lattices/dot-requests";
import {
  decodeDottedCausalWire,
  dottedCausal,
  encodeDottedCausalWire,
  toDottedContext,
  type DottedContext,
} from "../../src/lattices/dotted-causal";

const encoder = new TextEncoder();
/** An LWW payload: `timestamp` then `value` (protobuf LWWValue). */
const lww = (timestamp: number, value: string) =>
  Uint8Array.from([0x08, timestamp, 0x12, value.length, ...encoder.encode(value)]);

/** The Wasm core serving requests itself, and the batch server over each engine. */
const SERVERS = ["wasm", "wasm-batch", "ts"] as const;
type ServerName = (typeof SERVERS)[number];

interface Harness {
  context: RequestContext;
  store: Store;
  replies: Array<{ address: string; response: KeyResponse }>;
  badFrames: string[];
}

function harness(serverName: ServerName, actors: number, maxValueBytes = 64): Harness {
  const replies: Harness["replies"] = [];
  const badFrames: string[] = [];
  const engine: EngineName = serverName === "ts" ? "ts" : "wasm";
  const store = createStore({
    engine,
    limits: { ...DEFAULT_LIMITS, maxValueBytes },
    wasmModule: engine === "wasm" ? loadWasmModule() : undefined,
  });
  const context: RequestContext = {
    tid: 0,
    server: serverName === "wasm-batch" ? new BatchRequestServer(store) : requestServerFor(store),
    placement: singleNodePlacement(actors, 1),
    replies: {
      sendCopy: (address, bytes, tail) =>
        replies.push({ address, response: decodeKeyResponse(Buffer.concat([bytes, tail ?? new Uint8Array(0)])) }),
    },
    counters: emptyCounters(),
    maxTuplesPerRequest: 4,
    limits: { maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes, maxValueBytes },
    reportBadFrame: (reason) => badFrames.push(reason),
    dots: { issuer: new DotIssuer(), store },
  };
  return { context, store, replies, badFrames };
}

const frame = (request: KeyRequest) => Buffer.from(encodeKeyRequest(request));

/** Two actors that both hold every key, keeping a stable time in epoch 77: accept floor 5 000 µs, node stable time 4 000 µs. */
function stampedHarness(serverName: ServerName, maxValueBytes?: number) {
  const { context, replies, store } = harness(serverName, 2, maxValueBytes);
  context.placement = singleNodePlacement(2, 2);
  const epoch = 77;
  const stability = newStabilityState(100, epoch);
  stability.acceptFloorMicros = 5_000;
  stability.nodeStableMicros = 4_000;
  context.stability = stability;
  return { context, replies, stability, epoch, store };
}

describe.each(SERVERS)("request handler with the %s server", (engine) => {
  it("answers each valid request of a burst in order, a bad frame in between costing only itself", () => {
    const { context, store, replies, badFrames } = harness(engine, 1);
    const burst = [
      frame({
        type: RequestType.PUT,
        tuples: [
          { key: "a", lattice_type: LatticeType.LWW, payload: lww(5, "A") },
          { key: "b", lattice_type: LatticeType.LWW, payload: lww(5, "B") },
        ],
        response_address: "tcp://client:1",
        request_id: "r1",
      }),
      Buffer.from([0x12, 0x09, 0x0a]), // a tuple cut short: not a KeyRequest
      frame({ type: RequestType.GET, tuples: [{ key: "a" }], response_address: "nowhere", request_id: "r2" }), // unusable reply address
      frame({
        type: RequestType.GET,
        tuples: [{ key: "b" }, { key: "absent" }, { key: "a", address_cache_size: 3 }],
        response_address: "tcp://client:2",
        request_id: "r3",
      }),
      frame({ type: 7 as RequestType, tuples: [{ key: "a" }], response_address: "tcp://client:3", request_id: "r4" }),
      frame({
        type: RequestType.GET,
        tuples: ["a", "b", "c", "d", "e"].map((key) => ({ key })),
        response_address: "tcp://client:4",
        request_id: "r5",
      }),
      frame({
        type: RequestType.PUT,
        tuples: [
          { key: "big", lattice_type: LatticeType.LWW, payload: lww(1, "x".repeat(70)) },
          { key: "c", lattice_type: LatticeType.LWW, payload: lww(1, "C") },
        ],
        response_address: "tcp://client:5",
        request_id: "r6",
      }),
    ];
    expect(handleRequestFrames(context, burst)).toBe(5);
    expect(badFrames).toHaveLength(2);
    expect(context.counters.badFrames).toBe(2);
    expect(replies.map((reply) => [reply.address, reply.response.response_id])).toEqual([
      ["tcp://client:1", "r1"],
      ["tcp://client:2", "r3"],
      ["tcp://client:3", "r4"],
      ["tcp://client:4", "r5"],
      ["tcp://client:5", "r6"],
    ]);
    const [put, get, unknownType, tooMany, oversized] = replies.map((reply) => reply.response);
    expect(
      put.tuples.map((tuple) => [tuple.key, tuple.error ?? AnnaError.NO_ERROR, tuple.payload?.length ?? 0]),
    ).toEqual([
      ["a", AnnaError.NO_ERROR, 0],
      ["b", AnnaError.NO_ERROR, 0],
    ]);
    // The GET of the same burst sees the PUT before it (one batch, in order).
    expect(get.type).toBe(RequestType.GET);
    expect(
      get.tuples.map((tuple) => [
        tuple.key,
        tuple.error ?? AnnaError.NO_ERROR,
        tuple.lattice_type ?? 0,
        Buffer.from(tuple.payload ?? []).toString("latin1"),
        tuple.invalidate ?? false,
        tuple.address_cache_size ?? 0,
      ]),
    ).toEqual([
      ["b", AnnaError.NO_ERROR, LatticeType.LWW, Buffer.from(lww(5, "B")).toString("latin1"), false, 0],
      ["absent", AnnaError.KEY_DNE, 0, "", false, 0],
      // The client thought 3 replicas; there is 1: told to refresh, its cache size not echoed.
      ["a", AnnaError.NO_ERROR, LatticeType.LWW, Buffer.from(lww(5, "A")).toString("latin1"), true, 0],
    ]);
    expect(unknownType.error).toBe(AnnaError.LATTICE);
    expect(unknownType.tuples.map((tuple) => [tuple.key, tuple.error])).toEqual([["a", AnnaError.LATTICE]]);
    // Over the 4-tuple bound: refused whole, no tuple answered.
    expect(tooMany.error).toBe(AnnaError.LATTICE);
    expect(tooMany.tuples).toEqual([]);
    expect(oversized.tuples.map((tuple) => [tuple.key, tuple.error ?? AnnaError.NO_ERROR])).toEqual([
      ["big", AnnaError.LATTICE],
      ["c", AnnaError.NO_ERROR],
    ]);
    expect(store.get("big")).toBeUndefined();
    expect(store.get("c")?.type).toBe(LatticeType.LWW);
    expect(context.counters.requests).toBe(5);
    expect(context.counters.putTuples).toBe(3);
    expect(context.counters.getTuples).toBe(3);
  });

  it("answers WRONG_THREAD with invalidate for keys of another actor, and serves its own", () => {
    const { context, store, replies } = harness(engine, 2);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const own = (key: string) => context.placement.replicationAt(encoder.encode(key), 0) > 0;
    expect(keys.some(own) && !keys.every(own)).toBe(true);
    context.maxTuplesPerRequest = keys.length;
    handleRequestFrames(context, [
      frame({
        type: RequestType.PUT,
        tuples: keys.map((key) => ({ key, lattice_type: LatticeType.LWW, payload: lww(1, key) })),
        response_address: "tcp://client:1",
        request_id: "p",
      }),
    ]);
    const response = replies[0].response;
    expect(response.tuples.map((tuple) => tuple.key)).toEqual(keys);
    for (const tuple of response.tuples) {
      expect([tuple.error ?? AnnaError.NO_ERROR, tuple.invalidate ?? false]).toEqual(
        own(tuple.key) ? [AnnaError.NO_ERROR, false] : [AnnaError.WRONG_THREAD, true],
      );
      expect(store.get(tuple.key) !== undefined).toBe(own(tuple.key));
    }
  });

  it("refuses a stamped multi-causal PUT at or below the accept floor or of another epoch, notes replicated ones, and puts the stable time and epoch on every response", () => {
    const { context, replies, stability, epoch } = stampedHarness(engine);
    const write = (stampMicros: number, stampEpoch = epoch) =>
      encodeMultiCausal({
        vectorClock: { w: 1 },
        dependencies: [],
        values: [
          encodeEnvelope({
            clock: toVectorClock([{ key: encoder.encode("w"), value: 1 }]),
            value: encodeStamped({
              stampMicros,
              baseMicros: 0,
              writer: encoder.encode("w"),
              dependencyStamps: [],
              value: encoder.encode("v"),
              epoch: stampEpoch,
              baseEpoch: 0,
            }),
          }),
        ],
      });
    const put = (request_id: string, tuples: KeyRequest["tuples"]) =>
      frame({ type: RequestType.PUT, tuples, response_address: "tcp://client:1", request_id });
    handleRequestFrames(context, [
      put("stale", [
        { key: "old", lattice_type: LatticeType.MULTI_CAUSAL, payload: write(5_000) },
        { key: "new", lattice_type: LatticeType.MULTI_CAUSAL, payload: write(5_001) },
        { key: "elsewhen", lattice_type: LatticeType.MULTI_CAUSAL, payload: write(5_001, epoch + 1) },
      ]),
      put("bare", [
        {
          key: "bare",
          lattice_type: LatticeType.MULTI_CAUSAL,
          payload: encodeMultiCausal({ vectorClock: { a: 1 }, dependencies: [], values: ["x"] }),
        },
      ]),
      frame({
        type: RequestType.GET,
        tuples: [{ key: "old" }, { key: "new" }, { key: "elsewhen" }],
        response_address: "tcp://client:2",
        request_id: "get",
      }),
    ]);
    const [stale, bare, get] = replies.map((reply) => reply.response);
    expect(stale.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
      AnnaError.STALE_STAMP,
      AnnaError.NO_ERROR,
      AnnaError.STALE_STAMP,
    ]);
    expect(responseMicros(stale.accept_floor_micros)).toBe(5_000);
    expect(bare.tuples[0].error ?? AnnaError.NO_ERROR).toBe(AnnaError.NO_ERROR);
    expect(responseMicros(bare.accept_floor_micros)).toBe(0);
    // The stale writes were not stored; every response carries the node's stable time and epoch.
    expect(get.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
      AnnaError.KEY_DNE,
      AnnaError.NO_ERROR,
      AnnaError.KEY_DNE,
    ]);
    expect(replies.map((reply) => responseMicros(reply.response.stable_micros))).toEqual([4_000, 4_000, 4_000]);
    expect(replies.map((reply) => responseMicros(reply.response.stable_epoch))).toEqual([epoch, epoch, epoch]);
    expect(context.counters.tupleErrors.STALE_STAMP).toBe(2);
    // Both replicas of this node hold every key: the causal writes the store took go out in the next round.
    expect([...stability.causalWrites].sort()).toEqual(["bare", "new"]);
  });

  it("refuses a stamped causal LWW PUT at or below the accept floor or of another epoch, never a plain LWW one, and notes replicated stamped ones", () => {
    const { context, replies, stability, epoch } = stampedHarness(engine);
    const write = (stampMicros: number, stampEpoch = epoch) =>
      encodeCausalLww({
        stampMicros,
        baseMicros: 0,
        writer: encoder.encode("w"),
        dependencyStamps: [],
        value: encoder.encode("v"),
        epoch: stampEpoch,
        baseEpoch: 0,
      });
    const put = (request_id: string, tuples: KeyRequest["tuples"]) =>
      frame({ type: RequestType.PUT, tuples, response_address: "tcp://client:1", request_id });
    handleRequestFrames(context, [
      put("stale", [
        { key: "old", lattice_type: LatticeType.LWW, payload: write(5_000) },
        { key: "older", lattice_type: LatticeType.LWW, payload: write(4_999) },
        { key: "new", lattice_type: LatticeType.LWW, payload: write(5_001) },
        { key: "elsewhen", lattice_type: LatticeType.LWW, payload: write(5_001, epoch + 1) },
      ]),
      // Plain LWW values, with and without a write id, stamped far below the floor: not causal, never refused.
      put("plain", [
        { key: "plain", lattice_type: LatticeType.LWW, payload: lww(1, "x") },
        {
          key: "atomic",
          lattice_type: LatticeType.LWW,
          payload: encodeLww({ timestamp: 1, value: "y", writeId: "r" }),
        },
      ]),
      frame({
        type: RequestType.GET,
        tuples: [{ key: "old" }, { key: "older" }, { key: "new" }, { key: "elsewhen" }],
        response_address: "tcp://client:2",
        request_id: "get",
      }),
    ]);
    const [stale, plain, get] = replies.map((reply) => reply.response);
    expect(stale.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
      AnnaError.STALE_STAMP,
      AnnaError.STALE_STAMP,
      AnnaError.NO_ERROR,
      AnnaError.STALE_STAMP,
    ]);
    expect(responseMicros(stale.accept_floor_micros)).toBe(5_000);
    expect(plain.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
      AnnaError.NO_ERROR,
      AnnaError.NO_ERROR,
    ]);
    expect(responseMicros(plain.accept_floor_micros)).toBe(0);
    // The stale writes were not stored; the fresh one was, whole.
    expect(get.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
      AnnaError.KEY_DNE,
      AnnaError.KEY_DNE,
      AnnaError.NO_ERROR,
      AnnaError.KEY_DNE,
    ]);
    expect(Buffer.from(get.tuples[2].payload!).equals(Buffer.from(write(5_001)))).toBe(true);
    expect(context.counters.tupleErrors.STALE_STAMP).toBe(3);
    // Only the stamped write goes out in the next round: a plain LWW key is left to gossip.
    expect([...stability.causalWrites]).toEqual(["new"]);
  });

  it("notes no causal write of a key with one replica, and checks no stamp where no stable time is kept", () => {
    const { context } = harness(engine, 1);
    const stability = newStabilityState(100, 77);
    stability.acceptFloorMicros = 5_000;
    context.stability = stability;
    const write = encodeCausalLww({
      stampMicros: 6_000,
      baseMicros: 0,
      writer: encoder.encode("w"),
      dependencyStamps: [],
      value: encoder.encode("v"),
      epoch: 77,
      baseEpoch: 0,
    });
    const stale = encodeCausalLww({
      stampMicros: 1_000,
      baseMicros: 0,
      writer: encoder.encode("w"),
      dependencyStamps: [],
      value: encoder.encode("v"),
      epoch: 77,
      baseEpoch: 0,
    });
    const put = (payload: Uint8Array) =>
      frame({
        type: RequestType.PUT,
        tuples: [{ key: "k", lattice_type: LatticeType.LWW, payload }],
        response_address: "tcp://client:1",
        request_id: "p",
      });
    handleRequestFrames(context, [put(write)]);
    expect(stability.causalWrites.size).toBe(0);
    context.stability = undefined;
    handleRequestFrames(context, [put(stale)]);
    expect(context.counters.tupleErrors.STALE_STAMP ?? 0).toBe(0);
  });

  describe("dot requests (docs/causal-dots.md §5)", () => {
    const put = (request_id: string, tuples: KeyRequest["tuples"]) =>
      frame({ type: RequestType.PUT, tuples, response_address: "tcp://client:1", request_id });
    const bottom = dottedCausal.bottom.context;
    /** A dot request of `key` over `context`, stamped at 6 000 µs in epoch 77 unless told. */
    const dotRequest = (key: string, value: string, context: DottedContext, stampMicros = 6_000, epoch = 77) => ({
      key,
      lattice_type: LatticeType.DOTTED_CAUSAL,
      payload: encodeDotRequest({ stampMicros, epoch, context, value: encoder.encode(value) }),
    });
    const dotsOf = (response: KeyResponse) =>
      new Map((response.applied_dots ?? []).map((tuple) => [tuple.key, decodeDot(tuple.payload!).counter]));
    const versionsOf = (store: Store, key: string) =>
      decodeDottedCausalWire(store.get(key)!.payload).versions.map(({ value }) => new TextDecoder().decode(value));

    it("names a version after the actor, counting on from the stored value, and keeps what its writer had not seen", () => {
      const { context, replies, stability, store } = stampedHarness(engine, 4096);
      const id = context.dots.issuer.currentId;
      handleRequestFrames(context, [put("first", [dotRequest("k", "v1", bottom)])]);
      expect(replies[0].response.tuples[0].error ?? AnnaError.NO_ERROR).toBe(AnnaError.NO_ERROR);
      expect(replies[0].response.tuples[0].payload ?? new Uint8Array(0)).toHaveLength(0);
      expect(dotsOf(replies[0].response).get("k")).toBe(1);
      // One that saw v1 overwrites it; one that saw nothing stays beside it.
      const sawFirst = toDottedContext([], [{ id, counter: 1 }]);
      handleRequestFrames(context, [
        put("over", [dotRequest("k", "v2", sawFirst)]),
        put("beside", [dotRequest("k", "v3", bottom)]),
      ]);
      expect([dotsOf(replies[1].response).get("k"), dotsOf(replies[2].response).get("k")]).toEqual([2, 3]);
      expect(versionsOf(store, "k").sort()).toEqual(["v2", "v3"]);
      // Both actors of the node hold every key: the dot requests are causal writes for the next round.
      expect([...stability.causalWrites]).toEqual(["k"]);
      expect(replies.every((reply) => responseMicros(reply.response.stable_epoch) === 77)).toBe(true);
    });

    it("refuses a stale or malformed dot request, or one of a key of another type, and stores none of them", () => {
      const { context, replies, store } = stampedHarness(engine, 4096);
      store.put("lww", LatticeType.LWW, lww(1, "x"));
      const dottedVersion = encodeDottedCausalWire({
        context: toDottedContext([], [{ id: encoder.encode("r"), counter: 1 }]),
        versions: [{ dot: { id: encoder.encode("r"), counter: 1 }, value: encoder.encode("x") }],
      });
      const stampedDotted = new Uint8Array([...dottedVersion, 0x18, 0x05]); // a version with a dot, and a stamp
      handleRequestFrames(context, [
        put("stale", [dotRequest("old", "x", bottom, 5_000), dotRequest("elsewhen", "x", bottom, 6_000, 78)]),
        put("bad", [
          dotRequest("lww", "x", bottom),
          { key: "dotted", lattice_type: LatticeType.DOTTED_CAUSAL, payload: stampedDotted },
          dotRequest("good", "y", bottom),
        ]),
      ]);
      const [stale, bad] = replies.map((reply) => reply.response);
      expect(stale.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
        AnnaError.STALE_STAMP,
        AnnaError.STALE_STAMP,
      ]);
      expect(responseMicros(stale.accept_floor_micros)).toBe(5_000);
      expect(stale.applied_dots ?? []).toEqual([]);
      expect(bad.tuples.map((tuple) => tuple.error ?? AnnaError.NO_ERROR)).toEqual([
        AnnaError.LATTICE,
        AnnaError.LATTICE,
        AnnaError.NO_ERROR,
      ]);
      expect([...dotsOf(bad).keys()]).toEqual(["good"]);
      for (const key of ["old", "elsewhen", "dotted"]) expect(store.get(key)).toBeUndefined();
      expect(store.get("lww")!.type).toBe(LatticeType.LWW);
      expect(context.counters.tupleErrors.MALFORMED).toBe(1);
      expect(context.counters.tupleErrors.LATTICE).toBe(1);
    });

    it("merges a DOTTED_CAUSAL value without a stamp as it is, and answers it without a dot", () => {
      const { context, replies, store } = harness(engine, 1, 4096);
      const dot = { id: encoder.encode("elsewhere"), counter: 2 };
      const payload = encodeDottedCausalWire({
        context: toDottedContext([], [dot]),
        versions: [{ dot, value: encoder.encode("plain") }],
      });
      handleRequestFrames(context, [put("plain", [{ key: "p", lattice_type: LatticeType.DOTTED_CAUSAL, payload }])]);
      expect(replies[0].response.applied_dots ?? []).toEqual([]);
      expect(versionsOf(store, "p")).toEqual(["plain"]);
    });
  });
});
