/**
 * Causal sessions (docs/consistency.md §2.7, §2.8, §3): reads return a key's siblings, the
 * concurrent values no write the reader can see has overwritten; a put supersedes every
 * sibling the session saw. The scope picks the composition: per key (causal-single-key.ts)
 * or across keys through the client's causal cut (causal-multi-key.ts).
 */
import type { Bytes } from "../lattices/values";
import type { CausalCut } from "./causal-cut";
import type { CausalLwwVersion } from "./causal-lww-versions";
import { MultiKeyCausal } from "./causal-multi-key";
import { LwwMultiKeyCausal } from "./causal-multi-key-lww";
import {
  resolveCausalSessionOptions,
  type CausalScope,
  type CausalSessionOptions,
  type ResolvedCausalSessionOptions,
} from "./causal-options";
import { SingleKeyCausal } from "./causal-single-key";
import { DottedSingleKeyCausal } from "./causal-single-key-dotted";
import { CausalWriter, randomSessionId } from "./causal-writer";
import { ConsistencyError } from "./errors";
import type { KeyTransport } from "./transport";

/** What a causal session is built on. */
export interface CausalSessionContext {
  transport: KeyTransport;
  /** The client's causal cut, which its multi-key sessions share. */
  cut: CausalCut;
  /** The client's cut of causal-multi-key-lww, which its sessions of that scope share (needed by that scope only). */
  lwwCut?: CausalCut<CausalLwwVersion>;
  /** The name of the session's vector clock entries; a fresh random one when absent (tests give fixed ones). */
  sessionId?: string;
  /** The wall clock its stamps follow, in µs (docs/causal-stability.md); the system's when absent (tests give their own). */
  nowMicros?: () => bigint;
}

/** A scope's read and write paths. */
export interface CausalScopeCore {
  readonly stateSize: { keyCount: number; stateBytes: number };
  read(keys: readonly string[]): Promise<Map<string, Uint8Array[]>>;
  write(key: string, value: Uint8Array): Promise<void>;
}

const utf8 = new TextEncoder();

function lwwCutOf(context: CausalSessionContext): CausalCut<CausalLwwVersion> {
  if (context.lwwCut === undefined) throw new Error("invariant: a multi-key-lww session without its client's cut");
  return context.lwwCut;
}

export class CausalSession {
  readonly scope: CausalScope;
  private readonly core: CausalScopeCore;
  private closed = false;
  /** Settles when the session's last call has: calls run one at a time, in call order, which is the session order. */
  private lastCall: Promise<unknown> = Promise.resolve();

  constructor(context: CausalSessionContext, options: CausalSessionOptions) {
    const resolved: ResolvedCausalSessionOptions = resolveCausalSessionOptions(options);
    const writer = new CausalWriter(context.transport, context.sessionId ?? randomSessionId(), resolved);
    this.scope = resolved.scope;
    this.core =
      resolved.scope === "single-key"
        ? resolved.envelope
          ? new DottedSingleKeyCausal(context.transport, writer, resolved, context.nowMicros)
          : new SingleKeyCausal(context.transport, writer, resolved)
        : resolved.scope === "multi-key"
          ? new MultiKeyCausal(context.transport, context.cut, writer, resolved, context.nowMicros)
          : new LwwMultiKeyCausal(context.transport, lwwCutOf(context), writer, resolved, context.nowMicros);
  }

  /** What the session holds for its guarantees: its floor (single-key) or the clocks it has seen (multi-key). */
  get stateSize(): { keyCount: number; stateBytes: number } {
    return this.core.stateSize;
  }

  /** The key's siblings; [] when it is absent. */
  async get(key: string): Promise<Uint8Array[]> {
    return (await this.getMany([key])).get(key)!;
  }

  /** Each key's siblings, read together: in a multi-key session, from one causal cut. */
  getMany(keys: readonly string[]): Promise<Map<string, Uint8Array[]>> {
    return this.inTurn(() => this.core.read([...new Set(keys)]));
  }

  /** Writes `value` over every sibling of `key` the session has seen; concurrent writes stay beside it. */
  put(key: string, value: Bytes): Promise<void> {
    return this.inTurn(() => this.core.write(key, typeof value === "string" ? utf8.encode(value) : value));
  }

  /** Ends the session: later calls fail SESSION_CLOSED; calls made before run on. */
  close(): void {
    this.closed = true;
  }

  private inTurn<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ConsistencyError("SESSION_CLOSED", undefined, "the session is closed"));
    const result = this.lastCall.then(call);
    this.lastCall = result.catch(() => undefined);
    return result;
  }
}
