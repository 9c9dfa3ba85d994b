/**
 * Worker-thread entry of one actor. Talks to the node's main thread only by messages:
 * "ready", periodic "stats" and (selective replication) "access" reports, "log" records,
 * and "stopped" after a "stop" request; the thread ends at the "exit" that answers it.
 * Layouts, replication factors and the node's stable time arrive from the main thread
 * ("layout", "factors", "stable"); the actor reports its held bound ("held").
 * An exception in handling a message or posting a report is contained (counted, logged)
 * like one in the actor's own handlers; one that escapes ends the thread, and the main
 * thread then stops the node (src/node/node.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Actor } from "./actor";
import type { AccessReport } from "./access-sampler";
import type { ActorConfig } from "./config";
import type { ClusterLayout } from "../routing/layout";
import type { FactorTable } from "../routing/key-factors";
import type { ActorStatsReport } from "./stats";

export type MainToActor =
  /** handOff: the node is leaving its cluster: written keys go to their other owners, acknowledged, before the actor stops. */
  | { kind: "stop"; deadlineMs: number; handOff: boolean }
  | { kind: "exit" }
  | { kind: "layout"; layout: ClusterLayout }
  /** Every node's hot-key decisions, resent every window: the actor keeps each node's newest. */
  | { kind: "factors"; table: FactorTable; stamp: number }
  /** The cluster's stable time in an epoch (docs/causal-stability.md §7). */
  | { kind: "stable"; micros: number; epoch: number };
export type ActorToMain =
  | { kind: "ready"; tid: number; requestAddress: string }
  | { kind: "stats"; report: ActorStatsReport }
  | { kind: "access"; tid: number; elapsedMs: number; report: AccessReport }
  | { kind: "log"; level: "info" | "warn" | "error"; message: string }
  | { kind: "stopped"; tid: number; requestsAnswered: number }
  /** The actor places keys by the factor table of this stamp (the main thread's count of tables sent). */
  | { kind: "factors-applied"; tid: number; stamp: number }
  /** Every key the actor holds is placed by this layout version (docs/cluster.md, "Rebalance"). */
  | { kind: "rebalanced"; tid: number; version: number }
  /** The actor's held bound and the epoch it was reached in (docs/causal-stability.md §7), every stability tick. */
  | { kind: "held"; tid: number; micros: number; epoch: number }
  | { kind: "failed"; message: string };

function post(message: ActorToMain): void {
  parentPort!.postMessage(message);
}

async function main(): Promise<void> {
  const config = workerData as ActorConfig;
  const actor = new Actor(
    config,
    (level, message) => post({ kind: "log", level, message }),
    (version) => post({ kind: "rebalanced", tid: config.tid, version }),
    ({ micros, epoch }) => post({ kind: "held", tid: config.tid, micros, epoch }),
  );
  try {
    await actor.start();
  } catch (error) {
    post({ kind: "failed", message: `actor ${config.tid}: ${(error as Error).message}` });
    return;
  }
  const postStats = () =>
    actor.contain(
      "report",
      "dropped one stats report (the next goes a stats interval later)",
      () => post({ kind: "stats", report: actor.statsReport() }),
      undefined,
    );
  const statsTimer = setInterval(postStats, config.statsIntervalMs);
  let accessWindowStartMs = performance.now();
  const accessTimer =
    config.hotKeyWindowMs === undefined
      ? undefined
      : setInterval(() => {
          const now = performance.now();
          actor.contain(
            "report",
            "dropped one window's sampled key accesses",
            () => {
              const report = actor.drainAccessReport();
              if (report !== undefined)
                post({ kind: "access", tid: config.tid, elapsedMs: now - accessWindowStartMs, report });
            },
            undefined,
          );
          accessWindowStartMs = now;
        }, config.hotKeyWindowMs);
  parentPort!.on("message", async (message: MainToActor) => {
    if (message.kind === "layout") {
      const dropped = `left layout ${message.layout.version} applied in part or not at all (keys it moves may stay where they were until a later layout)`;
      actor.contain("main-thread-message", dropped, () => actor.applyLayout(message.layout), undefined);
      return;
    }
    if (message.kind === "stable") {
      actor.setNodeStable(message.micros, message.epoch);
      return;
    }
    if (message.kind === "factors") {
      // Unconfirmed, the table is sent again next window (node.ts, startFactorLoop).
      const applyFactors = () => {
        actor.applyFactors(message.table);
        return true;
      };
      const applied = actor.contain(
        "main-thread-message",
        "dropped a factor table (it is sent again next window)",
        applyFactors,
        false,
      );
      if (applied) post({ kind: "factors-applied", tid: config.tid, stamp: message.stamp });
      return;
    }
    if (message.kind === "exit") {
      // Only once the main thread has read "stopped": a message posted just before the
      // port closes can be lost, or arrive after the thread's exit event.
      parentPort!.close();
      return;
    }
    clearInterval(statsTimer);
    clearInterval(accessTimer);
    let requestsAnswered = actor.counters.requests;
    try {
      requestsAnswered = await actor.stop(message.deadlineMs, message.handOff);
    } catch (error) {
      // Stopped in part: still say so, or the node waits for this actor until its stop overruns.
      post({
        kind: "log",
        level: "error",
        message: `actor ${config.tid} failed to stop cleanly (sockets may have closed unflushed): ${(error as Error)?.stack ?? error}`,
      });
    }
    postStats();
    post({ kind: "stopped", tid: config.tid, requestsAnswered });
  });
  post({ kind: "ready", tid: config.tid, requestAddress: actor.requestAddress });
  // A first report right away, so /status lists every actor from the start.
  postStats();
}

void main();
