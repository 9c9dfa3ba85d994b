/**
 * The request servers against each other: the Wasm core reading and answering bursts of
 * KeyRequests itself, and the TypeScript batch server over the TS engine and over the Wasm
 * engine. The same seeded random bursts (valid and damaged frames, every lattice type,
 * unknown fields, repeated fields, negative enums, non-UTF-8 keys, huge cache sizes,
 * put_acks of every size and a wrong wire type) and
 * the same random per-tuple decisions go to all three; what each reads, every response's
 * bytes and the stores' contents afterwards must be identical. Replay a failure with
 * ANNAKV_SEED=<seed>.
 */
import { BatchRequestServer, RequestBurst, RequestServer, WasmRequestServer } from "../../src/actor/request-servers";
import { decodeRecords } from "../../src/core/batch";
import { createStore } from "../../src/core/create-store";
import { DEFAULT_LIMITS } from "../../src/core/limits";
import type { Store } from "../../src/core/store";
import { loadWasmModule, WasmStore } from "../../src/core/wasm-store";
import { AnnaError, decodeKeyResponse, RequestType } from "../../src/protocol/anna";
import type { FrameHead } from "../../src/protocol/key-frames";
import { ProtoWriter, randomPayload, smallBytes } from "../support/payloads";
import { Random, testSeed } from "../support/random";

const BURSTS = 1500;
const TUPLES_PER_REQUEST_MAX = 16;
const LIMITS = { ...DEFAULT_LIMITS, maxKeyBytes: 24, maxValueBytes: 96 };

interface Contender {
  name: string;
  store: Store;
  server: RequestServer;
}

