/**
 * Stamped causal writes refused for a stale stamp (docs/causal-stability.md §2, §7): a node
 * takes a stamped write only above its accept floor and in its own epoch, and one it
 * refuses stored nothing, so the write is stamped again above the floor named and sent
 * again, at most STAMP_ATTEMPTS_MAX times in all. What the multi-key sessions and the
 * single-key dot requests share.
 */
import type { HybridClock } from "./clock";
import type { PutOutcome } from "./transport";

/** A write refused for a stale stamp is stamped above the floor named and sent again, this many times in all. */
const STAMP_ATTEMPTS_MAX = 3;
/** A write is never stamped further ahead of the wall clock than this to arrive above a floor: later, it stays refused. */
const RETRY_LEAD_MAX_MICROS = 10_000_000;

/**
 * How far ahead of the wall clock to stamp a write sent again after its stamp
 * `stampMicros`, sent when the session's clock read `sentAtMicros`, arrived at or below the
 * accept floor `floorMicros` (docs/causal-stability.md §2, "Writes that arrive late"):
 * twice its lateness. A write arrives below the floor (now − the accept lag) when its trip
 * (network, a queue at a loaded node) and the client's clock lag behind the node's take
 * longer than the accept lag; a stamp that only followed the floor would be taken from the
 * clock when the refusal came back and arrive just as late, so a far client's every attempt
 * would be refused. The lateness is the floor's lead over the clock at sending, not over the
 * stamp: a stamp already led by an earlier refusal was late by its lead and more. 0 for a
 * refusal that is not about lateness (another epoch names a floor below the stamp).
 */
export function retryLeadMicros(stampMicros: number, sentAtMicros: number, floorMicros: number): number {
  if (floorMicros < stampMicros) return 0;
  return Math.min(RETRY_LEAD_MAX_MICROS, 2 * (floorMicros - Math.min(stampMicros, sentAtMicros) + 1));
}

/** A refusal for a stale stamp, as `restamp` is told of it. */
export type StaleRefusal = Extract<PutOutcome, { status: "refused" }> & { readonly acceptFloorMicros: number };

export interface StampedSend<W> {
  /** The write's stamp (µs), where it has one: a bare write is never late. */
  stampOf(write: W): number | undefined;
  /** Sends the write by routing, or to `replica` alone where one is named. */
  send(write: W, replica?: string): Promise<PutOutcome>;
  /** The same write stamped again `leadMicros` ahead of the clock, which has absorbed the floor named. */
  restamp(write: W, leadMicros: number, refusal: StaleRefusal): W;
}

/**
 * Sends `first`, stamped again each time it is refused for a stale stamp, and returns the
 * write last sent with its outcome. A write stamped again goes to the replica that refused
 * it, where the outcome names it: that replica holds the key and takes the epoch it named,
 * while routing may pick one still, or already, in another epoch during a membership change
 * (docs/causal-stability.md §7). Where that replica no longer holds the key (another change
 * moved it), the write goes by routing again, as it is.
 */
export async function sendStamped<W>(
  first: W,
  stamps: HybridClock,
  io: StampedSend<W>,
): Promise<{ write: W; outcome: PutOutcome }> {
  let write = first;
  let sentAtMicros = Number(stamps.wallMicros());
  let outcome = await io.send(write);
  for (let attempt = 1; attempt < STAMP_ATTEMPTS_MAX && outcome.status === "refused"; attempt++) {
    let replica: string | undefined;
    if (!outcome.notHeld) {
      const { acceptFloorMicros } = outcome;
      if (acceptFloorMicros === undefined) break;
      const stampMicros = io.stampOf(write);
      const leadMicros = stampMicros === undefined ? 0 : retryLeadMicros(stampMicros, sentAtMicros, acceptFloorMicros);
      stamps.observe(BigInt(acceptFloorMicros));
      write = io.restamp(write, leadMicros, { ...outcome, acceptFloorMicros });
      replica = outcome.replica;
    }
    sentAtMicros = Number(stamps.wallMicros());
    outcome = await io.send(write, replica);
  }
  return { write, outcome };
}
