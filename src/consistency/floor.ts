/**
 * A session's floor (docs/consistency.md §2.2): per key, the key's own lattice value that
 * every read must reach, joined with the lattices' merge. It only grows, and within its
 * limits: a key that would pass them fails SESSION_LIMIT rather than lose its guarantee.
 * Writes reserve room before they are sent, so that the floor can always take them once
 * they are applied (a write that happened must not then fail for want of room).
 */
import { decodeDottedCausalWire, joinDottedPayloads, type DottedCausal } from "../lattices/dotted-causal";
import { bytesEqual } from "../lattices/lattice";
import { mergePayloads } from "../lattices/merge";
import { plainLwwJoin } from "../lattices/lww-plain";
import { LatticeType } from "../lattices/lattice-type";
import { MalformedPayloadError } from "../wire/protobuf";
import { ConsistencyError, type Guarantee } from "./errors";
import { RECENT_DECODES_PER_GENERATION, RecentDecodes } from "./recent-decodes";
import type { PutTuple, ValueRead } from "./transport";

/** What an entry costs beyond its key (UTF-16) and payload: the Map entry and the value object. */
const FLOOR_ENTRY_OVERHEAD_BYTES = 64;

export interface FloorLimits {
  maxKeys: number;
  maxStateBytes: number;
}

/** A write as `reserve` sizes it: the bytes its payload may take, where the payload itself is not known yet. */
export type SizedWrite = Pick<PutTuple, "key" | "type"> & { readonly payload: { readonly length: number } };

/** Room held for writes in flight; given back by `settle`. */
export interface FloorReservation {
  readonly keys: number;
  readonly bytes: number;
}

function entryBytes(key: string, payloadBytes: number): number {
  return 2 * key.length + payloadBytes + FLOOR_ENTRY_OVERHEAD_BYTES;
}

/**
 * Floors' DOTTED_CAUSAL payloads decoded while recent: a session's read and then write of
 * a key decode its floor several times (the join, the values read, the write's context).
 * A floor's payloads are its own and never changed in place.
 */
const dottedDecodes = new RecentDecodes(RECENT_DECODES_PER_GENERATION, decodeDottedCausalWire);
const decodeDotted = (payload: Uint8Array): DottedCausal => dottedDecodes.of(payload);

export class Floor {
  private readonly entries = new Map<string, ValueRead>();
  /**
   * The last join `joined` built per key, with the payload given and the floor entry it was
   * built from: while that entry is still the floor, the same payload joins to the same
   * value, and the join taken back in is the floor's join already (a causal cut closes the
   * same fetched values several times a read and then admits them). One per key, dropped
   * when the key's floor changes: a join kept by payload kept its floor, and through it
   * every earlier floor of the key and their payloads, alive as long as the newest one.
   */
  private readonly lastJoins = new Map<string, { floor: ValueRead; given: Uint8Array; joined: ValueRead }>();
  private entriesBytes = 0;
  private reservedKeys = 0;
  private reservedBytes = 0;

  constructor(private readonly limits: FloorLimits) {}

  get keyCount(): number {
    return this.entries.size;
  }

  get stateBytes(): number {
    return this.entriesBytes;
  }

  get(key: string): ValueRead | undefined {
    return this.entries.get(key);
  }

  /** The floor of `key` decoded, where it is a DOTTED_CAUSAL value (undefined where the floor has none). */
  dotted(key: string): DottedCausal | undefined {
    const floor = this.entries.get(key);
    if (floor === undefined) return undefined;
    if (floor.type !== LatticeType.DOTTED_CAUSAL)
      throw new Error(`invariant: the floor of ${JSON.stringify(key)} is not DOTTED_CAUSAL`);
    return decodeDotted(floor.payload);
  }

  /** `value` joined with the floor of `key` (the floor unchanged): what a read of it returns. */
  joined(key: string, value: ValueRead): ValueRead {
    const floor = this.entries.get(key);
    if (floor === undefined) return value;
    checkSameType(key, floor, value.type);
    if (value.payload === floor.payload) return floor;
    const known = this.lastJoins.get(key);
    if (
      known !== undefined &&
      known.floor === floor &&
      (known.given === value.payload || known.joined.payload === value.payload)
    )
      return known.joined;
    const payload = joinPayloads(value.type, floor.payload, value.payload);
    if (payload === null) throw new MalformedPayloadError(`the value of ${JSON.stringify(key)}`);
    if (payload === floor.payload) return floor;
    const joined = { type: value.type, payload };
    this.lastJoins.set(key, { floor, given: value.payload, joined });
    return joined;
  }

  /**
   * Raises the floor of `key` to at least `value` and returns the floor's new value (what
   * `joined` would have returned, merged once); SESSION_LIMIT, naming `guarantee`, when it
   * would pass a limit.
   */
  raise(key: string, value: ValueRead, guarantee: Guarantee): ValueRead {
    const previous = this.entries.get(key);
    const joined = this.joined(key, value);
    if (joined === previous) return previous;
    this.checkRoom(key, previous === undefined ? 1 : 0, growthBytes(key, joined, previous), guarantee);
    return this.store(key, joined, previous);
  }

  /**
   * Holds room for writes about to be sent: a join is at most both sides together, so
   * each write may grow its key's floor by its payload. SESSION_LIMIT when that might not fit.
   */
  reserve(puts: readonly SizedWrite[], guarantee: Guarantee): FloorReservation {
    let keys = 0;
    let bytes = 0;
    for (const { key, type, payload } of puts) {
      const floor = this.entries.get(key);
      if (floor !== undefined) {
        checkSameType(key, floor, type);
        bytes += payload.length;
      } else {
        keys += 1;
        bytes += entryBytes(key, payload.length);
      }
    }
    if (puts.length > 0) this.checkRoom(puts[0].key, keys, bytes, guarantee);
    this.reservedKeys += keys;
    this.reservedBytes += bytes;
    return { keys, bytes };
  }