function contenders(): Contender[] {
  const wasmStore = () => createStore({ engine: "wasm", limits: LIMITS, wasmModule: loadWasmModule() }) as WasmStore;
  const core = wasmStore();
  const wasmBatch = wasmStore();
  const ts = createStore({ engine: "ts", limits: LIMITS });
  return [
    { name: "wasm core", store: core, server: new WasmRequestServer(core) },
    { name: "batch on wasm", store: wasmBatch, server: new BatchRequestServer(wasmBatch) },
    { name: "batch on ts", store: ts, server: new BatchRequestServer(ts) },
  ];
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A key: mostly from a small set (so GETs find PUTs), sometimes long or not UTF-8. */
function randomKey(random: Random): Uint8Array {
  if (random.chance(0.03)) return Uint8Array.of(0x61, 0xc3, 0x28); // a broken 2-byte sequence
  if (random.chance(0.02)) return Uint8Array.of(0xed, 0xa0, 0x80); // a surrogate
  if (random.chance(0.03)) return new TextEncoder().encode("é€😀".slice(0, 1 + random.int(3)));
  if (random.chance(0.03)) return new Uint8Array(30).fill(0x6b); // over maxKeyBytes
  return smallBytes(random, 3);
}

function randomEnum(random: Random, usual: number): bigint {
  if (random.chance(0.05)) return BigInt(-1 - random.int(1000)); // a negative int32: a 10-byte varint
  if (random.chance(0.05)) return BigInt(random.int(300));
  return BigInt(usual);
}

function randomTuple(random: Random, requestType: number): Uint8Array {
  const tuple = new ProtoWriter();
  const type = 1 + random.int(6);
  const fields = [
    () => tuple.lengthDelimited(1, randomKey(random)),
    () => tuple.tag(2, 0).varint(randomEnum(random, type)),
    () => tuple.tag(3, 0).varint(BigInt(random.int(6))),
    () => {
      if (requestType === RequestType.PUT || random.chance(0.1))
        tuple.lengthDelimited(4, randomPayload(random, type, 40));
    },
    () => {
      if (random.chance(0.3))
        tuple.tag(5, 0).varint(random.chance(0.2) ? BigInt(0xffffffff - random.int(3)) : BigInt(random.int(4)));
    },
    () => {
      if (random.chance(0.1)) tuple.tag(6, 0).varint(BigInt(random.int(3)));
    },
  ];
  // Usually in order; sometimes shuffled, repeated, or with unknown fields between.
  if (random.chance(0.2)) fields.sort(() => random.next() - 0.5);
  for (const field of fields) {
    field();
    if (random.chance(0.05)) tuple.unknownField(random);
    if (random.chance(0.03)) field();
  }
  return tuple.finish();
}

/** KeyRequest's put_acks (annakv's extension, field 15). */
const PUT_ACKS_FIELD = 15;

/** put_acks, usually absent: 0, small, near and past 32 bits (low 32 kept), or a wrong wire type (a malformed frame). */
function randomPutAcks(random: Random, request: ProtoWriter): void {
  switch (random.int(10)) {
    case 0:
      request.tag(PUT_ACKS_FIELD, 0).varint(0n);
      return;
    case 1:
    case 2:
      request.tag(PUT_ACKS_FIELD, 0).varint(BigInt(1 + random.int(5)));
      return;
    case 3:
      request.tag(PUT_ACKS_FIELD, 0).varint(BigInt(0xffffffff - random.int(3)));
      return;
    case 4:
      request.tag(PUT_ACKS_FIELD, 0).varint(random.chance(0.5) ? (1n << 32n) + BigInt(random.int(3)) : -1n);
      return;
    case 5:
      if (random.chance(0.3)) request.lengthDelimited(PUT_ACKS_FIELD, Uint8Array.of(3));
      return;
  }
}

function randomFrame(random: Random): Uint8Array {
  const request = new ProtoWriter();
  const type = random.chance(0.05) ? random.int(5) : 1 + random.int(2);
  request.tag(1, 0).varint(random.chance(0.03) ? -2n : BigInt(type));
  // Before the tuples or after them; sometimes both (the last wins).
  if (random.chance(0.2)) randomPutAcks(random, request);
  const tuples = random.chance(0.05)
    ? TUPLES_PER_REQUEST_MAX + 1 + random.int(3)
    : random.int(TUPLES_PER_REQUEST_MAX + 1);
  for (let i = 0; i < tuples; i++) request.lengthDelimited(2, randomTuple(random, type));
  randomPutAcks(random, request);
  if (random.chance(0.05)) request.unknownField(random);
  request.lengthDelimited(3, new TextEncoder().encode(`tcp://client:${random.int(4)}`));
  if (random.chance(0.9)) request.lengthDelimited(4, new TextEncoder().encode(`id-${random.int(1000)}`));
  const frame = request.finish();
  switch (random.chance(0.08) ? random.int(4) : -1) {
    case 0:
      return frame.subarray(0, random.int(frame.length)); // cut short
    case 1:
      return Uint8Array.from([...frame, 0x0b]); // a group: wire type 3
    case 2:
      return Uint8Array.from([0x12, ...frame]); // tuples field with a bogus length
    case 3:
      return Uint8Array.from([...frame, 0x08, 0x02, 0x12, 0x00]); // a repeated type, an empty tuple
    default:
      return frame;
  }
}

/** What a server read: each request and its tuples, spans as bytes (the servers' offsets differ). */
function readView(burst: RequestBurst): unknown {
  const { tuples } = burst;
  return {
    refused: burst.refusals.length,
    rows: burst.heads.map((head) => head.row),
    heads: burst.heads.map((head) => ({
      type: head.type,
      tupleCount: head.tupleCount,
      address: head.responseAddress,
      id: hex(head.frame.subarray(head.idStart, head.idStart + head.idLength)),
      putAcks: head.putAcks,
      tuples: Array.from({ length: head.tuplesRead }, (_, k) => {
        const i = head.firstTuple + k;
        return [
          hex(head.frame.subarray(tuples.keyStart[i], tuples.keyStart[i] + tuples.keyLength[i])),
          tuples.latticeType[i],
          tuples.error[i],
          hex(head.frame.subarray(tuples.payloadStart[i], tuples.payloadStart[i] + tuples.payloadLength[i])),
          tuples.addressCacheSize[i] >>> 0,
          tuples.invalidate[i],
        ];
      }),
    })),
  };
}

/**
 * The handler's part, decided at random but the same for every server: some requests not
 * answered, some refused whole (all their tuples refused; always those of another type
 * than GET and PUT); tuples run or refused (without
 * their payload), invalidated
 * or not, the client's cache size never echoed; PUTs of unknown types are never run (the
 * handler refuses them: the batch carries a type in a byte). Returns the heads to answer.
 */
function decide(random: Random, burst: RequestBurst): FrameHead[] {
  const { tuples } = burst;
  const answered = burst.heads.filter(() => !random.chance(0.05));
  for (const head of answered) {
    // Refused whole as the handler does: no tuple past the bound, or every tuple refused.
    const runnable = head.type === RequestType.GET || head.type === RequestType.PUT;
    if (head.tupleCount > TUPLES_PER_REQUEST_MAX || !runnable || random.chance(0.03)) head.error = AnnaError.LATTICE;
    if (head.tupleCount > TUPLES_PER_REQUEST_MAX) head.tuplesRead = 0;
    for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
      const unknownPut = head.type === RequestType.PUT && !(tuples.latticeType[i] >= 1 && tuples.latticeType[i] <= 6);
      const drawn =
        random.chance(0.15) || head.error !== AnnaError.NO_ERROR
          ? random.pick([AnnaError.WRONG_THREAD, AnnaError.LATTICE])
          : undefined;
      const refusal = drawn ?? (unknownPut ? AnnaError.LATTICE : undefined);
      tuples.error[i] = refusal ?? AnnaError.NO_ERROR;
      tuples.invalidate[i] = random.chance(0.2) ? 1 : 0;
      tuples.addressCacheSize[i] = 0;
      if (refusal !== undefined) tuples.payloadLength[i] = 0;
    }
  }
  return answered;
}

