/**
 * ZMTP 3.1 byte layouts (https://rfc.zeromq.org/spec/37/), the wire protocol libzmq speaks
 * over TCP and IPC: the 64-byte greeting, the NULL mechanism's READY command, PING/PONG
 * heartbeats, ERROR, and the frame header (flags + 1- or 8-byte size).
 */

export const GREETING_BYTES = 64;
/** Flags byte of a frame header. */
export const FLAG_MORE = 0x01;
export const FLAG_LONG = 0x02;
export const FLAG_COMMAND = 0x04;
/** The largest body a short (1-byte size) frame header can announce. */
export const SHORT_FRAME_MAX_BYTES = 255;
export const SHORT_HEADER_BYTES = 2;
export const LONG_HEADER_BYTES = 9;

const SIGNATURE_FIRST = 0xff;
const SIGNATURE_LAST = 0x7f;
const VERSION_MAJOR = 3;
const VERSION_MINOR = 1;
const MECHANISM_OFFSET = 12;
const MECHANISM_BYTES = 20;
const NULL_MECHANISM = "NULL";
const TWO_POW_32 = 0x1_0000_0000;

/** Ours: ZMTP 3.1, NULL mechanism, not as-server (NULL has no roles). */
export const GREETING: Buffer = (() => {
  const greeting = Buffer.alloc(GREETING_BYTES);
  greeting[0] = SIGNATURE_FIRST;
  // The padding's last byte is 1, as libzmq writes it: a ZMTP 1.0 peer reads the signature
  // as an empty identity frame and knows to stop there.
  greeting[8] = 0x01;
  greeting[9] = SIGNATURE_LAST;
  greeting[10] = VERSION_MAJOR;
  greeting[11] = VERSION_MINOR;
  greeting.write(NULL_MECHANISM, MECHANISM_OFFSET, "latin1");
  return greeting;
})();

/**
 * Why a peer's greeting, of which `bytes` is the start received so far, cannot lead to a
 * ZMTP 3 NULL session, or undefined while it still can. Checked as bytes arrive, so that
 * a peer speaking something else (HTTP, garbage) is refused at its first byte.
 */
export function greetingProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length > 0 && bytes[0] !== SIGNATURE_FIRST) return "not a ZeroMQ peer (bad greeting signature)";
  if (bytes.length > 9 && (bytes[9] & 0x01) === 0) return "not a ZeroMQ peer (bad greeting signature)";
  if (bytes.length > 10 && bytes[10] < VERSION_MAJOR) return `ZMTP ${bytes[10]}.x peer: only ZMTP 3 is spoken here`;
  if (bytes.length >= MECHANISM_OFFSET + MECHANISM_BYTES) {
    const mechanism = Buffer.from(bytes.buffer, bytes.byteOffset + MECHANISM_OFFSET, MECHANISM_BYTES)
      .toString("latin1")
      .replace(/\0+$/, "");
    if (mechanism !== NULL_MECHANISM)
      return `security mechanism ${JSON.stringify(mechanism)} is not supported (only NULL)`;
  }
  return undefined;
}

/** A frame header for a body of `bodyBytes`, written at `offset` of `target`; returns its length. */
export function writeFrameHeader(target: Uint8Array, offset: number, flags: number, bodyBytes: number): number {
  if (bodyBytes <= SHORT_FRAME_MAX_BYTES) {
    target[offset] = flags;
    target[offset + 1] = bodyBytes;
    return SHORT_HEADER_BYTES;
  }
  target[offset] = flags | FLAG_LONG;
  // The size as 8 bytes big-endian, from the two 32-bit halves of a safe integer.
  let high = Math.floor(bodyBytes / TWO_POW_32);
  let low = bodyBytes >>> 0;
  for (let i = 8; i >= 5; i--, low >>>= 8) target[offset + i] = low & 0xff;
  for (let i = 4; i >= 1; i--, high >>>= 8) target[offset + i] = high & 0xff;
  return LONG_HEADER_BYTES;
}

export function frameHeaderBytes(bodyBytes: number): number {
  return bodyBytes <= SHORT_FRAME_MAX_BYTES ? SHORT_HEADER_BYTES : LONG_HEADER_BYTES;
}

