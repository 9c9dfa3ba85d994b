/**
 * The engine side of serving KeyRequests: reading a burst of frames into KeyTuples, and,
 * once the request handler has decided every tuple's fate, running the tuples left with
 * no error against the store and writing each request's KeyResponse. Two servers, same
 * bytes out: WasmRequestServer does both inside the Wasm core (one call each per burst,
 * no JS per tuple); BatchRequestServer does them in TypeScript around the store's batch
 * call, for any store (the TS engine's; the Wasm engine's in the differential test).
 */
import { Opcode, opBytes, BATCH_HEADER_BYTES, BatchWriter, RESULT_HEADER_BYTES } from "../core/batch";
import { Status, StoreError } from "../core/status";
import type { Store } from "../core/store";
import { RequestColumn } from "../wire/request-table";
import { WasmStore } from "../core/wasm-store";
import { LatticeType } from "../lattices/lattice-type";
import { AnnaError, RequestType } from "../protocol/anna";
import { FrameHead, KeyTuples, readRequest, responseAddressAt, writeResponse } from "../protocol/key-frames";

/** A burst of KeyRequests as a server read them. */
export interface RequestBurst {
  /** The frames that are KeyRequests, in order; their tuples are rows of `tuples`. */
  heads: FrameHead[];
  tuples: KeyTuples;
  /** Why each frame that is not a KeyRequest was refused. */
  refusals: string[];
}

export interface RequestServer {
  /** Reads the frames; tuples past `maxTuplesPerRequest` in a request are counted, not read. */
  read(frames: readonly Uint8Array[], maxTuplesPerRequest: number): RequestBurst;
  /**
   * Answers `heads` (some of the burst's, decided in its tuples: a tuple with error
   * NO_ERROR is run, unless its request has an error of its own): returns their
   * KeyResponses in order, views valid until the server or its store is called again.
   */
  answer(burst: RequestBurst, heads: readonly FrameHead[]): Uint8Array[];
}

/** A store's error as Anna's per-tuple error. Anna's enum has no size or memory codes. */
export function annaErrorOf(status: Status): AnnaError {
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

export function requestServerFor(store: Store): RequestServer {
  return store instanceof WasmStore ? new WasmRequestServer(store) : new BatchRequestServer(store);
}

/** Whether the request's tuples with no error are run (a GET or PUT the handler did not refuse whole). */
function runsTuples(head: FrameHead): boolean {
  return head.error === AnnaError.NO_ERROR && (head.type === RequestType.GET || head.type === RequestType.PUT);
}

export class BatchRequestServer implements RequestServer {
  private readonly tuples = new KeyTuples();

  constructor(private readonly store: Store) {}

  read(frames: readonly Uint8Array[], maxTuplesPerRequest: number): RequestBurst {
    const tuples = this.tuples;
    tuples.count = 0;
    const heads: FrameHead[] = [];
    const refusals: string[] = [];
    for (const frame of frames) {
      try {
        const head = readRequest(frame, tuples, maxTuplesPerRequest);
        head.row = heads.length + refusals.length;
        heads.push(head);
      } catch (error) {
        refusals.push((error as Error).message);
      }
    }
    return { heads, tuples, refusals };
  }

  answer(burst: RequestBurst, heads: readonly FrameHead[]): Uint8Array[] {
    const { tuples } = burst;
    let opsBytes = 0;
    for (const head of heads) {
      if (!runsTuples(head)) continue;
      const isPut = head.type === RequestType.PUT;
      // A GET's batch op carries no payload, whatever the client put in the tuple.
      for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
        if (tuples.error[i] === AnnaError.NO_ERROR)
          opsBytes += opBytes(tuples.keyLength[i], isPut ? tuples.payloadLength[i] : 0);
      }
    }
    // GET payloads are views into the batch output: every response is written before the store is called again.
    const output = opsBytes > 0 ? this.runBatch(heads, tuples, BATCH_HEADER_BYTES + opsBytes) : new Uint8Array(0);
    return heads.map((head) => writeResponse(head, tuples, output));
  }

  /** Writes the tuples to run into one batch, straight from their frames, runs it and answers them from its results. */
  private runBatch(heads: readonly FrameHead[], tuples: KeyTuples, batchBytes: number): Uint8Array {
    const writer = new BatchWriter(this.store.batchBuffer(batchBytes));
    for (const head of heads) {
      if (!runsTuples(head)) continue;
      const frame = head.frame;
      const isGet = head.type === RequestType.GET;
      for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
        if (tuples.error[i] !== AnnaError.NO_ERROR) continue;
        if (isGet)
          writer.addSpans(Opcode.GET, LatticeType.NONE, frame, tuples.keyStart[i], tuples.keyLength[i], frame, 0, 0);
        else
          writer.addSpans(
            Opcode.PUT,
            tuples.latticeType[i],
            frame,
            tuples.keyStart[i],
            tuples.keyLength[i],
            frame,
            tuples.payloadStart[i],
            tuples.payloadLength[i],
          );
      }
    }
    const output = this.store.executeBatchInPlace(writer.finish());
    const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
    let offset = BATCH_HEADER_BYTES;
    for (const head of heads) {
      if (!runsTuples(head)) continue;
      const isGet = head.type === RequestType.GET;
      for (let i = head.firstTuple, end = i + head.tuplesRead; i < end; i++) {
        if (tuples.error[i] !== AnnaError.NO_ERROR) continue;
        const status = output[offset] as Status;
        const length = view.getUint32(offset + 2, true);
        const start = offset + RESULT_HEADER_BYTES;
        tuples.status[i] = status;
        tuples.error[i] = annaErrorOf(status);
        if (status === Status.OK && isGet) {
          tuples.latticeType[i] = output[offset + 1];
          tuples.payloadStart[i] = start;
          tuples.payloadLength[i] = length;
        } else tuples.payloadLength[i] = 0;
        offset = start + length;
      }
    }
    return output;
  }
}

