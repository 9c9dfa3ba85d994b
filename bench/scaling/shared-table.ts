/**
 * The shared-memory baselines of the scaling benchmark: one open-addressing hash table in
 * a SharedArrayBuffer that every worker thread writes, the stand-in for the TBB/Masstree
 * stores that Anna's paper compares against. Slots are fixed-size (key, 8-byte timestamp,
 * value) and the table is pre-sized and preloaded with every key, so the timed loop never
 * inserts: it finds a key's slot, then merges last-writer-wins (a PUT) or copies the
 * timestamp and value out (a GET), either under a striped lock (`shared-locked`) or with no
 * synchronisation at all (`shared-hogwild`).
 */

/** Keys are fixed at 8 bytes (bench/scaling/main.ts), read as two u32 words. */
export const TABLE_KEY_BYTES = 8;
const TIMESTAMP_BYTES = 8;
/** Slots at most this full, so linear probes stay short. */
const LOAD_FACTOR_MAX = 0.75;
/** Lock stripes: enough that two threads rarely share one unless they write the same key. */
export const LOCK_STRIPES = 1024;
/** compareExchange attempts before a waiter sleeps in Atomics.wait. */
const SPIN_LIMIT = 100;
const UNLOCKED = 0;
const LOCKED = 1;
/** Locked, and someone may sleep on it: the unlocker must notify. */
const CONTENDED = 2;

export interface SharedTableLayout {
  slotCount: number;
  valueBytes: number;
  /** Slots, then the lock words. */
  buffer: SharedArrayBuffer;
}

export function slotBytes(valueBytes: number): number {
  // Rounded up to 8 so every slot's timestamp is an aligned Float64.
  return Math.ceil((TABLE_KEY_BYTES + TIMESTAMP_BYTES + valueBytes) / 8) * 8;
}

export function createSharedTable(keyCount: number, valueBytes: number): SharedTableLayout {
  const slotCount = Math.ceil(keyCount / LOAD_FACTOR_MAX);
  const buffer = new SharedArrayBuffer(slotCount * slotBytes(valueBytes) + LOCK_STRIPES * 4);
  return { slotCount, valueBytes, buffer };
}

/** A worker's view of the shared table. */
export class SharedTable {
  private readonly bytes: Uint8Array;
  /** The same slots as a Buffer, whose copy() reads a value out without allocating a view. */
  private readonly slots: Buffer;
  private readonly words: Uint32Array;
  private readonly timestamps: Float64Array;
  private readonly locks: Int32Array;
  private readonly slotBytes: number;
  private readonly slotCount: number;
  readonly valueBytes: number;

  constructor(layout: SharedTableLayout) {
    this.slotCount = layout.slotCount;
    this.valueBytes = layout.valueBytes;
    this.slotBytes = slotBytes(layout.valueBytes);
    const slotsBytes = this.slotCount * this.slotBytes;
    this.bytes = new Uint8Array(layout.buffer, 0, slotsBytes);
    this.slots = Buffer.from(layout.buffer, 0, slotsBytes);
    this.words = new Uint32Array(layout.buffer, 0, slotsBytes / 4);
    this.timestamps = new Float64Array(layout.buffer, 0, slotsBytes / 8);
    this.locks = new Int32Array(layout.buffer, slotsBytes, LOCK_STRIPES);
  }

  get memoryBytes(): number {
    return this.bytes.byteLength + this.locks.byteLength;
  }

  /** Inserts the key with timestamp 0 if absent (setup only: single-threaded, unlocked). */
  insert(key: Uint8Array): void {
    if (key.length !== TABLE_KEY_BYTES) throw new RangeError(`keys must be ${TABLE_KEY_BYTES} bytes`);
    const slot = this.probe(key, 0, true);
    if (slot < 0) throw new Error("shared table is full");
  }

  /** The slot of the 8-byte key at `keys[offset]`; -1 if absent (the timed loop only asks for preloaded keys). */
  find(keys: Uint8Array, offset: number): number {
    return this.probe(keys, offset, false);
  }

