/**
 * A map from byte strings to the elements of another lattice, kept as entries sorted by
 * key; the join is key-wise and an absent key holds the value lattice's bottom. A vector
 * clock is a map to max-u32 counters; MULTI_CAUSAL's dependencies map keys to clocks.
 */
import { compareBytes, Lattice, Order, OrderedLattice } from "./lattice";

export interface MapEntry<V> {
  readonly key: Uint8Array;
  readonly value: V;
}

/** Entries sorted by key (compareBytes), each key once. */
export type ByteMap<V> = readonly MapEntry<V>[];

/** Sorts `entries` in place and joins the values of repeated keys: the canonical form. */
export function toByteMap<V>(entries: MapEntry<V>[], values: Lattice<V>): ByteMap<V> {
  entries.sort((a, b) => compareBytes(a.key, b.key));
  let kept = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const previous = kept === 0 ? undefined : entries[kept - 1];
    if (previous !== undefined && compareBytes(previous.key, entry.key) === 0) {
      entries[kept - 1] = { key: previous.key, value: values.join(previous.value, entry.value) };
    } else {
      entries[kept++] = entry;
    }
  }
  entries.length = kept;
  return entries;
}

function joinMaps<V>(a: ByteMap<V>, b: ByteMap<V>, values: Lattice<V>): ByteMap<V> {
  // An empty side is common (an LWW value without a window): no merged copy to build.
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const merged: MapEntry<V>[] = [];
  let changed = false;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const difference = i === a.length ? 1 : j === b.length ? -1 : compareBytes(a[i].key, b[j].key);
    if (difference < 0) {
      merged.push(a[i++]);
    } else if (difference > 0) {
      merged.push(b[j++]);
      changed = true;
    } else {
      const value = values.join(a[i].value, b[j++].value);
      if (value === a[i].value) merged.push(a[i]);
      else {
        merged.push({ key: a[i].key, value });
        changed = true;
      }
      i++;
    }
  }
  return changed ? merged : a;
}

/** Key-wise order: LESS if no value is greater and one is less, CONCURRENT if both happen. */
function compareMaps<V>(a: ByteMap<V>, b: ByteMap<V>, values: OrderedLattice<V>): Order {
  let someLess = false;
  let someGreater = false;
  let i = 0;
  let j = 0;
  while ((i < a.length || j < b.length) && !(someLess && someGreater)) {
    const difference = i === a.length ? 1 : j === b.length ? -1 : compareBytes(a[i].key, b[j].key);
    const order =
      difference < 0
        ? values.compare(a[i++].value, values.bottom)
        : difference > 0
          ? values.compare(values.bottom, b[j++].value)
          : values.compare(a[i++].value, b[j++].value);
    if (order === Order.LESS) someLess = true;
    else if (order === Order.GREATER) someGreater = true;
    else if (order === Order.CONCURRENT) someLess = someGreater = true;
  }
  if (someLess && someGreater) return Order.CONCURRENT;
  return someLess ? Order.LESS : someGreater ? Order.GREATER : Order.EQUAL;
}

const EMPTY_MAP = Object.freeze([]);

export function mapLattice<V>(values: Lattice<V>): Lattice<ByteMap<V>> {
  return { bottom: EMPTY_MAP, join: (a, b) => joinMaps(a, b, values) };
}

export function orderedMapLattice<V>(values: OrderedLattice<V>): OrderedLattice<ByteMap<V>> {
  return {
    bottom: EMPTY_MAP,
    join: (a, b) => joinMaps(a, b, values),
    compare: (a, b) => compareMaps(a, b, values),
  };
}
