/**
 * A request whose serving throws costs only itself (src/actor/handlers/request.ts): with
 * each request server, a burst holding requests made to fail by the fault file's
 * `throw-on-key` (the store call throws, as a failing one would) is answered whole — every
 * other request with its results, in order, each failed one with LATTICE — and the
 * counters say so: served requests in `requests`, the others in `requestsFailed`, tuples
 * counted only for requests that ran. The server then serves the next burst as usual.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ActorFaults } from "../../src/actor/faults";
import { handleRequestFrames, RequestContext } from "../../src/actor/handlers/request";
import { BatchRequestServer, requestServerFor } from "../../src/actor/request-servers";
import { emptyCounters, ErrorPlace } from "../../src/actor/stats";
import { createStore } from "../../src/core/create-store";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import { loadWasmModule } from "../../src/core/wasm-store";
import { LatticeType } from "../../src/lattices/lattice-type";
import {
  AnnaError,
  decodeKeyResponse,
  encodeKeyRequest,
  KeyRequest,
  KeyResponse,
  RequestType,
} from "../../src/protocol/anna";
import { singleNodePlacement } from "../../src/routing/cluster-placement";
import { DotIssuer } from "../../src/actor/dot-issuer";

const encoder = new TextEncoder();
/** An LWW payload: `timestamp` then `value` (protobuf LWWValue). */
const lww = (timestamp: number, value: string) =>
  Uint8Array.from([0x08, timestamp, 0x12, value.length, ...encoder.encode(value)]);
const frame = (request: KeyRequest) => Buffer.from(encodeKeyRequest(request));
/** Request `rN` answers to port N. */
const replyAddress = (id: string) => `tcp://client:${id.slice(1)}`;
const get = (id: string, ...keys: string[]) =>
  frame({
    type: RequestType.GET,
    tuples: keys.map((key) => ({ key })),
    response_address: replyAddress(id),
    request_id: id,
  });
const put = (id: string, ...keys: string[]) =>
  frame({
    type: RequestType.PUT,
    tuples: keys.map((key) => ({ key, lattice_type: LatticeType.LWW, payload: lww(5, key.toUpperCase()) })),
    response_address: replyAddress(id),
    request_id: id,
  });

const SERVERS = ["wasm", "wasm-batch", "ts"] as const;

describe.each(SERVERS)("a failing request in a burst, with the %s server", (serverName) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "annakv-request-faults-"));
  const faultFile = path.join(dir, "fault");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function harness() {
    const replies: KeyResponse[] = [];
    const contained: Array<{ place: ErrorPlace; what: string; error: string }> = [];
    const engine = serverName === "ts" ? "ts" : "wasm";
    const store = createStore({
      engine,
      limits: DEFAULT_LIMITS,
      wasmModule: engine === "wasm" ? loadWasmModule() : undefined,
    });
    const faults = new ActorFaults(faultFile, () => true);
    writeFileSync(faultFile, "throw-on-key poison\n");
    faults.refresh();
    const context: RequestContext = {
      tid: 0,
      server: faults.wrapServer(serverName === "wasm-batch" ? new BatchRequestServer(store) : requestServerFor(store)),
      placement: singleNodePlacement(1, 1),
      replies: {
        sendCopy: (_address, bytes, tail) =>
          replies.push(decodeKeyResponse(Buffer.concat([bytes, tail ?? new Uint8Array(0)]))),
      },
      counters: emptyCounters(),
      maxTuplesPerRequest: 16,
      limits: { maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes, maxValueBytes: DEFAULT_LIMITS.maxValueBytes },
      reportBadFrame: () => undefined,
      reportError: (place, what, error) => contained.push({ place, what, error: String(error) }),
      dots: { issuer: new DotIssuer(), store },
    };
    return { context, replies, contained, faults };
  }

  const summary = (response: KeyResponse) => ({
    id: response.response_id,
    error: response.error ?? AnnaError.NO_ERROR,
    tuples: response.tuples.map((tuple) => [
      tuple.key,
      tuple.error ?? AnnaError.NO_ERROR,
      Buffer.from(tuple.payload ?? []).toString("latin1"),
    ]),
  });

  it("answers every other request of the burst, in order, and the failed ones LATTICE", () => {
    const { context, replies, contained } = harness();
    const burst = [
      put("r1", "a"),
      get("r2", "poison"),
      Buffer.from([0x12, 0x09, 0x0a]),
      put("r3", "b", "poison"),
      get("r4", "a", "absent"),
    ];
    expect(handleRequestFrames(context, burst)).toBe(4);
    expect(replies.map(summary)).toEqual([
      { id: "r1", error: AnnaError.NO_ERROR, tuples: [["a", AnnaError.NO_ERROR, ""]] },
      { id: "r2", error: AnnaError.LATTICE, tuples: [["poison", AnnaError.LATTICE, ""]] },
      {
        id: "r3",
        error: AnnaError.LATTICE,
        tuples: [
          ["b", AnnaError.LATTICE, ""],
          ["poison", AnnaError.LATTICE, ""],
        ],
      },
      {
        id: "r4",
        error: AnnaError.NO_ERROR,
        tuples: [
          ["a", AnnaError.NO_ERROR, Buffer.from(lww(5, "A")).toString("latin1")],
          ["absent", AnnaError.KEY_DNE, ""],
        ],
      },
    ]);
    const { counters } = context;
    expect([counters.requests, counters.requestsFailed, counters.badFrames]).toEqual([2, 2, 1]);
    expect(counters.errorsContained).toEqual({ "request-burst": 1, request: 2 });
    // Only the tuples of requests that ran: PUT a, GET a and absent.
    expect([counters.putTuples, counters.getTuples]).toEqual([1, 2]);
    expect(counters.tupleErrors).toEqual({ NOT_FOUND: 1 });
    expect(contained.map(({ place }) => place)).toEqual(["request-burst", "request", "request"]);
    expect(contained[1].what).toBe(
      "answered LATTICE to a request (GET of 1 tuple(s) from tcp://client:2) whose planning or serving threw",
    );
    expect(contained[1].error).toContain("injected fault: throw-on-key poison");
  });

  it("leaves the server serving whole bursts again, a failed request's other keys never stored", () => {
    const { context, replies, faults } = harness();
    handleRequestFrames(context, [put("r1", "a"), put("r2", "b", "poison")]);
    writeFileSync(faultFile, "");
    faults.refresh();
    replies.length = 0;
    expect(handleRequestFrames(context, [get("r3", "a"), get("r4", "b"), put("r5", "poison")])).toBe(3);
    expect(replies.map(summary)).toEqual([
      {
        id: "r3",
        error: AnnaError.NO_ERROR,
        tuples: [["a", AnnaError.NO_ERROR, Buffer.from(lww(5, "A")).toString("latin1")]],
      },
      { id: "r4", error: AnnaError.NO_ERROR, tuples: [["b", AnnaError.KEY_DNE, ""]] },
      { id: "r5", error: AnnaError.NO_ERROR, tuples: [["poison", AnnaError.NO_ERROR, ""]] },
    ]);
    expect([context.counters.requests, context.counters.requestsFailed]).toEqual([4, 1]);
    expect(context.counters.errorsContained).toEqual({ "request-burst": 1, request: 1 });
  });
});

