/**
 * What the workload learns from the wire rather than from the levels' API, which hides
 * stamps, write ids and clocks: the version each write left with (seen as it passes
 * through the transport), and each replica's value after healing as a `final` payload.
 */
import { committedVersion } from "../../src/consistency/read-atomic";
import { decodeCausalLww } from "../../src/lattices/causal-lww";
import { decodeEnvelope, visibleSiblings } from "../../src/lattices/causal-envelope";
import { unstamped } from "../../src/consistency/causal-stamps";
import type { KeyTransport, PutOutcome, PutTuple, ValueRead } from "../../src/consistency/transport";
import { decodeDot, dotRequestOf } from "../../src/lattices/dot-requests";
import {
  decodeDottedCausalWire,
  toDottedContext,
  type Dot,
  type DottedContext,
} from "../../src/lattices/dotted-causal";
import { LatticeType } from "../../src/lattices/lattice-type";
import type { VectorClock as ClockBytes } from "../../src/lattices/vector-clock";
import { decodeLww, decodeMultiCausal, decodeSingleCausal } from "../../src/lattices/values";
import type { FinalPayload, Stamp, VectorClock } from "./history/events";

const decoder = new TextDecoder();

export function valueText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A written value's version: its LWW stamp, or the clock of its causal envelope (a dotted write's: dottedClockRecord). */
export type SentVersion = { readonly stamp: Stamp } | { readonly clock: VectorClock };

function stampOf(payload: Uint8Array): { value: string; stamp: Stamp } | null {
  const decoded = decodeLww(payload);
  // A read atomic prepare carries its version in the window only; the commit sends it again with its stamp.
  if (committedVersion(decoded) === null) return null;
  const { timestamp, writeId } = decoded;
  // A causal-multi-key-lww value holds the user's inside its stamp.
  const { value } = decodeCausalLww(payload);
  return { value: valueText(value), stamp: [timestamp.toString(), Buffer.from(writeId).toString("hex")] };
}

function clockRecord(clock: ClockBytes): VectorClock {
  const record: Record<string, number> = {};
  for (const { key, value } of clock) record[valueText(key)] = value;
  return record;
}

function causalValues(type: LatticeType, payload: Uint8Array): Uint8Array[] {
  if (type === LatticeType.SINGLE_CAUSAL) return decodeSingleCausal(payload).values;
  if (type === LatticeType.MULTI_CAUSAL) return decodeMultiCausal(payload).values;
  throw new Error(`invariant: the workload writes LWW and causal values, not ${LatticeType[type]}`);
}

/** `transport` with each put passed through `each` on its way out (to note it, or to rewrite it); reads untouched. */
export function mapPuts(transport: KeyTransport, each: (put: PutTuple) => PutTuple): KeyTransport {
  return {
    getMany: (keys, options) => transport.getMany(keys, options),
    putManySettled: (puts, options) => transport.putManySettled(puts.map(each), options),
    putToReplica: (replica, puts, options) => transport.putToReplica(replica, puts.map(each), options),
    replicasOf: (key) => transport.replicasOf(key),
    getFromReplica: (replica, keys, options) => transport.getFromReplica(replica, keys, options),
  };
}

/**
 * A dotted write's version as a history clock: what its context names and its dot. Vector
 * entries count every dot of their id up to them; a cloud dot is an entry `id#counter` of 1
 * (history/versions.ts compares both).
 */
function dottedClockRecord(context: DottedContext, dot: Dot): VectorClock {
  const { vector, cloud } = toDottedContext([...context.vector], [...context.cloud, dot]);
  const record: Record<string, number> = clockRecord(vector);
  for (const { id, counter } of cloud) record[`${valueText(id)}#${counter}`] = 1;
  return record;
}

/** Every version sent, by its value (unique in a history): the stamps and clocks a history's writes carry. */
export class SentVersions {
  private readonly byValue = new Map<string, SentVersion>();
  /** Each dot request's context, by its value, until its dot is learnt. */
  private readonly dottedContexts = new Map<string, DottedContext>();

  constructor(private readonly valuesMax: number) {}

