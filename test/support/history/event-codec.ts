/**
 * JSON lines to events and back. Parsing validates every field, so the checker can trust
 * shapes and a damaged history file fails with the line that broke it.
 */
import { readFileSync } from "node:fs";
import {
  HISTORY_EVENTS_MAX,
  HistoryError,
  OPS_PER_TRANSACTION_MAX,
  SIBLINGS_MAX,
  type FinalPayload,
  type HistoryEvent,
  type Op,
  type Stamp,
  type VectorClock,
  type WriteVersions,
} from "./events";

type Json = Record<string, unknown>;

const U64_MAX = (1n << 64n) - 1n;

export function encodeEvent(event: HistoryEvent): string {
  return JSON.stringify(event);
}

/** Events from JSON lines in any order, sorted by `index` (which must be unique). */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let lineNumber = 0; lineNumber < lines.length; lineNumber++) {
    if (lines[lineNumber].trim() === "") continue;
    if (events.length === HISTORY_EVENTS_MAX) {
      throw new HistoryError("HISTORY_LIMIT", `a history holds at most ${HISTORY_EVENTS_MAX} events`);
    }
    events.push(parseEventLine(lines[lineNumber], lineNumber + 1));
  }
  events.sort((a, b) => a.index - b.index);
  for (let i = 1; i < events.length; i++) {
    if (events[i].index === events[i - 1].index) invalid(`index ${events[i].index} appears twice`);
  }
  return events;
}

export function readHistoryFile(path: string): HistoryEvent[] {
  return parseHistory(readFileSync(path, "utf8"));
}

function parseEventLine(line: string, lineNumber: number): HistoryEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    invalid(`line ${lineNumber}: not JSON (${(error as Error).message})`);
  }
  try {
    return parseEvent(record(json, "event"));
  } catch (error) {
    if (error instanceof HistoryError) invalid(`line ${lineNumber}: ${error.message}`);
    throw error;
  }
}

function parseEvent(json: Json): HistoryEvent {
  const base = { index: nonNegativeInteger(json.index, "index"), timeNs: decimal(json.timeNs, "timeNs") };
  switch (json.type) {
    case "invoke":
      return {
        ...base,
        type: "invoke",
        ...transactionFields(json),
        level: text(json.level, "level"),
        ops: ops(json.ops),
      };
    case "ok":
      return { ...base, type: "ok", ...transactionFields(json), ops: ops(json.ops), ...versions(json) };
    case "fail":
      return { ...base, type: "fail", ...transactionFields(json), error: text(json.error, "error") };
    case "info":
      return {
        ...base,
        type: "info",
        ...transactionFields(json),
        error: text(json.error, "error"),
        ...(json.ops === undefined ? {} : { ops: ops(json.ops) }),
        ...versions(json),
      };
    case "fault":
      if (json.phase !== "start" && json.phase !== "end") invalid(`phase must be "start" or "end"`);
      return {
        ...base,
        type: "fault",
        phase: json.phase,
        fault: text(json.fault, "fault"),
        ...(json.detail === undefined ? {} : { detail: text(json.detail, "detail") }),
      };
    case "final":
      return {
        ...base,
        type: "final",
        key: text(json.key, "key"),
        replica: text(json.replica, "replica"),
        payload: finalPayload(record(json.payload, "payload")),
      };
    default:
      return invalid(`unknown event type ${JSON.stringify(json.type)}`);
  }
}

function transactionFields(json: Json): { process: number; txn: string } {
  return { process: nonNegativeInteger(json.process, "process"), txn: text(json.txn, "txn") };
}

function ops(json: unknown): Op[] {
  if (!Array.isArray(json)) invalid("ops must be an array");
  if (json.length > OPS_PER_TRANSACTION_MAX) invalid(`a transaction has at most ${OPS_PER_TRANSACTION_MAX} ops`);
  return json.map((op: unknown): Op => {
    if (!Array.isArray(op) || op.length !== 3) invalid("an op is [kind, key, value]");
    const [kind, key, value] = op as unknown[];
    if (kind === "r") return ["r", text(key, "key"), readResult(value)];
    if (kind === "w" || kind === "a") return [kind, text(key, "key"), text(value, "value")];
    return invalid(`unknown op kind ${JSON.stringify(kind)}`);
  });
}

function readResult(json: unknown): string | null | string[] {
  if (json === null || typeof json === "string") return json;
  return strings(json, "siblings");
}

function versions(json: Json): WriteVersions {
  const result: { stamps?: Record<string, Stamp>; clocks?: Record<string, VectorClock> } = {};
  if (json.stamps !== undefined) result.stamps = mapValues(record(json.stamps, "stamps"), stamp);
  if (json.clocks !== undefined) result.clocks = mapValues(record(json.clocks, "clocks"), clock);
  return result;
}

function finalPayload(json: Json): FinalPayload {
  switch (json.kind) {
    case "lww": {
      const value = json.value === null ? null : text(json.value, "value");
      return json.stamp === undefined ? { kind: "lww", value } : { kind: "lww", value, stamp: stamp(json.stamp) };
    }
    case "set":
      return { kind: "set", elements: strings(json.elements, "elements") };
    case "causal":
      return { kind: "causal", siblings: strings(json.siblings, "siblings") };
    default:
      return invalid(`unknown final payload kind ${JSON.stringify(json.kind)}`);
  }
}

/** A u64 in decimal and an even-length lowercase hex write id (empty for plain writes). */
function stamp(json: unknown): Stamp {
  if (!Array.isArray(json) || json.length !== 2) invalid("a stamp is [stamp, writeId]");
  const [value, writeId] = json as unknown[];
  const stampText = decimal(value, "stamp");
  if (BigInt(stampText) > U64_MAX) invalid(`stamp ${stampText} exceeds u64`);
  if (typeof writeId !== "string" || writeId.match(/^(?:[0-9a-f]{2})*$/) === null)
    invalid("writeId must be lowercase hex");
  return [stampText, writeId];
}

function clock(json: unknown): VectorClock {
  return mapValues(record(json, "clock"), (counter) => nonNegativeInteger(counter, "clock entry"));
}

function mapValues<T>(json: Json, parse: (value: unknown) => T): Record<string, T> {
  const result: Record<string, T> = {};
  for (const [key, value] of Object.entries(json)) result[key] = parse(value);
  return result;
}

function strings(json: unknown, name: string): string[] {
  if (!Array.isArray(json) || json.some((item) => typeof item !== "string")) invalid(`${name} must be strings`);
  if (json.length > SIBLINGS_MAX) invalid(`${name} holds at most ${SIBLINGS_MAX} items`);
  return json as string[];
}

function record(json: unknown, name: string): Json {
  if (typeof json !== "object" || json === null || Array.isArray(json)) invalid(`${name} must be an object`);
  return json as Json;
}

function text(json: unknown, name: string): string {
  if (typeof json !== "string") invalid(`${name} must be a string`);
  return json as string;
}

function decimal(json: unknown, name: string): string {
  if (typeof json !== "string" || json.match(/^\d{1,20}$/) === null) invalid(`${name} must be a decimal string`);
  return json as string;
}

function nonNegativeInteger(json: unknown, name: string): number {
  if (!Number.isSafeInteger(json) || (json as number) < 0) invalid(`${name} must be a non-negative integer`);
  return json as number;
}

function invalid(message: string): never {
  throw new HistoryError("HISTORY_INVALID", message);
}