/**
 * A genuine failure, no fault injected: the Wasm core at its memory limit (filled by
 * writes, then by gossip's merges, which may use the memory kept for them) is given a burst
 * of GETs of long absent keys. The frames fit the input region earlier large frames grew;
 * their responses, which echo the keys, do not fit the output region together (~512 KB)
 * but each one alone (~64 KB) fits what an earlier burst with values grew it to. The
 * whole burst's store call throws OUT_OF_MEMORY; answered one by one, every request is
 * served. The test checks that the burst did fail whole: should a change to the store's
 * memory let it through, make the burst bigger, not the check weaker.
 */
describe("a burst too big to answer whole at the memory limit, with the wasm server", () => {
  it("answers each request on its own", () => {
    const limits = { ...DEFAULT_LIMITS, maxValueBytes: 4096, maxMemoryBytes: 4 << 20 };
    const store = createStore({ engine: "wasm", limits, wasmModule: loadWasmModule() });
    const replies: KeyResponse[] = [];
    const context: RequestContext = {
      tid: 0,
      server: requestServerFor(store),
      placement: singleNodePlacement(1, 1),
      replies: {
        sendCopy: (_address, bytes, tail) =>
          replies.push(decodeKeyResponse(Buffer.concat([bytes, tail ?? new Uint8Array(0)]))),
      },
      counters: emptyCounters(),
      maxTuplesPerRequest: 16,
      limits,
      reportBadFrame: () => undefined,
      dots: { issuer: new DotIssuer(), store },
    };
    const gets = (count: number, keys: (request: number) => string[]) =>
      Array.from({ length: count }, (_, r) => get(`r${r + 1}`, ...keys(r)));
    // Earlier bursts: one of large frames (the input region grows to hold them), then one with values (the output region grows).
    const padding = Buffer.concat([Buffer.from([0x4a, 0xa0, 0x8d, 0x06]), Buffer.alloc(100_000)]); // field 9, unknown: 100 000 bytes no response echoes
    handleRequestFrames(
      context,
      gets(8, (r) => [`pad-${r}`]).map((request) => Buffer.concat([request, padding])),
    );
    const keyCount = 1000;
    for (let key = 0; key < keyCount; key++) store.put(`key-${key}`, LatticeType.LWW, lww(1, "v".repeat(100)));
    handleRequestFrames(
      context,
      gets(50, (r) => Array.from({ length: 16 }, (_, k) => `key-${r * 16 + k}`)),
    );
    // The store fills up, past what clients may write: gossip's merges may use the memory kept for them too.
    const fill = (write: (key: string, value: Uint8Array) => void, firstKey: number) => {
      let key = firstKey;
      try {
        for (; ; key++) write(`key-${key}`, lww(1, "v".repeat(100)));
      } catch (error) {
        expect((error as Error).message).toContain("memory limit");
      }
      return key;
    };
    const written = fill((key, value) => store.put(key, LatticeType.LWW, value), keyCount);
    fill((key, value) => store.merge(key, LatticeType.LWW, value), written);
    replies.length = 0;
    const before = context.counters.requests;
    const absentKeys = (r: number) => Array.from({ length: 16 }, (_, k) => `absent-${r}-${k}-${"x".repeat(4000)}`);
    const answeredCount = handleRequestFrames(context, gets(8, absentKeys));
    expect(answeredCount).toBe(8);
    expect(context.counters.errorsContained).toEqual({ "request-burst": 1 });
    expect([context.counters.requests - before, context.counters.requestsFailed]).toEqual([8, 0]);
    expect(replies.map((reply) => [reply.response_id, reply.tuples.map((tuple) => tuple.error)])).toEqual(
      Array.from({ length: 8 }, (_, r) => [`r${r + 1}`, absentKeys(r).map(() => AnnaError.KEY_DNE)]),
    );
  });
});
