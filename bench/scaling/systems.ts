/**
 * The systems the scaling benchmark compares, and the one function that says which
 * workers hold which keys for each of them. Routing, preloading and gossip all follow
 * from the placement, so a new annakv configuration is a new kind here and a new case in
 * `placementFor`.
 */
import type { EngineName } from "../../src/core/store";
import { LocalPlacement } from "../../src/routing/placement";
import type { RequestFeedName } from "./request-feeds";

export type SystemKind = "shared-locked" | "shared-hogwild" | "annakv-partitioned" | "annakv-full" | "annakv-selective";

export interface SystemSpec {
  name: string;
  kind: SystemKind;
  /** The store engine of annakv systems (the shared tables have none of their own). */
  engine: EngineName;
  /** How an annakv worker's requests reach its store (request-feeds.ts); the shared tables have none. */
  feed?: RequestFeedName;
}

/**
 * In run order: the shared tables, then annakv with the Wasm engine, then with the slower
 * TS engine, so that a run cut short by a deadline loses the least telling cases last.
 */
export const SYSTEMS: readonly SystemSpec[] = [
  { name: "shared-locked", kind: "shared-locked", engine: "wasm" },
  { name: "shared-hogwild", kind: "shared-hogwild", engine: "wasm" },
  { name: "annakv-partitioned-wasm", kind: "annakv-partitioned", engine: "wasm", feed: "copied" },
  { name: "annakv-partitioned-wasm-resident", kind: "annakv-partitioned", engine: "wasm", feed: "resident" },
  { name: "annakv-full-wasm", kind: "annakv-full", engine: "wasm", feed: "copied" },
  { name: "annakv-selective-wasm", kind: "annakv-selective", engine: "wasm", feed: "copied" },
  { name: "annakv-partitioned-ts", kind: "annakv-partitioned", engine: "ts", feed: "copied" },
  { name: "annakv-full-ts", kind: "annakv-full", engine: "ts", feed: "copied" },
  { name: "annakv-selective-ts", kind: "annakv-selective", engine: "ts", feed: "copied" },
];

export function isShared(kind: SystemKind): boolean {
  return kind === "shared-locked" || kind === "shared-hogwild";
}

/**
 * Which workers hold each key: every request is routed to one of `replicas(key)`, chosen
 * uniformly at random. The shared tables let any thread serve any key, which is a
 * placement with every thread a replica of every key.
 */
export function placementFor(kind: SystemKind, threads: number): LocalPlacement {
  switch (kind) {
    case "annakv-partitioned":
      return new LocalPlacement(threads, 1);
    // One replica per key until a run's hot keys get their factors (see selective.ts).
    case "annakv-selective":
      return new LocalPlacement(threads, 1);
    case "annakv-full":
    case "shared-locked":
    case "shared-hogwild":
      return new LocalPlacement(threads, threads);
  }
}
