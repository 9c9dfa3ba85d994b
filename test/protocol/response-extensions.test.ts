/**
 * annakv's KeyResponse extensions appended to a response the store wrote
 * (src/protocol/response-extensions.ts): protobufjs, reading the project's anna.proto,
 * finds them as stable_micros = 16, accept_floor_micros = 17 and stable_epoch = 18, and a
 * response without them is left as it was.
 */
import { decodeKeyResponse, encodeKeyResponse, RequestType, responseMicros } from "../../src/protocol/anna";
import { responseExtensionBytes, type ResponseExtensions } from "../../src/protocol/response-extensions";

const response = encodeKeyResponse({
  type: RequestType.GET,
  tuples: [{ key: "k", lattice_type: 1, payload: Uint8Array.of(1, 2) }],
  response_id: "r1",
});

/** The response as the reply sink sends it: the extension bytes, if any, after it in one frame. */
function withResponseExtensions(bytes: Uint8Array, extensions: ResponseExtensions): Uint8Array {
  const tail = responseExtensionBytes(extensions);
  return tail === undefined ? bytes : Buffer.concat([bytes, tail]);
}

describe("KeyResponse extensions", () => {
  it("decode as fields 16, 17 and 18, beside the fields the store wrote", () => {
    const stableMicros = 1_796_533_158_871_000;
    const epoch = 2 ** 53 - 3;
    const extended = withResponseExtensions(response, {
      stableMicros,
      acceptFloorMicros: stableMicros + 12_345,
      epoch,
    });
    const decoded = decodeKeyResponse(extended.slice());
    expect(responseMicros(decoded.stable_micros)).toBe(stableMicros);
    expect(responseMicros(decoded.accept_floor_micros)).toBe(stableMicros + 12_345);
    expect(responseMicros(decoded.stable_epoch)).toBe(epoch);
    expect(decoded.response_id).toBe("r1");
    expect(decoded.tuples[0].key).toBe("k");
  });

  it("leave out a field that is zero, and a response with neither as it was", () => {
    expect(withResponseExtensions(response, { stableMicros: 0, acceptFloorMicros: 0, epoch: 0 })).toBe(response);
    const stableOnly = withResponseExtensions(response, { stableMicros: 5, acceptFloorMicros: 0, epoch: 0 });
    // A two-byte tag (field 16, varint) and a one-byte value.
    expect(stableOnly.length).toBe(response.length + 3);
    const decoded = decodeKeyResponse(stableOnly.slice());
    expect(responseMicros(decoded.stable_micros)).toBe(5);
    expect(responseMicros(decoded.accept_floor_micros)).toBe(0);
    expect(responseMicros(decoded.stable_epoch)).toBe(0);
  });

  it("read as zero from a response without them (Anna's servers)", () => {
    expect(responseMicros(decodeKeyResponse(response).stable_micros)).toBe(0);
  });
});