  /** LWW merge under the key's stripe lock. */
  putLocked(slot: number, timestamp: number, value: Uint8Array): void {
    const stripe = slot % LOCK_STRIPES;
    this.lock(stripe);
    this.merge(slot, timestamp, value);
    this.unlock(stripe);
  }

  /** LWW merge with no synchronisation: racing writers may tear values; only speed counts. */
  putHogwild(slot: number, timestamp: number, value: Uint8Array): void {
    this.merge(slot, timestamp, value);
  }

  /** GET under the key's stripe lock: copies the value into `out`, returns the timestamp. */
  getLocked(slot: number, out: Uint8Array): number {
    const stripe = slot % LOCK_STRIPES;
    this.lock(stripe);
    const timestamp = this.read(slot, out);
    this.unlock(stripe);
    return timestamp;
  }

  /** GET with no synchronisation: a racing writer may leave `out` torn. */
  getHogwild(slot: number, out: Uint8Array): number {
    return this.read(slot, out);
  }

  private read(slot: number, out: Uint8Array): number {
    const base = slot * this.slotBytes;
    const timestamp = this.timestamps[(base + TABLE_KEY_BYTES) / 8];
    const valueStart = base + TABLE_KEY_BYTES + TIMESTAMP_BYTES;
    this.slots.copy(out, 0, valueStart, valueStart + this.valueBytes);
    return timestamp;
  }

  private merge(slot: number, timestamp: number, value: Uint8Array): void {
    const base = slot * this.slotBytes;
    const timestampIndex = (base + TABLE_KEY_BYTES) / 8;
    if (timestamp <= this.timestamps[timestampIndex]) return;
    this.timestamps[timestampIndex] = timestamp;
    this.bytes.set(value, base + TABLE_KEY_BYTES + TIMESTAMP_BYTES);
  }

  private probe(keys: Uint8Array, offset: number, insert: boolean): number {
    const low = keys[offset] | (keys[offset + 1] << 8) | (keys[offset + 2] << 16) | (keys[offset + 3] << 24);
    const high = keys[offset + 4] | (keys[offset + 5] << 8) | (keys[offset + 6] << 16) | (keys[offset + 7] << 24);
    let slot = hashWords(low, high) % this.slotCount;
    const wordsPerSlot = this.slotBytes / 4;
    for (let probes = 0; probes < this.slotCount; probes++) {
      const word = slot * wordsPerSlot;
      const slotLow = this.words[word] | 0;
      // Keys are printable ASCII, so an all-zero key word marks an empty slot.
      if (slotLow === 0 && this.words[word + 1] === 0) {
        if (!insert) return -1;
        this.words[word] = low >>> 0;
        this.words[word + 1] = high >>> 0;
        return slot;
      }
      if (slotLow === low && (this.words[word + 1] | 0) === high) return slot;
      slot = slot + 1 === this.slotCount ? 0 : slot + 1;
    }
    return -1;
  }

  /** Drepper's futex mutex ("Futexes Are Tricky", mutex 2) with a short spin first. */
  private lock(stripe: number): void {
    const locks = this.locks;
    for (let spin = 0; spin < SPIN_LIMIT; spin++) {
      if (Atomics.compareExchange(locks, stripe, UNLOCKED, LOCKED) === UNLOCKED) return;
    }
    let state = Atomics.exchange(locks, stripe, CONTENDED);
    while (state !== UNLOCKED) {
      Atomics.wait(locks, stripe, CONTENDED);
      state = Atomics.exchange(locks, stripe, CONTENDED);
    }
  }

  private unlock(stripe: number): void {
    if (Atomics.exchange(this.locks, stripe, UNLOCKED) === CONTENDED) Atomics.notify(this.locks, stripe, 1);
  }
}

/** A 32-bit mix of the key's two words (murmur3's finaliser), non-negative. */
function hashWords(low: number, high: number): number {
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
