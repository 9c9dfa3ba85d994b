/**
 * Membership messages on a node's membership port: JSON in one ZMTP frame, read strictly
 * (every field checked, anything else refused), since the port is reachable by anyone the
 * network lets through when the cluster runs without TLS.
 */
import { Lifecycle, MemberEntry, OwnerData, Suspicion } from "./member";
import { MEMBERS_MAX } from "./membership-table";
import { FactorState, FACTOR_KEY_CHARS_MAX, FACTORS_PER_NODE_MAX } from "../routing/key-factors";

/** A membership frame carries at most a whole table: 1024 members of a few hundred bytes. */
export const MEMBERSHIP_FRAME_BYTES_MAX = 1024 * 1024;
const TEXT_CHARS_MAX = 256;
const SYNCED_MAX = MEMBERS_MAX;

export type MembershipMessage =
  /** A node asks a seed to let it in. */
  | { kind: "join"; from: string; clusterName: string; globalReplication: number; entry: MemberEntry }
  /** The seed's answer: its whole table (the joiner's entry in it). */
  | { kind: "welcome"; from: string; members: MemberEntry[] }
  /** The seed's answer when the joiner does not fit the cluster. */
  | { kind: "refused"; from: string; reason: string }
  /** Periodic: the sender's whole table. */
  | { kind: "gossip"; from: string; clusterName: string; members: MemberEntry[] }
  /** Between heartbeats: the sender's held bound rose (docs/causal-stability.md §10). */
  | {
      kind: "stability";
      from: string;
      clusterName: string;
      incarnation: number;
      epoch: number;
      heldMicros: number;
    };

export function encodeMembershipMessage(message: MembershipMessage): Buffer {
  const frame = Buffer.from(JSON.stringify(message));
  if (frame.length > MEMBERSHIP_FRAME_BYTES_MAX) throw new RangeError(`membership message of ${frame.length} bytes`);
  return frame;
}

class MessageError extends Error {}

function fail(message: string): never {
  throw new MessageError(message);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > TEXT_CHARS_MAX)
    fail(`${what} must be a string of 1 to ${TEXT_CHARS_MAX} characters`);
  return value;
}

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max)
    fail(`${what} must be an integer from ${min} to ${max}`);
  return value;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function factorState(value: unknown): FactorState {
  const state = object(value, "data.factors");
  if (!Array.isArray(state.factors) || state.factors.length > FACTORS_PER_NODE_MAX)
    fail(`data.factors.factors must be an array of at most ${FACTORS_PER_NODE_MAX}`);
  return {
    version: integer(state.version, "data.factors.version", 0, Number.MAX_SAFE_INTEGER),
    factors: state.factors.map((entry: unknown) => {
      const factor = object(entry, "factor");
      if (typeof factor.key !== "string" || factor.key.length > FACTOR_KEY_CHARS_MAX)
        fail(`factor key must be a string of at most ${FACTOR_KEY_CHARS_MAX} characters`);
      return {
        key: factor.key,
        local: integer(factor.local, "factor.local", 1, 1024),
        global: integer(factor.global, "factor.global", 1, MEMBERS_MAX),
      };
    }),
  };
}

function ownerData(value: unknown): OwnerData {
  const data = object(value, "data");
  const synced: Record<string, number> = {};
  const syncedEntries = Object.entries(object(data.synced, "data.synced"));
  if (syncedEntries.length > SYNCED_MAX) fail("data.synced has too many entries");
  for (const [id, incarnation] of syncedEntries)
    synced[text(id, "synced id")] = integer(incarnation, "synced incarnation", 0, Number.MAX_SAFE_INTEGER);
  return {
    host: text(data.host, "data.host"),
    portOffset: integer(data.portOffset, "data.portOffset", 0, 65535),
    threads: integer(data.threads, "data.threads", 1, 1024),
    localReplication: integer(data.localReplication, "data.localReplication", 1, 1024),
    keyCount: integer(data.keyCount, "data.keyCount", 0, Number.MAX_SAFE_INTEGER),
    synced,
    factors: factorState(data.factors),
    stability: stability(data.stability),
  };
}

/** Absent from a node built before the stable time: none. */
function stability(value: unknown): OwnerData["stability"] {
  if (value === undefined) return { heldMicros: 0, epoch: 0 };
  const fields = object(value, "data.stability");
  return {
    heldMicros: integer(fields.heldMicros, "data.stability.heldMicros", 0, Number.MAX_SAFE_INTEGER),
    epoch: integer(fields.epoch, "data.stability.epoch", 0, Number.MAX_SAFE_INTEGER),
  };
}

export function decodeMemberEntry(value: unknown): MemberEntry {
  const entry = object(value, "member");
  const data = ownerData(entry.data);
  if (data.localReplication > data.threads) fail("data.localReplication is above data.threads");
  return {
    id: text(entry.id, "member id"),
    incarnation: integer(entry.incarnation, "incarnation", 0, Number.MAX_SAFE_INTEGER),
    lifecycle: integer(entry.lifecycle, "lifecycle", Lifecycle.JOINING, Lifecycle.LEFT),
    suspicion: integer(entry.suspicion, "suspicion", Suspicion.NONE, Suspicion.DEAD),
    heartbeat: integer(entry.heartbeat, "heartbeat", 0, Number.MAX_SAFE_INTEGER),
    data,
  };
}

function members(value: unknown): MemberEntry[] {
  if (!Array.isArray(value) || value.length > MEMBERS_MAX) fail(`members must be an array of at most ${MEMBERS_MAX}`);
  return value.map(decodeMemberEntry);
}

/** The message in a frame; throws an Error saying what is wrong with it. */
export function decodeMembershipMessage(frame: Uint8Array): MembershipMessage {
  if (frame.length > MEMBERSHIP_FRAME_BYTES_MAX) fail(`membership frame of ${frame.length} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("utf8"));
  } catch {
    fail("membership frame is not JSON");
  }
  const message = object(parsed, "message");
  const from = text(message.from, "from");
  switch (message.kind) {
    case "join":
      return {
        kind: "join",
        from,
        clusterName: text(message.clusterName, "clusterName"),
        globalReplication: integer(message.globalReplication, "globalReplication", 1, MEMBERS_MAX),
        entry: decodeMemberEntry(message.entry),
      };
    case "welcome":
      return { kind: "welcome", from, members: members(message.members) };
    case "refused":
      return { kind: "refused", from, reason: text(message.reason, "reason") };
    case "gossip":
      return {
        kind: "gossip",
        from,
        clusterName: text(message.clusterName, "clusterName"),
        members: members(message.members),
      };
    case "stability":
      return {
        kind: "stability",
        from,
        clusterName: text(message.clusterName, "clusterName"),
        incarnation: integer(message.incarnation, "incarnation", 0, Number.MAX_SAFE_INTEGER),
        epoch: integer(message.epoch, "epoch", 0, Number.MAX_SAFE_INTEGER),
        heldMicros: integer(message.heldMicros, "heldMicros", 0, Number.MAX_SAFE_INTEGER),
      };
    default:
      return fail(`unknown membership message kind ${JSON.stringify(String(message.kind).slice(0, 40))}`);
  }
}
