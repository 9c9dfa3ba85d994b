/** The lattices' public face: the store's merge functions and the clients' value helpers. */
export { LatticeType, LATTICE_TYPE_MAX, isKnownLatticeType } from "./lattice-type";
export { canonicalize, mergePayloads } from "./merge";
export { MalformedPayloadError } from "../wire/protobuf";
export {
  decodeLww,
  decodeMultiCausal,
  decodePriority,
  decodeSet,
  decodeSingleCausal,
  encodeLww,
  encodeMultiCausal,
  encodePriority,
  encodeSet,
  encodeSingleCausal,
} from "./values";
export type {
  Bytes,
  Dependency,
  DependencyInput,
  LwwValue,
  LwwVersionInput,
  LwwVersionValue,
  MultiCausalValue,
  PriorityValue,
  SingleCausalValue,
  VectorClockInput,
} from "./values";