  /** Gives the room back and raises the floor by the writes that were applied, which it held room for. */
  settle(reservation: FloorReservation, applied: readonly PutTuple[]): void {
    this.settleWith(reservation, applied, (put) => this.joined(put.key, put));
  }

  /**
   * `settle` for writes each at or above its key's floor (the floor joined with it is the
   * write itself, as a write made from the whole floor is): the floor takes them as they are,
   * without the join.
   */
  settleAbove(reservation: FloorReservation, applied: readonly PutTuple[]): void {
    this.settleWith(reservation, applied, (put) => {
      const floor = this.entries.get(put.key);
      if (floor !== undefined) checkSameType(put.key, floor, put.type);
      return put;
    });
  }

  private settleWith(
    reservation: FloorReservation,
    applied: readonly PutTuple[],
    joined: (put: PutTuple) => ValueRead,
  ): void {
    this.reservedKeys -= reservation.keys;
    this.reservedBytes -= reservation.bytes;
    for (const put of applied) {
      const previous = this.entries.get(put.key);
      const value = joined(put);
      if (value !== previous) this.store(put.key, value, previous);
    }
    const keys = this.entries.size + this.reservedKeys;
    if (keys > this.limits.maxKeys || this.entriesBytes + this.reservedBytes > this.limits.maxStateBytes)
      throw new Error(`invariant: floor of ${keys} keys, ${this.entriesBytes} bytes past what was reserved`);
  }

  private store(key: string, joined: ValueRead, previous: ValueRead | undefined): ValueRead {
    // The joined value may be the caller's, perhaps a view of a reply frame: kept whole, it would keep the frame.
    // Copied by the constructor: a reply's payloads are Buffers, whose `slice` is another view.
    const owned = ownsItsBuffer(joined.payload)
      ? joined
      : { type: joined.type, payload: new Uint8Array(joined.payload) };
    this.entriesBytes += growthBytes(key, owned, previous);
    this.entries.set(key, owned);
    this.lastJoins.delete(key);
    return owned;
  }

  private checkRoom(key: string, newKeys: number, growth: number, guarantee: Guarantee): void {
    const keys = this.entries.size + this.reservedKeys + newKeys;
    const bytes = this.entriesBytes + this.reservedBytes + growth;
    if (keys <= this.limits.maxKeys && bytes <= this.limits.maxStateBytes) return;
    const limit =
      keys > this.limits.maxKeys
        ? `maxKeys (${this.limits.maxKeys} keys)`
        : `maxStateBytes (${this.limits.maxStateBytes} bytes; it would take ${bytes})`;
    throw new ConsistencyError(
      "SESSION_LIMIT",
      guarantee,
      `${guarantee}: the session's state is at ${limit}, so it cannot keep the guarantee for ${JSON.stringify(key)}`,
    );
  }
}

/**
 * `stored` joined with `incoming`, as `mergePayloads` joins them, but two plain LWW payloads
 * by a scan that returns one of the two arrays (lww-plain.ts): no decode, no encode, and
 * the winner keeps its identity, by which the causal cut caches decodes. The floor's own
 * payloads are never changed in place, so sharing `incoming` is safe where `store` copies
 * views.
 */
function joinPayloads(type: LatticeType, stored: Uint8Array, incoming: Uint8Array): Uint8Array | null {
  if (type === LatticeType.DOTTED_CAUSAL) return joinDotted(stored, incoming);
  return (
    (type === LatticeType.LWW ? plainLwwJoin(stored, incoming) : undefined) ?? mergePayloads(type, stored, incoming)
  );
}

/**
 * `joinDottedPayloads` (no encode where one side is at or above the other), null where one
 * is malformed. A different `incoming` that is a view (of a reply frame) is copied before it
 * is decoded: where it is the join, as on most reads, the floor keeps that copy as it is,
 * and its decode is the one `dotted` finds, so a read decodes the replica's value once.
 */
function joinDotted(stored: Uint8Array, incoming: Uint8Array): Uint8Array | null {
  if (bytesEqual(stored, incoming)) return stored;
  const owned = ownsItsBuffer(incoming) ? incoming : new Uint8Array(incoming);
  try {
    return joinDottedPayloads(stored, owned, decodeDotted);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return null;
    throw error;
  }
}

/**
 * Whether a payload is the whole of its buffer, so that keeping it keeps nothing else
 * alive. The floor's payloads are never changed in place, and the values sessions write are
 * fresh arrays of their own encoders. (An array of up to 64 bytes that V8 holds on its heap
 * gets a buffer of its own when asked for one: a copy either way.)
 */
function ownsItsBuffer(payload: Uint8Array): boolean {
  return payload.byteOffset === 0 && payload.buffer.byteLength === payload.byteLength;
}

function growthBytes(key: string, joined: ValueRead, previous: ValueRead | undefined): number {
  return (
    entryBytes(key, joined.payload.length) - (previous === undefined ? 0 : entryBytes(key, previous.payload.length))
  );
}

function checkSameType(key: string, floor: ValueRead, type: LatticeType): void {
  if (floor.type === type) return;
  throw new ConsistencyError(
    "LATTICE",
    undefined,
    `${JSON.stringify(key)} is given a ${LatticeType[type]} value, but this session holds a ${LatticeType[floor.type]} one for it`,
  );
}