/** The core's reasons (the STATUS column) for a frame that is not a KeyRequest. */
const PARSE_REFUSALS: Record<number, string> = {
  1: "not a valid KeyRequest: truncated or malformed field",
  2: "not a valid KeyRequest: key is not UTF-8",
};

/**
 * A burst of more bytes goes through the batch server instead: copying it into the core
 * would grow the instance's memory (which never shrinks) by what a client sent, values
 * over the limit included, where the batch takes only what the store may keep. So does a
 * burst the core has no memory left to read (a store at its limit still answers).
 */
const CORE_BURST_BYTES_MAX = 4 * 1024 * 1024;
/** Rows the table starts with: a burst of a few hundred 16-tuple requests. */
const INITIAL_REQUEST_ROWS = 256;
const INITIAL_TUPLE_ROWS = 4096;
const FRAME_LENGTH_BYTES = 4;

export class WasmRequestServer implements RequestServer {
  private requestRows = 0;
  private tupleRows = 0;
  private requestColumns: Int32Array[] = [];
  /** Views of the table's tuple columns, taken again whenever the memory grows. */
  private tuples: KeyTuples | undefined;
  /** For the bursts the core does not read (see CORE_BURST_BYTES_MAX). */
  private readonly batchServer: BatchRequestServer;
  /** The burst last read went to batchServer: so does its answer. */
  private lastBurstViaBatch = false;

  constructor(private readonly store: WasmStore) {
    this.batchServer = new BatchRequestServer(store);
    // Taken now, while the store has room: a store that fills up later keeps its table.
    this.reserveTable(INITIAL_REQUEST_ROWS, INITIAL_TUPLE_ROWS);
  }

  read(frames: readonly Uint8Array[], maxTuplesPerRequest: number): RequestBurst {
    let inputBytes = 0;
    for (const frame of frames) inputBytes += FRAME_LENGTH_BYTES + frame.length;
    const tupleCount =
      inputBytes > CORE_BURST_BYTES_MAX ? undefined : this.readIntoCore(frames, inputBytes, maxTuplesPerRequest);
    this.lastBurstViaBatch = tupleCount === undefined;
    if (tupleCount === undefined) return this.batchServer.read(frames, maxTuplesPerRequest);
    const memory = this.store.memoryView();
    const tuples = this.tuples!;
    tuples.count = tupleCount;
    const columns = this.requestColumns;
    const heads: FrameHead[] = [];
    const refusals: string[] = [];
    for (let row = 0; row < frames.length; row++) {
      const status = columns[RequestColumn.STATUS][row];
      if (status !== 0) {
        refusals.push(PARSE_REFUSALS[status] ?? `not a valid KeyRequest (reason ${status})`);
        continue;
      }
      heads.push({
        frame: memory,
        type: columns[RequestColumn.TYPE][row],
        firstTuple: columns[RequestColumn.FIRST_TUPLE][row],
        tuplesRead: columns[RequestColumn.TUPLES_READ][row],
        tupleCount: columns[RequestColumn.TUPLE_COUNT][row],
        responseAddress: responseAddressAt(
          memory,
          columns[RequestColumn.ADDRESS_START][row],
          columns[RequestColumn.ADDRESS_LENGTH][row],
        ),
        idStart: columns[RequestColumn.ID_START][row],
        idLength: columns[RequestColumn.ID_LENGTH][row],
        error: AnnaError.NO_ERROR,
        putAcks: columns[RequestColumn.PUT_ACKS][row] >>> 0,
        row,
      });
    }
    return { heads, tuples, refusals };
  }

