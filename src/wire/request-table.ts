/**
 * The layout of the Wasm core's request table (docs/wasm-abi.md, "Serving KeyRequests";
 * assembly/requests.ts has the same columns): one int32 column per request field, then one
 * per tuple field, in KeyTuples' order (protocol/key-frames.ts).
 */
export enum RequestColumn {
  STATUS,
  TYPE,
  FIRST_TUPLE,
  TUPLES_READ,
  TUPLE_COUNT,
  ADDRESS_START,
  ADDRESS_LENGTH,
  ID_START,
  ID_LENGTH,
  ERROR,
  SERVE,
  RESPONSE_START,
  RESPONSE_LENGTH,
  /** KeyRequest's put_acks (annakv's extension): uint32 bits, 0 when absent; read it with `>>> 0`. */
  PUT_ACKS,
}

export const REQUEST_COLUMNS = RequestColumn.PUT_ACKS + 1;
/** keyStart, keyLength, latticeType, error, payloadStart, payloadLength, addressCacheSize, invalidate, status, hashHigh, hashLow. */
export const TUPLE_COLUMNS = 11;
