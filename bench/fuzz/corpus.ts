/**
 * The valid messages the fuzzer mutates, one set per kind of socket: KeyRequests for the
 * actors' request ports, KeyAddressRequests for routing, gossip frames for the actors'
 * gossip ports. Each is built with the code the node and its clients use
 * (src/protocol/anna.ts, src/actor/gossip-frame.ts), so that an unmutated one is accepted.
 */
import {
  digestsFrame,
  GossipFrameKind,
  handoffAckFrame,
  handoffFrame,
  recordsFrame,
} from "../../src/actor/gossip-frame";
import { RECORD_HEADER_BYTES, writeRecord } from "../../src/core/batch";
import { encodeLww, encodeMultiCausal, encodePriority, encodeSet, encodeSingleCausal } from "../../src/lattices";
import { LatticeType } from "../../src/lattices/lattice-type";
import { encodeKeyAddressRequest, encodeKeyRequest, KeyTuple, RequestType } from "../../src/protocol/anna";
import type { Prng } from "../workload";

/** Keys the corpus names: few, so that what the fuzzer stores stays small. */
const FUZZ_KEY_COUNT = 64;
const CORPUS_ENTRIES_PER_KIND = 48;

export interface CorpusAddresses {
  /** Where replies to the fuzzer's requests go (a PULL socket that reads them all). */
  sink: string;
  /** A loopback port nothing listens on: replies there fail to connect. */
  dead: string;
  /** The node's actors' gossip addresses: the senders handoffs and digests name. */
  gossipPeers: readonly string[];
}

export interface Corpus {
  keyRequests: Uint8Array[];
  addressRequests: Uint8Array[];
  gossipFrames: Uint8Array[];
}

function fuzzKey(random: Prng): string {
  return `fz${random.int(FUZZ_KEY_COUNT)}`;
}

/** A valid payload of each lattice type, `valueBytes` long or so. */
function payloadOf(type: LatticeType, random: Prng, valueBytes: number): Uint8Array {
  const value = random.bytes(valueBytes);
  switch (type) {
    case LatticeType.LWW:
      return encodeLww({ timestamp: 1 + random.int(1_000_000), value });
    case LatticeType.SET:
    case LatticeType.ORDERED_SET:
      return encodeSet([value, random.bytes(random.int(8))]);
    case LatticeType.SINGLE_CAUSAL:
      return encodeSingleCausal({ vectorClock: { a: 1 + random.int(9), b: random.int(9) }, values: [value] });
    case LatticeType.MULTI_CAUSAL:
      return encodeMultiCausal({
        vectorClock: { a: 1 + random.int(9) },
        dependencies: [{ key: fuzzKey(random), vectorClock: { c: 2 } }],
        values: [value],
      });
    default:
      return encodePriority({ priority: random.int(100) - 50, value });
  }
}

const LATTICE_TYPES = [
  LatticeType.LWW,
  LatticeType.SET,
  LatticeType.ORDERED_SET,
  LatticeType.SINGLE_CAUSAL,
  LatticeType.MULTI_CAUSAL,
  LatticeType.PRIORITY,
];

function valueBytes(random: Prng): number {
  return random.pick([0, 1, 16, 100, 1000, 4096]);
}

function keyRequest(random: Prng, addresses: CorpusAddresses, index: number): Uint8Array {
  const type = random.chance(0.5) ? RequestType.GET : RequestType.PUT;
  const tuples: KeyTuple[] = Array.from({ length: random.pick([1, 1, 2, 16]) }, () => {
    if (type === RequestType.GET) return { key: fuzzKey(random), address_cache_size: random.int(3) };
    const lattice_type = random.pick(LATTICE_TYPES);
    return { key: fuzzKey(random), lattice_type, payload: payloadOf(lattice_type, random, valueBytes(random)) };
  });
  return encodeKeyRequest({
    type,
    tuples,
    response_address: random.chance(0.9) ? addresses.sink : addresses.dead,
    request_id: `fuzz-${index}`,
    put_acks: random.chance(0.2) ? random.int(3) : undefined,
  });
}

function addressRequest(random: Prng, addresses: CorpusAddresses, index: number): Uint8Array {
  return encodeKeyAddressRequest({
    response_address: random.chance(0.9) ? addresses.sink : addresses.dead,
    keys: Array.from({ length: random.pick([0, 1, 1, 4, 16, 100]) }, () => fuzzKey(random)),
    request_id: `route-${index}`,
  });
}

/** Store records (docs/wasm-abi.md, "Record format") of 1 to 8 keys. */
function records(random: Prng): Uint8Array[] {
  return Array.from({ length: 1 + random.int(8) }, () => {
    const type = random.pick(LATTICE_TYPES);
    const key = new TextEncoder().encode(fuzzKey(random));
    const payload = payloadOf(type, random, valueBytes(random));
    const record = new Uint8Array(RECORD_HEADER_BYTES + key.length + payload.length);
    writeRecord(record, 0, type, key, payload);
    return record;
  });
}

function gossipFrame(random: Prng, addresses: CorpusAddresses): Uint8Array {
  const sender = random.chance(0.8) ? random.pick(addresses.gossipPeers) : addresses.dead;
  switch (
    random.pick([
      GossipFrameKind.RECORDS,
      GossipFrameKind.REMOTE_RECORDS,
      GossipFrameKind.HANDOFF,
      GossipFrameKind.HANDOFF_ACK,
      GossipFrameKind.DIGESTS,
    ])
  ) {
    case GossipFrameKind.RECORDS:
      return recordsFrame(records(random));
    case GossipFrameKind.REMOTE_RECORDS:
      return recordsFrame(records(random), GossipFrameKind.REMOTE_RECORDS);
    case GossipFrameKind.HANDOFF:
      return handoffFrame(sender, random.int(2 ** 32), records(random));
    case GossipFrameKind.HANDOFF_ACK:
      return handoffAckFrame(sender, random.int(2 ** 32));
    default: {
      const digest = new Uint32Array(2 * random.pick([1, 16, 64]));
      for (let i = 0; i < digest.length; i++) digest[i] = random.int(2 ** 32);
      return digestsFrame(sender, digest);
    }
  }
}

export function buildCorpus(random: Prng, addresses: CorpusAddresses): Corpus {
  const indexes = Array.from({ length: CORPUS_ENTRIES_PER_KIND }, (_, index) => index);
  return {
    keyRequests: indexes.map((index) => keyRequest(random, addresses, index)),
    addressRequests: indexes.map((index) => addressRequest(random, addresses, index)),
    gossipFrames: indexes.map(() => gossipFrame(random, addresses)),
  };
}
