/**
 * Records a workload's history (docs/consistency.md §4.1) as JSON lines, into a file or
 * into memory. It checks what the checker relies on: one pending call per process,
 * completions matching their invocation, unique transaction names, strictly increasing
 * `index` and `timeNs`, and a cap on the number of events.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { encodeEvent } from "./event-codec";
import {
  HISTORY_EVENTS_MAX,
  HistoryError,
  type FailEvent,
  type FaultEvent,
  type FinalEvent,
  type FinalPayload,
  type HistoryEvent,
  type InfoEvent,
  type InvokeEvent,
  type OkEvent,
  type Op,
  type WriteVersions,
} from "./events";

export type RecorderOutput = { readonly kind: "memory" } | { readonly kind: "file"; readonly path: string };

export interface RecorderOptions {
  readonly output: RecorderOutput;
  /** Default and upper bound: HISTORY_EVENTS_MAX. */
  readonly maxEvents?: number;
  /** Monotonic nanoseconds; tests pass a counter so that histories replay byte for byte. */
  readonly nowNs?: () => bigint;
}

type Unindexed<T extends HistoryEvent> = T extends unknown ? Omit<T, "index" | "timeNs"> : never;

export class HistoryRecorder {
  private readonly memory: HistoryEvent[] | null;
  private readonly fileDescriptor: number | null;
  private readonly maxEvents: number;
  private readonly nowNs: () => bigint;
  private nextIndex = 0;
  private lastTimeNs = -1n;
  /** process → the name of its transaction in flight. */
  private readonly pending = new Map<number, string>();
  private readonly usedNames = new Set<string>();
  private closed = false;

  constructor(options: RecorderOptions) {
    this.maxEvents = options.maxEvents ?? HISTORY_EVENTS_MAX;
    if (!Number.isInteger(this.maxEvents) || this.maxEvents < 1 || this.maxEvents > HISTORY_EVENTS_MAX) {
      throw new HistoryError("RECORDER_MISUSE", `maxEvents must be an integer in [1, ${HISTORY_EVENTS_MAX}]`);
    }
    this.nowNs = options.nowNs ?? (() => process.hrtime.bigint());
    this.memory = options.output.kind === "memory" ? [] : null;
    this.fileDescriptor = options.output.kind === "file" ? openSync(options.output.path, "w") : null;
  }

  invoke(process: number, txn: string, level: string, ops: readonly Op[]): InvokeEvent {
    if (!Number.isSafeInteger(process) || process < 0) misuse(`process ${process} is not a non-negative integer`);
    const inFlight = this.pending.get(process);
    if (inFlight !== undefined) misuse(`process ${process} invokes ${txn} while ${inFlight} is in flight`);
    if (this.usedNames.has(txn)) misuse(`transaction ${txn} was invoked before`);
    const event = this.append<InvokeEvent>({ type: "invoke", process, txn, level, ops: withoutReadResults(ops) });
    this.pending.set(process, txn);
    this.usedNames.add(txn);
    return event;
  }

  ok(process: number, txn: string, ops: readonly Op[], versions: WriteVersions = {}): OkEvent {
    this.complete(process, txn);
    return this.append<OkEvent>({ type: "ok", process, txn, ops, ...versions });
  }

  fail(process: number, txn: string, error: string): FailEvent {
    this.complete(process, txn);
    return this.append<FailEvent>({ type: "fail", process, txn, error });
  }

  /** `ops`: only when the transaction attempted ops its invoke did not list. */
  info(process: number, txn: string, error: string, versions: WriteVersions = {}, ops?: readonly Op[]): InfoEvent {
    this.complete(process, txn);
    return this.append<InfoEvent>({
      type: "info",
      process,
      txn,
      error,
      ...(ops === undefined ? {} : { ops }),
      ...versions,
    });
  }

  fault(phase: "start" | "end", fault: string, detail?: string): FaultEvent {
    return this.append<FaultEvent>({ type: "fault", phase, fault, ...(detail === undefined ? {} : { detail }) });
  }

  final(key: string, replica: string, payload: FinalPayload): FinalEvent {
    return this.append<FinalEvent>({ type: "final", key, replica, payload });
  }

  /** The events so far; only for a recorder writing to memory. */
  events(): readonly HistoryEvent[] {
    if (this.memory === null) misuse("this recorder writes to a file; read it with readHistoryFile");
    return this.memory;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fileDescriptor !== null) closeSync(this.fileDescriptor);
  }

  private complete(process: number, txn: string): void {
    const inFlight = this.pending.get(process);
    if (inFlight !== txn) misuse(`process ${process} completes ${txn} but has ${inFlight ?? "nothing"} in flight`);
    this.pending.delete(process);
  }

  private append<T extends HistoryEvent>(fields: Unindexed<T>): T {
    if (this.closed) misuse("the recorder is closed");
    if (this.nextIndex === this.maxEvents) {
      throw new HistoryError("HISTORY_LIMIT", `the history is capped at ${this.maxEvents} events`);
    }
    // hrtime may repeat a value between two quick calls; the format promises strictly increasing times.
    const now = this.nowNs();
    this.lastTimeNs = now > this.lastTimeNs ? now : this.lastTimeNs + 1n;
    const event = { index: this.nextIndex++, timeNs: this.lastTimeNs.toString(), ...fields } as unknown as T;
    if (this.memory !== null) this.memory.push(event);
    else writeSync(this.fileDescriptor!, encodeEvent(event) + "\n");
    return event;
  }
}

/** An invoke lists what the transaction will do; what its reads return is known only at `ok`. */
function withoutReadResults(ops: readonly Op[]): Op[] {
  return ops.map((op) => (op[0] === "r" ? ["r", op[1], null] : op));
}

function misuse(message: string): never {
  throw new HistoryError("RECORDER_MISUSE", message);
}