/** A whole command frame: name (1-byte length + name) then data. */
export function commandFrame(name: string, data: Uint8Array): Buffer {
  const bodyBytes = 1 + name.length + data.length;
  const frame = Buffer.alloc(frameHeaderBytes(bodyBytes) + bodyBytes);
  let offset = writeFrameHeader(frame, 0, FLAG_COMMAND, bodyBytes);
  frame[offset++] = name.length;
  offset += frame.write(name, offset, "latin1");
  frame.set(data, offset);
  return frame;
}

/** The NULL mechanism's READY, naming our socket type (libzmq checks it against its own). */
export function readyCommand(socketType: string): Buffer {
  const name = Buffer.from("Socket-Type", "latin1");
  const value = Buffer.from(socketType, "latin1");
  const data = Buffer.alloc(1 + name.length + 4 + value.length);
  data[0] = name.length;
  name.copy(data, 1);
  data.writeUInt32BE(value.length, 1 + name.length);
  value.copy(data, 1 + name.length + 4);
  return commandFrame("READY", data);
}

export function errorCommand(reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 255), "latin1");
  return commandFrame("ERROR", Buffer.concat([Buffer.of(text.length), text]));
}

export interface Command {
  name: string;
  data: Uint8Array;
}

/** A command frame's body split into name and data; undefined when it is too short to hold its name. */
export function parseCommand(body: Uint8Array): Command | undefined {
  if (body.length < 1 || body.length < 1 + body[0]) return undefined;
  const name = Buffer.from(body.buffer, body.byteOffset + 1, body[0]).toString("latin1");
  return { name, data: body.subarray(1 + body[0]) };
}

/** READY's metadata properties by lower-cased name (ZMTP names are case-insensitive); undefined when malformed. */
export function parseProperties(data: Uint8Array): Map<string, Buffer> | undefined {
  const properties = new Map<string, Buffer>();
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  let offset = 0;
  while (offset < bytes.length) {
    const nameBytes = bytes[offset];
    if (offset + 1 + nameBytes + 4 > bytes.length) return undefined;
    const name = bytes.toString("latin1", offset + 1, offset + 1 + nameBytes).toLowerCase();
    offset += 1 + nameBytes;
    const valueBytes = bytes.readUInt32BE(offset);
    offset += 4;
    if (offset + valueBytes > bytes.length) return undefined;
    properties.set(name, bytes.subarray(offset, offset + valueBytes));
    offset += valueBytes;
  }
  return properties;
}

/** ZMTP 3.1 PING data: a 2-byte TTL, then up to 16 bytes of context that PONG echoes. */
const PING_TTL_BYTES = 2;
export const PING_CONTEXT_BYTES_MAX = 16;

/**
 * The PONG answering a PING's data, or undefined when its context is longer than ZMTP 3.1
 * allows: echoing whatever a peer sends would let it make us write as much as it likes.
 */
export function pongFor(pingData: Uint8Array): Buffer | undefined {
  if (pingData.length > PING_TTL_BYTES + PING_CONTEXT_BYTES_MAX) return undefined;
  return commandFrame("PONG", pingData.subarray(Math.min(PING_TTL_BYTES, pingData.length)));
}

const FLAGS_KNOWN = FLAG_MORE | FLAG_LONG | FLAG_COMMAND;

/** A frame header the reader refuses: reserved flags, or a body over the limit. */
export class FrameError extends Error {
  readonly code = "ZMTP_FRAME";
}

/**
 * Bytes of frames partly received that the connections of one listener hold together.
 * Each connection is bound by its largest frame, but that times the connections is no
 * bound at all: this one is shared, and a connection that would pass it is refused.
 */
export class PartialFrameBudget {
  private held = 0;

  constructor(readonly bytesMax: number) {}

  get bytesHeld(): number {
    return this.held;
  }

  /** Takes `bytes` for a connection; false, taking nothing, when that would pass the bound. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.bytesMax) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
    if (this.held < 0) throw new Error(`partial frame budget gave back more than it took (${this.held} bytes held)`);
  }
}

/**
 * Reads frames out of a byte stream however it is cut into chunks. A frame inside one chunk
 * is handed over as a view of it (no copy); one cut across chunks is gathered, its pieces
 * kept as they arrive and joined once it is whole, so a peer that announces a large frame
 * costs memory only for what it actually sends. The announced size is checked against
 * `maxBodyBytes` before anything is kept, and what is kept against `budget`, shared by the
 * reader's fellow connections.
 */
export class FrameReader {
  /** A frame header cut across chunks. */
  private readonly header = Buffer.alloc(LONG_HEADER_BYTES);
  private headerFilled = 0;
  /** The pieces of a frame body cut across chunks, and how many bytes they hold so far. */
  private readonly bodyPieces: Buffer[] = [];
  private bodyFilled = 0;
  /** The header last read. */
  private flags = 0;
  private bodyBytes = 0;

