/**
 * Operation statuses shared by both engines, the batch format and the Wasm ABI
 * (docs/wasm-abi.md, "Status codes"). The numbers are part of the ABI.
 */
export enum Status {
  OK = 0,
  NOT_FOUND = 1,
  LATTICE = 2,
  MALFORMED = 3,
  KEY_TOO_LARGE = 4,
  VALUE_TOO_LARGE = 5,
  OUT_OF_MEMORY = 6,
  BAD_BATCH = 7,
}

export type StoreErrorCode =
  "LATTICE" | "MALFORMED" | "KEY_TOO_LARGE" | "VALUE_TOO_LARGE" | "OUT_OF_MEMORY" | "BAD_BATCH";

const messages: Record<StoreErrorCode, string> = {
  LATTICE: "unknown lattice type, or a type that conflicts with the stored value",
  MALFORMED: "the payload does not decode as its lattice type",
  KEY_TOO_LARGE: "the key is longer than maxKeyBytes",
  VALUE_TOO_LARGE: "the value is longer than maxValueBytes",
  OUT_OF_MEMORY: "the store's memory limit would be exceeded",
  BAD_BATCH: "the batch's framing is broken; nothing in it was executed",
};

/** Every store failure; the store is unchanged after one. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, detail?: string) {
    super(detail === undefined ? messages[code] : `${messages[code]}: ${detail}`);
    this.name = "StoreError";
    this.code = code;
  }
}

/** Turns a failing status into its error; OK and NOT_FOUND are not errors. */
export function statusToError(status: Status): StoreError {
  switch (status) {
    case Status.LATTICE:
      return new StoreError("LATTICE");
    case Status.MALFORMED:
      return new StoreError("MALFORMED");
    case Status.KEY_TOO_LARGE:
      return new StoreError("KEY_TOO_LARGE");
    case Status.VALUE_TOO_LARGE:
      return new StoreError("VALUE_TOO_LARGE");
    case Status.OUT_OF_MEMORY:
      return new StoreError("OUT_OF_MEMORY");
    case Status.BAD_BATCH:
      return new StoreError("BAD_BATCH");
    default:
      throw new Error(`status ${status} is not an error`);
  }
}
