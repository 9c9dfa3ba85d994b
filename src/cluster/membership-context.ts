/**
 * What the membership handlers (handlers/*.ts) share: the table, the node's own entry and
 * the means to answer. The service (membership-service.ts) builds it once; handlers run
 * in tests without sockets.
 */
import type { EarlyBounds } from "./early-bounds";
import type { MemberEntry } from "./member";
import type { MembershipTable } from "./membership-table";
import type { MembershipMessage } from "./messages";

export interface MembershipContext {
  readonly selfId: string;
  readonly clusterName: string;
  readonly globalReplication: number;
  readonly table: MembershipTable;
  /** Members' held bounds heard between heartbeats. */
  readonly earlyBounds: EarlyBounds;
  /** Sends a message to a member's membership address (`HOST:PORT`). */
  send(to: string, message: MembershipMessage): void;
  /** Merges entries into the table, noting signs of life; returns those that changed. */
  mergeEntries(entries: readonly MemberEntry[]): MemberEntry[];
  /** The node's table as a gossip message. */
  gossipMessage(): MembershipMessage;
  /** A join in progress hears back: welcomed, or refused with a reason. */
  joinAnswered(answer: { welcomed: true } | { welcomed: false; reason: string }): void;
  /** Whether the node may answer `to` with its table now (at most once a heartbeat each). */
  mayReplyTo(to: string): boolean;
  log(level: "info" | "warn", message: string): void;
}
