/**
 * What the workload learns from the wire rather than from the levels' API, which hides
 * stamps and write ids: the version each write left with (seen as it passes through the
 * transport), and each replica's value after healing as a `final` payload.
 */
import type { KeyTransport, PutTuple, ValueRead } from "../../src/consistency/transport";
import { LatticeType } from "../../src/lattices/lattice-type";
import { decodeLww } from "../../src/lattices/values";
import type { FinalPayload, Stamp } from "./history/events";

const decoder = new TextDecoder();

export function valueText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

function stampOf(payload: Uint8Array): { value: string; stamp: Stamp } {
  const { timestamp, writeId, value } = decodeLww(payload);
  return { value: valueText(value), stamp: [timestamp.toString(), Buffer.from(writeId).toString("hex")] };
}

/** Every LWW version sent, by its value (unique in a history): the stamps a history's writes carry. */
export class SentVersions {
  private readonly byValue = new Map<string, Stamp>();

  constructor(private readonly valuesMax: number) {}

  /** `transport`, noting each LWW write before it is sent (so that a write whose outcome is unknown has its version too). */
  observe(transport: KeyTransport): KeyTransport {
    return {
      getMany: (keys) => transport.getMany(keys),
      putManySettled: (puts, options) => {
        puts.forEach((put) => this.note(put));
        return transport.putManySettled(puts, options);
      },
      replicasOf: (key) => transport.replicasOf(key),
      getFromReplica: (replica, keys) => transport.getFromReplica(replica, keys),
    };
  }

  versionOf(value: string): Stamp | undefined {
    return this.byValue.get(value);
  }

  private note(put: PutTuple): void {
    if (put.type !== LatticeType.LWW) throw new Error(`invariant: the workload writes LWW values, not ${put.type}`);
    const { value, stamp } = stampOf(put.payload);
    if (!this.byValue.has(value) && this.byValue.size === this.valuesMax)
      throw new Error(`invariant: more than ${this.valuesMax} values sent`);
    this.byValue.set(value, stamp);
  }
}

/** One replica's value of `key` as a `final` event holds it. */
export function finalPayload(key: string, read: ValueRead | undefined): FinalPayload {
  if (read === undefined) return { kind: "lww", value: null };
  if (read.type !== LatticeType.LWW) throw new Error(`invariant: ${key} holds a ${LatticeType[read.type]} value`);
  return { kind: "lww", ...stampOf(read.payload) };
}
