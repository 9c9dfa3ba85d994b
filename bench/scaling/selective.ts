/**
 * Selective replication in the scaling bench: the replication factors the node's own
 * hot-key policy (src/node/hot-keys.ts, `wantedReplicas`, server defaults) gives a run's
 * request stream, as if the node's monitor had watched that load for a window. This is the
 * steady state of selective replication; the server's growing and shrinking of replica sets
 * over time is tested in test/node/selective-replication.test.ts.
 *
 * Key loads are exact counts over the stream (the server samples one access in 8). The
 * policy's minimum rate is not applied: the bench's load is never idle, and a stream has
 * no wall-clock rate until it runs.
 */
import { wantedReplicas } from "../../src/node/hot-keys";
import { DEFAULT_NODE_OPTIONS } from "../../src/node/options";
import type { LocalPlacement } from "../../src/routing/placement";
import type { KeySpace } from "../workload";
import { KEY_INDEX_MASK, RequestStream } from "./requests";

/** A key's local factor (actors of the one node), with the bench key's index. */
export interface KeyFactor {
  key: string;
  factor: number;
  index: number;
}

const POLICY = {
  threshold: DEFAULT_NODE_OPTIONS.hotKeyThreshold,
  minOpsPerSec: 0,
  cooldownWindows: DEFAULT_NODE_OPTIONS.hotKeyCooldownWindows,
};

/**
 * Factor changes taking `placement` (default factor 1) from the previous run's hot keys to
 * this stream's: raised for keys hot now, back to the default for keys no longer hot.
 */
export function factorsForStream(
  stream: RequestStream,
  keys: KeySpace,
  placement: LocalPlacement,
  previouslyHot: ReadonlySet<number>,
): { factors: KeyFactor[]; hot: Set<number> } {
  const counts = new Uint32Array(keys.keyCount);
  const entries = new Uint32Array(stream.entries);
  for (let i = 0; i < stream.draws; i++) counts[entries[i] & KEY_INDEX_MASK]++;
  const hot = new Set<number>();
  const factors: KeyFactor[] = [];
  for (let index = 0; index < keys.keyCount; index++) {
    const wanted =
      counts[index] === 0
        ? placement.defaultReplication
        : placement.clamp(wantedReplicas(POLICY, placement, counts[index], stream.draws));
    if (wanted > placement.defaultReplication) hot.add(index);
    if (wanted > placement.defaultReplication || previouslyHot.has(index))
      factors.push({ key: keys.keyString(index), factor: wanted, index });
  }
  return { factors, hot };
}