  answer(burst: RequestBurst, heads: readonly FrameHead[]): Uint8Array[] {
    if (this.lastBurstViaBatch) return this.batchServer.answer(burst, heads);
    const columns = this.requestColumns;
    const serve = columns[RequestColumn.SERVE];
    const rows = burst.heads.length + burst.refusals.length;
    // A burst answered again request by request, after a call that threw, serves only the rows asked for.
    serve.fill(0, 0, rows);
    for (const head of heads) {
      serve[head.row] = 1;
      columns[RequestColumn.ERROR][head.row] = head.error;
      columns[RequestColumn.TUPLES_READ][head.row] = head.tuplesRead;
    }
    let output: Uint8Array;
    try {
      output = this.store.serveRequests(rows);
    } finally {
      // Serving may have grown the memory, even when it threw: the table's views are taken again before use.
      this.refreshViews();
    }
    const starts = this.requestColumns[RequestColumn.RESPONSE_START];
    const lengths = this.requestColumns[RequestColumn.RESPONSE_LENGTH];
    return heads.map((head) => output.subarray(starts[head.row], starts[head.row] + lengths[head.row]));
  }

  /**
   * Copies the frames into the core's input region and reads them into its table; returns
   * the tuple rows used, or undefined when the core has no memory for the frames or the
   * table (nothing is read then). The table is counted for and grown only when a burst
   * does not fit it: most bursts cost one pass over their frames.
   */
  private readIntoCore(
    frames: readonly Uint8Array[],
    inputBytes: number,
    maxTuplesPerRequest: number,
  ): number | undefined {
    try {
      const input = this.store.batchBuffer(inputBytes);
      let offset = 0;
      for (const frame of frames) {
        const length = frame.length;
        input[offset] = length;
        input[offset + 1] = length >>> 8;
        input[offset + 2] = length >>> 16;
        input[offset + 3] = length >>> 24;
        input.set(frame, offset + FRAME_LENGTH_BYTES);
        offset += FRAME_LENGTH_BYTES + length;
      }
      let tupleCount =
        frames.length <= this.requestRows
          ? this.store.parseRequests(inputBytes, frames.length, maxTuplesPerRequest)
          : undefined;
      if (tupleCount === undefined) {
        this.reserveTable(frames.length, this.store.countRequests(inputBytes, frames.length, maxTuplesPerRequest));
        tupleCount = this.store.parseRequests(inputBytes, frames.length, maxTuplesPerRequest);
        if (tupleCount === undefined) throw new Error("request table too small for the tuples counted for it");
      }
      // Copying the frames in may have grown the memory: the table's views are taken again before use.
      this.refreshViews();
      return tupleCount;
    } catch (error) {
      if (error instanceof StoreError && error.code === "OUT_OF_MEMORY") return undefined;
      throw error;
    }
  }

  /** Makes the table hold the rows asked for (growing it by doubling), with fresh views. */
  private reserveTable(requests: number, tuples: number): void {
    if (requests <= this.requestRows && tuples <= this.tupleRows) return;
    const requestRows = Math.max(
      requests,
      INITIAL_REQUEST_ROWS,
      this.requestRows * (requests > this.requestRows ? 2 : 1),
    );
    const tupleRows = Math.max(tuples, INITIAL_TUPLE_ROWS, this.tupleRows * (tuples > this.tupleRows ? 2 : 1));
    this.takeViews(requestRows, tupleRows);
  }

  private refreshViews(): void {
    if (this.requestColumns[0].byteLength === 0) this.takeViews(this.requestRows, this.tupleRows);
  }

  /** Views of the table with these rows; the sizes are kept only once the core has the table. */
  private takeViews(requestRows: number, tupleRows: number): void {
    const { requestColumns, tupleColumns } = this.store.requestTable(requestRows, tupleRows);
    this.requestRows = requestRows;
    this.tupleRows = tupleRows;
    this.requestColumns = requestColumns;
    // The burst handed out keeps its KeyTuples: the same object, pointed at the new views.
    if (this.tuples === undefined) this.tuples = new KeyTuples(tupleColumns);
    else this.tuples.adopt(tupleColumns);
  }
}
