/**
 * The hot-path KeyRequest/KeyResponse codec against protobufjs (the reference codec of
 * protocol/anna.ts): whatever protobufjs writes, readRequest/readResponseFrame read the
 * same; whatever writeResponse writes, protobufjs reads the same. Plus the places
 * where the hand codec is stricter than protobufjs, and the routing service's bounded
 * KeyAddressRequest reader.
 */
import fc from "fast-check";
import {
  AnnaError,
  decodeKeyRequest,
  decodeKeyResponse,
  encodeKeyAddressRequest,
  encodeKeyRequest,
  encodeKeyResponse,
  KeyRequest,
  KeyResponse,
  KeyTuple,
  ProtocolError,
  RequestType,
} from "../../src/protocol/anna";
import {
  FrameHead,
  KeyTuples,
  readAddressRequestFrame,
  readRequest,
  readResponse,
  writeResponse,
} from "../../src/protocol/key-frames";

/** A tuple as an object, to compare with protobufjs's: absent fields as proto3 defaults. */
interface FrameTuple {
  key: Uint8Array;
  latticeType: number;
  error: AnnaError;
  payload: Uint8Array;
  addressCacheSize: number;
  invalidate: boolean;
}

interface ResponseFrame {
  type: number;
  tuples: FrameTuple[];
  responseId: Uint8Array;
  error: AnnaError;
}

const utf8 = new TextEncoder();
const bytes = (text: string) => utf8.encode(text);

const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0xffffffff }));
/** Enums are int32 on the wire, negative ones included. */
const enumValue = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const keyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 10 }));
const payloadBytes = fc.uint8Array({ maxLength: 300 });

const keyTuple: fc.Arbitrary<KeyTuple> = fc.record(
  {
    key: keyText,
    lattice_type: enumValue,
    error: fc.integer({ min: 0, max: 5 }),
    payload: payloadBytes,
    address_cache_size: uint32,
    invalidate: fc.boolean(),
  },
  { requiredKeys: ["key"] },
);

const keyRequest: fc.Arbitrary<KeyRequest> = fc.record(
  {
    type: fc.integer({ min: 0, max: 2 }),
    tuples: fc.array(keyTuple, { maxLength: 20 }),
    response_address: fc.string({ maxLength: 60 }),
    request_id: fc.string({ maxLength: 20 }),
    put_acks: uint32,
  },
  { requiredKeys: ["type", "tuples", "response_address", "request_id"] },
);

const frameTupleArbitrary: fc.Arbitrary<FrameTuple> = fc.record({
  key: keyText.map(bytes),
  latticeType: enumValue,
  error: fc.integer({ min: 0, max: 5 }),
  payload: payloadBytes,
  addressCacheSize: uint32,
  invalidate: fc.boolean(),
});

const responseFrame: fc.Arbitrary<ResponseFrame> = fc.record({
  type: fc.integer({ min: 0, max: 2 }),
  tuples: fc.array(frameTupleArbitrary, { maxLength: 20 }),
  responseId: fc.string({ maxLength: 20 }).map(bytes),
  error: fc.integer({ min: 0, max: 5 }),
});

/** A reference-decoded tuple in the hand codec's shape: absent fields as proto3 defaults. */
function asFrameTuple(tuple: KeyTuple): FrameTuple {
  return {
    key: bytes(tuple.key),
    latticeType: tuple.lattice_type ?? 0,
    error: tuple.error ?? AnnaError.NO_ERROR,
    payload: Uint8Array.from(tuple.payload ?? []),
    addressCacheSize: tuple.address_cache_size ?? 0,
    invalidate: tuple.invalidate ?? false,
  };
}

/** An empty tuple: proto3 defaults everywhere. */
function frameTuple(key: Uint8Array = new Uint8Array(0)): FrameTuple {
  return {
    key,
    latticeType: 0,
    error: AnnaError.NO_ERROR,
    payload: new Uint8Array(0),
    addressCacheSize: 0,
    invalidate: false,
  };
}

/** Rows of `tuples` as objects, their keys and payloads copied out of `keys` and `payloads`. */
function rows(tuples: KeyTuples, first: number, count: number, keys: Uint8Array, payloads: Uint8Array): FrameTuple[] {
  return Array.from({ length: count }, (_, n) => {
    const i = first + n;
    return {
      key: keys.slice(tuples.keyStart[i], tuples.keyStart[i] + tuples.keyLength[i]),
      latticeType: tuples.latticeType[i],
      error: tuples.error[i],
      payload: payloads.slice(tuples.payloadStart[i], tuples.payloadStart[i] + tuples.payloadLength[i]),
      addressCacheSize: tuples.addressCacheSize[i] >>> 0,
      invalidate: tuples.invalidate[i] !== 0,
    };
  });
}