  constructor(
    private readonly maxBodyBytes: (flags: number) => number,
    private readonly budget?: PartialFrameBudget,
  ) {}

  /**
   * Hands `onFrame` every frame completed by `chunk` from `offset` on, in order, until the
   * chunk ends or `onFrame` returns false. Throws FrameError at a header it refuses, or
   * when keeping the rest of the chunk would pass the budget.
   */
  read(chunk: Buffer, offset: number, onFrame: (flags: number, body: Uint8Array) => boolean): void {
    while (offset < chunk.length) {
      if (this.bodyPieces.length > 0) {
        const end = Math.min(chunk.length, offset + this.bodyBytes - this.bodyFilled);
        this.keep(chunk.subarray(offset, end));
        offset = end;
        if (this.bodyFilled < this.bodyBytes) return;
        const body = Buffer.concat(this.bodyPieces, this.bodyBytes);
        this.discard();
        if (!onFrame(this.flags, body)) return;
        continue;
      }
      const start = this.readHeader(chunk, offset);
      if (start < 0) return;
      if (chunk.length - start >= this.bodyBytes) {
        offset = start + this.bodyBytes;
        if (!onFrame(this.flags, chunk.subarray(start, offset))) return;
        continue;
      }
      this.keep(chunk.subarray(start));
      return;
    }
  }

  /** Drops the frame partly received, giving its bytes back to the budget: once it is whole, or its connection closed. */
  discard(): void {
    this.budget?.give(this.bodyFilled);
    this.bodyPieces.length = 0;
    this.bodyFilled = 0;
  }

  private keep(piece: Buffer): void {
    if (this.budget !== undefined && !this.budget.take(piece.length)) {
      throw new FrameError(`frames partly received on all connections would pass ${this.budget.bytesMax} bytes`);
    }
    this.bodyPieces.push(piece);
    this.bodyFilled += piece.length;
  }

  /** Reads the header at `offset` into flags/bodyBytes; returns where its body starts, or -1 when the chunk ends inside it. */
  private readHeader(chunk: Buffer, offset: number): number {
    const available = chunk.length - offset;
    let start: number;
    if (this.headerFilled === 0 && available >= SHORT_HEADER_BYTES && (chunk[offset] & FLAG_LONG) === 0) {
      this.flags = chunk[offset];
      this.bodyBytes = chunk[offset + 1];
      start = offset + SHORT_HEADER_BYTES;
    } else if (this.headerFilled === 0 && available >= LONG_HEADER_BYTES) {
      this.flags = chunk[offset];
      this.bodyBytes = chunk.readUInt32BE(offset + 1) * TWO_POW_32 + chunk.readUInt32BE(offset + 5);
      start = offset + LONG_HEADER_BYTES;
    } else {
      const flagsByte = this.headerFilled > 0 ? this.header[0] : chunk[offset];
      const needed = (flagsByte & FLAG_LONG) !== 0 ? LONG_HEADER_BYTES : SHORT_HEADER_BYTES;
      const take = Math.min(needed - this.headerFilled, available);
      chunk.copy(this.header, this.headerFilled, offset, offset + take);
      this.headerFilled += take;
      if (this.headerFilled < needed) return -1;
      this.headerFilled = 0;
      this.flags = this.header[0];
      this.bodyBytes =
        needed === SHORT_HEADER_BYTES
          ? this.header[1]
          : this.header.readUInt32BE(1) * TWO_POW_32 + this.header.readUInt32BE(5);
      start = offset + take;
    }
    if ((this.flags & ~FLAGS_KNOWN) !== 0)
      throw new FrameError(`frame with reserved flag bits set (0x${this.flags.toString(16)})`);
    const limit = this.maxBodyBytes(this.flags);
    if (this.bodyBytes > limit) {
      const what = (this.flags & FLAG_COMMAND) !== 0 ? "command" : "message";
      throw new FrameError(`${what} of ${this.bodyBytes} bytes (at most ${limit})`);
    }
    return start;
  }
}
