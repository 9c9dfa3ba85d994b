/**
 * The store's view of the lattices: payload bytes in, canonical payload bytes out
 * (docs/wasm-abi.md, "Lattices and their canonical encoding"). Both engines' semantics
 * rest on these two functions; TsStore calls them directly.
 */
import { LatticeType } from "./lattice-type";
import { bytesEqual, Lattice } from "./lattice";
import { lww } from "./lww";
import { decodeLwwWire, encodeLwwWire } from "./lww-wire";
import { decodeMultiCausalWire, encodeMultiCausalWire, multiCausal } from "./multi-causal";
import { decodePriorityWire, encodePriorityWire, priority } from "./priority";
import { decodeSetWire, encodeSetWire, set } from "./set";
import { decodeSingleCausalWire, encodeSingleCausalWire, singleCausal } from "./single-causal";
import { decodeDottedCausalWire, dottedCausal, encodeDottedCausalWire } from "./dotted-causal";
import { MalformedPayloadError } from "../wire/protobuf";

/**
 * A lattice with its anna.proto codec: decode validates and canonicalizes; with
 * `canonical` (the stored side of a merge, canonical by contract) a decoder may skip work
 * that canonical bytes do not need (the causal types' sibling pruning).
 */
interface WireLattice<T> {
  readonly lattice: Lattice<T>;
  decode(bytes: Uint8Array, canonical?: boolean): T;
  encode(value: T): Uint8Array;
}

function wireLattice<T>(
  lattice: Lattice<T>,
  decode: (bytes: Uint8Array, canonical?: boolean) => T,
  encode: (value: T) => Uint8Array,
) {
  return { lattice, decode, encode } as WireLattice<unknown>;
}

const setWire = wireLattice(set, decodeSetWire, encodeSetWire);

const WIRE_LATTICES: Record<Exclude<LatticeType, LatticeType.NONE>, WireLattice<unknown>> = {
  [LatticeType.LWW]: wireLattice(lww, decodeLwwWire, encodeLwwWire),
  [LatticeType.SET]: setWire,
  [LatticeType.SINGLE_CAUSAL]: wireLattice(singleCausal, decodeSingleCausalWire, encodeSingleCausalWire),
  [LatticeType.MULTI_CAUSAL]: wireLattice(multiCausal, decodeMultiCausalWire, encodeMultiCausalWire),
  [LatticeType.ORDERED_SET]: setWire,
  [LatticeType.PRIORITY]: wireLattice(priority, decodePriorityWire, encodePriorityWire),
  [LatticeType.DOTTED_CAUSAL]: wireLattice(dottedCausal, decodeDottedCausalWire, encodeDottedCausalWire),
};

function wireLatticeOf(type: LatticeType): WireLattice<unknown> {
  const wire = type === LatticeType.NONE ? undefined : WIRE_LATTICES[type];
  if (wire === undefined) throw new RangeError(`unknown lattice type ${type}`);
  return wire;
}

function mergeDecoded<T>(wire: WireLattice<T>, stored: Uint8Array | undefined, incoming: Uint8Array): Uint8Array {
  // The same bytes as the stored value, which is canonical and so well-formed: the join is idempotent.
  if (stored !== undefined && bytesEqual(stored, incoming)) return stored;
  const incomingValue = wire.decode(incoming);
  if (stored === undefined) return wire.encode(incomingValue);
  const storedValue = wire.decode(stored, true);
  const merged = wire.lattice.join(storedValue, incomingValue);
  if (merged === storedValue) return stored;
  // Joins return their first argument when unchanged; comparing the bytes makes "the
  // stored bytes change" (the dirty rule) exact even where a join builds an equal copy.
  const encoded = wire.encode(merged);
  return bytesEqual(encoded, stored) ? stored : encoded;
}

/**
 * Merges `incoming` into `stored` (a canonical payload of the same type, or undefined
 * for an absent key) and returns the canonical result: `stored` itself when the merge
 * leaves it unchanged, else a fresh array that never aliases `incoming`. Returns null
 * when `incoming` is MALFORMED. `type` must be a known lattice type.
 */
export function mergePayloads(
  type: LatticeType,
  stored: Uint8Array | undefined,
  incoming: Uint8Array,
): Uint8Array | null {
  try {
    return mergeDecoded(wireLatticeOf(type), stored, incoming);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return null;
    throw error;
  }
}

/** The canonical form of a payload (a fresh array), or null when it is MALFORMED. */
export function canonicalize(type: LatticeType, payload: Uint8Array): Uint8Array | null {
  return mergePayloads(type, undefined, payload);
}