/** Rows already in the columns before a read: readRequest must append after them and leave them be. */
const EARLIER_ROWS = 3;

/**
 * A frame read by `read` into columns that already hold rows, its tuples made objects:
 * checks that the read appends after those rows and leaves them be, even when it throws.
 */
function readIntoColumns(read: (tuples: KeyTuples) => FrameHead): FrameHead & { tuples: FrameTuple[]; id: Uint8Array } {
  const tuples = new KeyTuples();
  for (let i = 0; i < EARLIER_ROWS; i++) tuples.keyLength[tuples.add()] = 99;
  let head: FrameHead;
  try {
    head = read(tuples);
  } catch (error) {
    expect(tuples.count).toBe(EARLIER_ROWS);
    throw error;
  }
  expect(head.firstTuple).toBe(EARLIER_ROWS);
  expect(tuples.count).toBe(EARLIER_ROWS + head.tuplesRead);
  expect(tuples.keyLength[0]).toBe(99);
  const id = head.frame.slice(head.idStart, head.idStart + head.idLength);
  return { ...head, id, tuples: rows(tuples, head.firstTuple, head.tuplesRead, head.frame, head.frame) };
}

function readRequestFrame(frame: Uint8Array, maxTuples?: number) {
  const head = readIntoColumns((tuples) => readRequest(frame, tuples, maxTuples));
  return { ...head, requestId: head.id };
}

function readResponseFrame(frame: Uint8Array): ResponseFrame {
  const head = readIntoColumns((tuples) => readResponse(frame, tuples));
  expect(head.tupleCount).toBe(head.tuplesRead);
  return { type: head.type, tuples: head.tuples, responseId: head.id, error: head.error };
}

/**
 * writeResponse for a response given as objects: keys and the response id laid out in a
 * stand-in request frame, payloads in a stand-in store output, as an actor answers.
 */
function writeResponseFrame(response: ResponseFrame): Buffer {
  const frame = Buffer.concat([
    Buffer.from("padding"),
    ...response.tuples.map((tuple) => tuple.key),
    response.responseId,
  ]);
  const payloads = Buffer.concat([Buffer.from("output"), ...response.tuples.map((tuple) => tuple.payload)]);
  const tuples = new KeyTuples();
  tuples.add();
  let keyAt = "padding".length;
  let payloadAt = "output".length;
  for (const tuple of response.tuples) {
    const i = tuples.add();
    tuples.keyStart[i] = keyAt;
    tuples.keyLength[i] = tuple.key.length;
    tuples.latticeType[i] = tuple.latticeType;
    tuples.error[i] = tuple.error;
    tuples.payloadStart[i] = payloadAt;
    tuples.payloadLength[i] = tuple.payload.length;
    tuples.addressCacheSize[i] = tuple.addressCacheSize;
    tuples.invalidate[i] = tuple.invalidate ? 1 : 0;
    keyAt += tuple.key.length;
    payloadAt += tuple.payload.length;
  }
  const head: FrameHead = {
    frame,
    type: response.type,
    firstTuple: 1,
    tuplesRead: response.tuples.length,
    tupleCount: response.tuples.length,
    responseAddress: "tcp://h:1",
    idStart: keyAt,
    idLength: response.responseId.length,
    error: response.error,
    putAcks: 0,
    row: 0,
  };
  return writeResponse(head, tuples, payloads);
}

/** Views compare by their bytes only. */
function plain(tuple: FrameTuple): FrameTuple {
  return { ...tuple, key: Uint8Array.from(tuple.key), payload: Uint8Array.from(tuple.payload) };
}

