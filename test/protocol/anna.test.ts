import {
  AnnaError,
  decodeKeyAddressResponse,
  decodeKeyRequest,
  encodeKeyAddressResponse,
  encodeKeyRequest,
  ProtocolError,
  RequestType,
} from "../../src/protocol/anna";

describe("anna.proto codec", () => {
  it("writes Anna's field numbers", () => {
    const frame = encodeKeyRequest({
      type: RequestType.PUT,
      tuples: [{ key: "k", lattice_type: 1, payload: new Uint8Array([8, 1]) }],
      response_address: "tcp://x",
      request_id: "1",
    });
    // type=1 (varint 2), tuples=2 { key=1 "k", lattice_type=2 (1), payload=4 }, response_address=3, request_id=4
    expect(Buffer.from(frame).toString("hex")).toBe(
      "0802" + "1209" + "0a016b" + "1001" + "22020801" + "1a077463703a2f2f78" + "220131",
    );
  });

  it("round-trips a request with proto3 defaults filled in", () => {
    const frame = encodeKeyRequest({
      type: RequestType.GET,
      tuples: [{ key: "a" }, { key: "b" }],
      response_address: "tcp://h:1",
      request_id: "r",
    });
    const request = decodeKeyRequest(frame);
    expect(request.type).toBe(RequestType.GET);
    expect(request.tuples.map((tuple) => tuple.key)).toEqual(["a", "b"]);
    expect(request.tuples[0].address_cache_size).toBe(0);
    expect(request.tuples[0].invalidate).toBe(false);
  });

  it("refuses truncated and garbage frames with ProtocolError", () => {
    const frame = encodeKeyRequest({
      type: RequestType.GET,
      tuples: [{ key: "abc" }],
      response_address: "tcp://h:1",
      request_id: "r",
    });
    expect(() => decodeKeyRequest(frame.subarray(0, frame.length - 2))).toThrow(ProtocolError);
    // Cut inside the last string: protobufjs's own Buffer reader would return a shorter string.
    expect(() => decodeKeyRequest(Buffer.from(frame.subarray(0, frame.length - 1)))).toThrow(ProtocolError);
    expect(() => decodeKeyRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(ProtocolError);
  });

  it("round-trips address responses", () => {
    const frame = encodeKeyAddressResponse({
      addresses: [{ key: "k", ips: ["tcp://127.0.0.1:6200"] }],
      error: AnnaError.NO_ERROR,
      response_id: "7",
    });
    expect(decodeKeyAddressResponse(frame)).toEqual({
      addresses: [{ key: "k", ips: ["tcp://127.0.0.1:6200"] }],
      error: AnnaError.NO_ERROR,
      response_id: "7",
    });
  });
});