/** Every record of the store, as sorted hex strings (engines scan in different orders), each checked against a GET. */
function storeContents(store: Store): string[] {
  const records: string[] = [];
  for (let cursor = 0; ;) {
    const page = store.scan(cursor, 1 << 20);
    for (const record of decodeRecords(page.records)) {
      // Found by the store's own lookup too: the core placed it where the store's hash says.
      expect(hex(store.get(record.key)?.payload ?? new Uint8Array(0))).toBe(hex(record.payload));
      records.push(`${record.type}:${hex(record.key)}:${hex(record.payload)}`);
    }
    if (page.nextCursor === 0) break;
    cursor = page.nextCursor;
  }
  return records.sort();
}

describe("request servers (Wasm core vs the batch server on both engines)", () => {
  it("read the same requests, answer with the same bytes and leave the same stores", () => {
    const seed = testSeed();
    const random = new Random(seed);
    const servers = contenders();
    try {
      for (let b = 0; b < BURSTS; b++) {
        const frames = Array.from({ length: 1 + random.int(8) }, () => randomFrame(random));
        const decisionSeed = random.int(2 ** 31);
        const results = servers.map(({ server }) => {
          const burst = server.read(frames, TUPLES_PER_REQUEST_MAX);
          const read = readView(burst);
          const responses = server.answer(burst, decide(new Random(decisionSeed), burst));
          return { read, responses: responses.map(hex) };
        });
        for (const result of results.slice(1)) {
          expect(result.read).toEqual(results[0].read);
          expect(result.responses).toEqual(results[0].responses);
        }
      }
      const contents = servers.map(({ store }) => storeContents(store));
      expect(contents[0].length).toBeGreaterThan(0);
      for (const content of contents.slice(1)) expect(content).toEqual(contents[0]);
    } catch (error) {
      throw new Error(`seed ${seed}: ${(error as Error).message}`);
    }
  });

  it("read put_acks: 0 when absent, the low 32 bits of the varint, the last when repeated; a wrong wire type is a malformed frame", () => {
    const frame = (...putAcks: ((request: ProtoWriter) => void)[]) => {
      const request = new ProtoWriter().tag(1, 0).varint(BigInt(RequestType.PUT));
      request.lengthDelimited(2, new ProtoWriter().lengthDelimited(1, new TextEncoder().encode("k")).finish());
      for (const write of putAcks) write(request);
      return request.lengthDelimited(3, new TextEncoder().encode("tcp://client:1")).finish();
    };
    const acks = (value: bigint) => (request: ProtoWriter) => request.tag(PUT_ACKS_FIELD, 0).varint(value);
    const frames = [
      frame(),
      frame(acks(0n)),
      frame(acks(3n)),
      frame(acks(0xffffffffn)),
      frame(acks((1n << 32n) + 5n)),
      frame(acks(3n), acks(7n)),
      frame((request) => request.lengthDelimited(PUT_ACKS_FIELD, Uint8Array.of(3))),
      frame((request) => request.double(PUT_ACKS_FIELD, 3)),
    ];
    for (const { name, server } of contenders()) {
      const burst = server.read(frames, TUPLES_PER_REQUEST_MAX);
      expect({ name, putAcks: burst.heads.map((head) => head.putAcks), refused: burst.refusals.length }).toEqual({
        name,
        putAcks: [0, 0, 3, 0xffffffff, 5, 7],
        refused: 2,
      });
    }
  });

  it("grow the table and the memory in one burst and still agree", () => {
    const random = new Random(20261126);
    const servers = contenders();
    // More requests and tuples than the core's table starts with; PUTs whose values grow the memory while serving.
    const frames = Array.from({ length: 300 }, (_, r) => {
      const request = new ProtoWriter().tag(1, 0).varint(BigInt(r % 3 === 2 ? RequestType.GET : RequestType.PUT));
      for (let k = 0; k < TUPLES_PER_REQUEST_MAX; k++) {
        const tuple = new ProtoWriter()
          .lengthDelimited(1, new TextEncoder().encode(`key-${random.int(2000)}`))
          .tag(2, 0)
          .varint(1n);
        if (r % 3 !== 2)
          tuple.lengthDelimited(
            4,
            new ProtoWriter().tag(1, 0).varint(BigInt(r)).lengthDelimited(2, random.bytes(80)).finish(),
          );
        request.lengthDelimited(2, tuple.finish());
      }
      return request
        .lengthDelimited(3, new TextEncoder().encode("tcp://client:1"))
        .lengthDelimited(4, new TextEncoder().encode(`id-${r}`))
        .finish();
    });
    const answers = servers.map(({ server }) => {
      const burst = server.read(frames, TUPLES_PER_REQUEST_MAX);
      expect(burst.heads).toHaveLength(frames.length);
      for (let i = 0; i < burst.tuples.count; i++) burst.tuples.addressCacheSize[i] = 0;
      return server.answer(burst, burst.heads).map(hex);
    });
    expect(answers[0]).toHaveLength(frames.length);
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    const contents = servers.map(({ store }) => storeContents(store));
    expect(contents[0].length).toBeGreaterThan(1000);
    for (const content of contents.slice(1)) expect(content).toEqual(contents[0]);
  });

  it("read and answer on a store at its memory limit, a burst too big for the core's input included", () => {
    const store = createStore({
      engine: "wasm",
      limits: { ...LIMITS, maxValueBytes: 4096, maxMemoryBytes: 2 << 20 },
      wasmModule: loadWasmModule(),
    }) as WasmStore;
    const server = new WasmRequestServer(store);
    const value = new ProtoWriter().tag(1, 0).varint(1n).lengthDelimited(2, new Uint8Array(100).fill(7)).finish();
    let stored = 0;
    const getFrame = (r: number, padding = 0) => {
      const request = new ProtoWriter().tag(1, 0).varint(BigInt(RequestType.GET));
      for (let k = 0; k < 16; k++)
        request.lengthDelimited(
          2,
          new ProtoWriter()
            .lengthDelimited(1, new TextEncoder().encode(`key-${(r * 16 + k) % Math.max(stored, 1)}`))
            .finish(),
        );
      // An unknown field makes the frame as big as asked: more than the core's input region holds.
      if (padding > 0) request.lengthDelimited(9, new Uint8Array(padding));
      return request.lengthDelimited(3, new TextEncoder().encode("tcp://client:1")).finish();
    };
    // A node serves while its store fills: its regions have grown to a burst's size by then.
    const early = server.read(
      Array.from({ length: 50 }, (_, r) => getFrame(r)),
      16,
    );
    server.answer(early, early.heads);
    try {
      for (; ; stored++) store.put(`key-${stored}`, 1, value);
    } catch (error) {
      expect((error as Error).message).toContain("memory limit");
    }
    for (const frames of [
      Array.from({ length: 50 }, (_, r) => getFrame(r)),
      Array.from({ length: 8 }, (_, r) => getFrame(r, 256 * 1024)),
    ]) {
      const burst = server.read(frames, 16);
      expect(burst.heads).toHaveLength(frames.length);
      const responses = server.answer(burst, burst.heads).map((bytes) => decodeKeyResponse(bytes.slice()));
      expect(responses).toHaveLength(frames.length);
      for (const response of responses) {
        expect(response.tuples).toHaveLength(16);
        // Found with its value, or refused for want of memory to write it: never a missing answer.
        for (const tuple of response.tuples) {
          const found = (tuple.error ?? AnnaError.NO_ERROR) === AnnaError.NO_ERROR;
          expect(found ? tuple.payload?.length : tuple.error).toBe(found ? value.length : AnnaError.LATTICE);
        }
      }
    }
    expect(store.get("key-0")?.payload).toEqual(value);
  });
});