  /**
   * `transport`, noting each write before it is sent (so that a write whose outcome is
   * unknown has its version too), and a dot request's dot once a replica names it: in the
   * answer, or, for a request whose outcome was unknown, in a value read later.
   */
  observe(transport: KeyTransport): KeyTransport {
    const noting = mapPuts(transport, (put) => {
      this.note(put);
      return put;
    });
    const learn = (puts: readonly PutTuple[], outcomes: Map<string, PutOutcome>) => {
      for (const put of puts) {
        const outcome = outcomes.get(put.key);
        if (outcome?.status === "applied" && outcome.dot !== undefined) this.learnDot(put, decodeDot(outcome.dot));
      }
      return outcomes;
    };
    const learnFromReads = (reads: Map<string, ValueRead | undefined>) => {
      for (const read of reads.values()) if (read?.type === LatticeType.DOTTED_CAUSAL) this.learnFromValue(read);
      return reads;
    };
    return {
      ...noting,
      getMany: async (keys, options) => learnFromReads(await noting.getMany(keys, options)),
      getFromReplica: async (replica, keys, options) =>
        learnFromReads(await noting.getFromReplica(replica, keys, options)),
      putManySettled: async (puts, options) => learn(puts, await noting.putManySettled(puts, options)),
      putToReplica: async (replica, puts, options) => learn(puts, await noting.putToReplica(replica, puts, options)),
    };
  }

  versionOf(value: string): SentVersion | undefined {
    return this.byValue.get(value);
  }

  private learnDot(put: PutTuple, dot: Dot): void {
    const request = dotRequestOf(put.payload);
    if (request === undefined) throw new Error("invariant: a dot named for a write that asked for none");
    this.learnVersion(valueText(request.value), dot);
  }

  /** The dots of a value's versions whose requests' answers never came (their outcome unknown when sent). */
  private learnFromValue(read: ValueRead): void {
    if (this.dottedContexts.size === 0) return;
    for (const { dot, value } of decodeDottedCausalWire(read.payload).versions)
      this.learnVersion(valueText(value), dot);
  }

  private learnVersion(value: string, dot: Dot): void {
    const context = this.dottedContexts.get(value);
    if (context === undefined) return;
    this.dottedContexts.delete(value);
    this.remember(value, { clock: dottedClockRecord(context, dot) });
  }

  private note(put: PutTuple): void {
    // A dot request's version is its context and the dot a replica names for it, learnt later.
    if (put.type === LatticeType.DOTTED_CAUSAL) {
      const request = dotRequestOf(put.payload);
      if (request === undefined) throw new Error("invariant: the workload's DOTTED_CAUSAL writes are dot requests");
      const value = valueText(request.value);
      if (!this.byValue.has(value) && !this.dottedContexts.has(value) && this.dottedContexts.size === this.valuesMax)
        throw new Error(`invariant: more than ${this.valuesMax} values sent`);
      this.dottedContexts.set(value, request.context);
      return;
    }
    if (put.type === LatticeType.LWW) {
      const sent = stampOf(put.payload);
      if (sent !== null) this.remember(sent.value, { stamp: sent.stamp });
      return;
    }
    for (const bytes of causalValues(put.type, put.payload)) {
      const envelope = decodeEnvelope(bytes);
      if (envelope === undefined) throw new Error("invariant: the workload's causal values travel in envelopes");
      this.remember(valueText(unstamped(envelope.value)), { clock: clockRecord(envelope.clock) });
    }
  }

  private remember(value: string, version: SentVersion): void {
    if (!this.byValue.has(value) && this.byValue.size === this.valuesMax)
      throw new Error(`invariant: more than ${this.valuesMax} values sent`);
    this.byValue.set(value, version);
  }
}

/** One replica's value of `key` as a `final` event holds it; `causal`: the run writes causal values, so an absent key has no siblings. */
export function finalPayload(key: string, read: ValueRead | undefined, causal: boolean): FinalPayload {
  if (read === undefined) return causal ? { kind: "causal", siblings: [] } : { kind: "lww", value: null };
  if (read.type === LatticeType.LWW) return { kind: "lww", ...(stampOf(read.payload) ?? { value: null }) };
  if (read.type === LatticeType.DOTTED_CAUSAL)
    return { kind: "causal", siblings: decodeDottedCausalWire(read.payload).versions.map((v) => valueText(v.value)) };
  if (read.type === LatticeType.SINGLE_CAUSAL || read.type === LatticeType.MULTI_CAUSAL)
    return {
      kind: "causal",
      siblings: visibleSiblings(causalValues(read.type, read.payload), read.type === LatticeType.MULTI_CAUSAL).map(
        (value) => valueText(unstamped(value)),
      ),
    };
  throw new Error(`invariant: ${key} holds a ${LatticeType[read.type]} value`);
}