describe("KeyRequest frames read in place", () => {
  it("reads what protobufjs writes", () => {
    fc.assert(
      fc.property(keyRequest, (request) => {
        const frame = readRequestFrame(Buffer.from(encodeKeyRequest(request)));
        expect(frame.type).toBe(request.type);
        expect(frame.responseAddress).toBe(request.response_address);
        expect(Buffer.from(frame.requestId).toString("utf8")).toBe(request.request_id);
        expect(frame.putAcks).toBe(request.put_acks ?? 0);
        expect(frame.tuples.map(plain)).toEqual(request.tuples.map(asFrameTuple));
      }),
      { numRuns: 300 },
    );
  });

  it("skips unknown fields of every wire type, in the message and in tuples", () => {
    const request = {
      type: RequestType.PUT,
      tuples: [{ key: "k", lattice_type: 1, payload: bytes("v") }],
      response_address: "tcp://h:1",
      request_id: "7",
    };
    const unknown = Buffer.from([
      0x48,
      0x96,
      0x01, // field 9, varint 150
      0x51,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 10, fixed64
      0x5a,
      0x02,
      0xff,
      0xfe, // field 11, length-delimited
      0x65,
      1,
      2,
      3,
      4, // field 12, fixed32
    ]);
    const tupleWithUnknown = Buffer.concat([
      Buffer.from(encodeKeyRequest({ ...request, tuples: [] })),
      tupleField(Buffer.concat([unknown, Buffer.from("0a016b100122017b", "hex")])),
    ]);
    const frame = readRequestFrame(Buffer.concat([unknown, tupleWithUnknown]));
    expect(frame.type).toBe(RequestType.PUT);
    expect(frame.tuples.map(plain)).toEqual([{ ...frameTuple(bytes("k")), latticeType: 1, payload: bytes("{") }]);
  });

  it("reads put_acks (annakv's extension) as protobufjs does: the low 32 bits, the last when repeated; strict about its wire type", () => {
    const request = {
      type: RequestType.PUT,
      tuples: [{ key: "k", lattice_type: 1, payload: bytes("v") }],
      response_address: "tcp://h:1",
      request_id: "7",
    };
    const withAcks = (...fields: number[][]) =>
      Buffer.concat([Buffer.from(encodeKeyRequest(request)), ...fields.map((field) => Buffer.from(field))]);
    const cases: [Buffer, number][] = [
      [Buffer.from(encodeKeyRequest(request)), 0],
      [Buffer.from(encodeKeyRequest({ ...request, put_acks: 0 })), 0],
      [Buffer.from(encodeKeyRequest({ ...request, put_acks: 3 })), 3],
      [Buffer.from(encodeKeyRequest({ ...request, put_acks: 0xffffffff })), 0xffffffff],
      [withAcks([0x78, 0x85, 0x80, 0x80, 0x80, 0x10]), 5], // 2^32 + 5
      [withAcks([0x78, 0x02], [0x78, 0x04]), 4],
    ];
    for (const [frame, putAcks] of cases) {
      expect(readRequestFrame(frame).putAcks).toBe(putAcks);
      expect(decodeKeyRequest(frame).put_acks).toBe(putAcks);
    }
    // As for every known field, the wrong wire type is a malformed frame.
    expect(() => readRequestFrame(withAcks([0x7a, 0x01, 0x03]))).toThrow(/wire type 2 where 0/);
  });

  it("reads at most maxTuples tuples but counts them all, still checking their framing", () => {
    const request = {
      type: RequestType.GET,
      tuples: Array.from({ length: 7 }, (_, i) => ({ key: `k${i}` })),
      response_address: "tcp://h:1",
      request_id: "r",
    };
    const frame = readRequestFrame(Buffer.from(encodeKeyRequest(request)), 3);
    expect(frame.tupleCount).toBe(7);
    expect(frame.tuples.map((tuple) => Buffer.from(tuple.key).toString())).toEqual(["k0", "k1", "k2"]);
    expect(frame.responseAddress).toBe("tcp://h:1");
    expect(readRequestFrame(Buffer.from(encodeKeyRequest(request))).tuples).toHaveLength(7);
    // A tuple past the bound sent as a varint is still a malformed frame.
    expect(() =>
      readRequestFrame(Buffer.concat([Buffer.from(encodeKeyRequest(request)), Buffer.from([0x10, 0x01])]), 3),
    ).toThrow(ProtocolError);
  });

  it("appends to columns that grow past their first capacity, earlier rows kept", () => {
    const tuples = new KeyTuples();
    const requests = [0, 1, 2].map((r) => ({
      type: RequestType.PUT,
      tuples: Array.from({ length: 200 }, (_, i) => ({ key: `k${r}-${i}`, lattice_type: 1, payload: bytes(`v${i}`) })),
      response_address: "tcp://h:1",
      request_id: `${r}`,
    }));
    const heads = requests.map((request) => readRequest(Buffer.from(encodeKeyRequest(request)), tuples));
    expect(tuples.count).toBe(600);
    heads.forEach((head, r) => {
      expect(head.firstTuple).toBe(200 * r);
      const read = rows(tuples, head.firstTuple, head.tuplesRead, head.frame, head.frame);
      expect(read.map((tuple) => Buffer.from(tuple.key).toString())).toEqual(
        requests[r].tuples.map((tuple) => tuple.key),
      );
      expect(read.map((tuple) => Buffer.from(tuple.payload).toString())).toEqual(
        requests[r].tuples.map((tuple) => Buffer.from(tuple.payload).toString()),
      );
    });
  });

  it("refuses truncated frames, groups, wrong wire types and keys that are not UTF-8", () => {
    const valid = Buffer.from(
      encodeKeyRequest({
        type: RequestType.GET,
        tuples: [{ key: "abc" }],
        response_address: "tcp://h:1",
        request_id: "r",
      }),
    );
    for (let cut = 1; cut < valid.length; cut++) {
      // A cut between two top-level fields leaves a shorter valid message: no error then.
      const prefix = valid.subarray(0, cut);
      let error: unknown;
      try {
        readRequestFrame(prefix);
      } catch (caught) {
        error = caught;
      }
      if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
    }
    expect(() => readRequestFrame(valid.subarray(0, valid.length - 1))).toThrow(ProtocolError);
    expect(() => readRequestFrame(Buffer.from([0x0b, 0x0c]))).toThrow(/wire type 3/); // a group
    expect(() => readRequestFrame(Buffer.from([0x0a, 0x01, 0x00]))).toThrow(/wire type 2 where 0/); // type as bytes
    expect(() => readRequestFrame(tupleField(Buffer.from([0x0a, 0x02, 0xff, 0xfe])))).toThrow(/not UTF-8/);
    expect(() =>
      readRequestFrame(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    ).toThrow(/varint/);
    // Multi-byte UTF-8 keys are fine.
    expect(
      Buffer.from(readRequestFrame(tupleField(Buffer.from([0x0a, 0x03, 0xe2, 0x82, 0xac]))).tuples[0].key).toString(),
    ).toBe("€");
  });
});

describe("KeyResponse frames written and read in place", () => {
  it("writes what protobufjs reads, and reads it back", () => {
    fc.assert(
      fc.property(responseFrame, (response) => {
        const frame = writeResponseFrame(response);
        expect(Buffer.isBuffer(frame)).toBe(true);
        const reference = decodeKeyResponse(frame);
        expect(reference.type).toBe(response.type);
        expect(reference.response_id).toBe(Buffer.from(response.responseId).toString("utf8"));
        expect(reference.error).toBe(response.error);
        expect(reference.tuples.map(asFrameTuple)).toEqual(response.tuples.map(plain));
        const readBack = readResponseFrame(frame);
        expect({
          ...readBack,
          responseId: Uint8Array.from(readBack.responseId),
          tuples: readBack.tuples.map(plain),
        }).toEqual({
          ...response,
          responseId: Uint8Array.from(response.responseId),
          tuples: response.tuples.map(plain),
        });
      }),
      { numRuns: 300 },
    );
  });

  it("reads what protobufjs writes", () => {
    const response: KeyResponse = {
      type: RequestType.GET,
      tuples: [
        { key: "a", lattice_type: 1, error: AnnaError.NO_ERROR, payload: bytes("x") },
        { key: "b", error: AnnaError.WRONG_THREAD, invalidate: true },
      ],
      response_id: "id-9",
      error: AnnaError.TIMEOUT,
    };
    const encoded = Buffer.from(encodeKeyResponse(response));
    const frame = readResponseFrame(encoded);
    expect(() => readResponseFrame(encoded.subarray(0, encoded.length - 1))).toThrow(ProtocolError);
    expect(frame.error).toBe(AnnaError.TIMEOUT);
    expect(Buffer.from(frame.responseId).toString()).toBe("id-9");
    expect(frame.tuples.map(plain)).toEqual(response.tuples.map(asFrameTuple));
  });

  it("leaves out every field at its proto3 default", () => {
    const frame = writeResponseFrame({
      type: RequestType.PUT,
      tuples: [{ ...frameTuple(bytes("k")), latticeType: 1 }],
      responseId: bytes("1"),
      error: AnnaError.NO_ERROR,
    });
    // type=1 (2), tuples=2 { key=1 "k", lattice_type=2 (1) }, response_id=3 "1"; no error fields.
    expect(frame.toString("hex")).toBe("0802" + "1205" + "0a016b" + "1001" + "1a0131");
  });
});

/** A top-level field 2 (tuples) around `body`. */
function tupleField(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x12, body.length]), body]);
}

describe("KeyAddressRequest frames read with a bound", () => {
  it("reads what protobufjs writes, keys past the bound counted but not kept", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { maxLength: 20 }),
        fc.string(),
        fc.string(),
        fc.nat(25),
        (keys, responseAddress, requestId, maxKeys) => {
          const frame = Buffer.from(
            encodeKeyAddressRequest({ keys, response_address: responseAddress, request_id: requestId }),
          );
          const read = readAddressRequestFrame(frame, maxKeys);
          expect(read.keyCount).toBe(keys.length);
          expect(read.keys).toEqual(keys.slice(0, maxKeys));
          expect(read.response_address).toBe(responseAddress);
          expect(read.request_id).toBe(requestId);
        },
      ),
    );
  });

  it("refuses a truncated frame and a key sent as a varint, even past the bound", () => {
    const valid = Buffer.from(
      encodeKeyAddressRequest({ keys: ["a", "b"], response_address: "tcp://h:1", request_id: "r" }),
    );
    expect(() => readAddressRequestFrame(valid.subarray(0, valid.length - 1))).toThrow(ProtocolError);
    expect(() => readAddressRequestFrame(Buffer.concat([valid, Buffer.from([0x10, 0x01])]), 1)).toThrow(ProtocolError);
  });
});
