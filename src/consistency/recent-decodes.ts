/**
 * Decodes of payloads kept while recent: a read decodes the same values several times
 * (each closing round, each stable-time check, bases, the result), so each payload is
 * decoded once while it is among the last `generationEntries` to `2 × generationEntries`
 * decoded. Payloads are never changed in place, so a payload's decode stays true.
 *
 * Bounded on purpose. A WeakMap by payload kept a decode (dependencies, clocks) alive as
 * long as its payload, and a causal cut holds a payload for every key its client has read:
 * those decodes were most of a causal client's heap, ~1.7 KB a key, and each young-
 * generation collection copied them on their way to the old one.
 */
/** Entries of a generation: a read's values and their dependencies' entries, for the reads of many sessions in flight. */
export const RECENT_DECODES_PER_GENERATION = 512;

export class RecentDecodes<T> {
  private current = new Map<Uint8Array, T>();
  private previous = new Map<Uint8Array, T>();

  constructor(
    private readonly generationEntries: number,
    private readonly decode: (payload: Uint8Array) => T,
  ) {
    if (!(Number.isInteger(generationEntries) && generationEntries > 0))
      throw new RangeError(`generation of ${generationEntries} entries`);
  }

  of(payload: Uint8Array): T {
    const decoded = this.current.get(payload);
    if (decoded !== undefined) return decoded;
    return this.remember(payload, this.previous.get(payload) ?? this.decode(payload));
  }

  /** Keeps `decoded` as the decode of `payload`, which must be what `decode` gives it: a writer knows its own payload's. */
  remember(payload: Uint8Array, decoded: T): T {
    this.current.set(payload, decoded);
    if (this.current.size >= this.generationEntries) {
      this.previous = this.current;
      this.current = new Map();
    }
    return decoded;
  }
}
