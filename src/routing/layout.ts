/**
 * What placement needs to know of a cluster: its nodes, their actors and rings, and the
 * global replication. The main thread derives a layout from its membership table and
 * posts it to its actors (a plain object, structured-cloned); every node derives the same
 * layout from the same table, so they place keys alike without talking.
 */
import { xxhash64 } from "./hash";

export interface LayoutNode {
  /** Membership id, `HOST:PORT`: the node's name on the global ring. */
  id: string;
  /**
   * The node's incarnation: a node that restarted (empty) or was declared dead (it missed
   * writes) comes back under a new one, and is then a new destination for every key.
   */
  incarnation: number;
  /** Advertised host: where its actors' sockets are reached. */
  host: string;
  portOffset: number;
  threads: number;
  localReplication: number;
  /** On the serving ring (answers requests for its keys). */
  serving: boolean;
  /** On the next ring (must hold its keys once the cluster settles). */
  next: boolean;
}

export interface ClusterLayout {
  /** Raised whenever the rings change; a node's own counter (layouts of two nodes are not compared). */
  version: number;
  /** The id of the node this layout is for. */
  selfId: string;
  /** Nodes holding each key. */
  globalReplication: number;
  /** Nodes on either ring, sorted by id; the node itself is always one of them. */
  nodes: LayoutNode[];
}

/** A layout of one node alone, serving every key: what a node without a cluster runs. */
export function singleNodeLayout(
  host: string,
  portOffset: number,
  threads: number,
  localReplication: number,
  id = `${host}:${portOffset}`,
): ClusterLayout {
  return {
    version: 1,
    selfId: id,
    globalReplication: 1,
    nodes: [{ id, incarnation: 0, host, portOffset, threads, localReplication, serving: true, next: true }],
  };
}

/** True when two layouts place every key alike (their versions aside). */
export function sameRings(a: ClusterLayout, b: ClusterLayout): boolean {
  if (a.globalReplication !== b.globalReplication || a.nodes.length !== b.nodes.length || a.selfId !== b.selfId)
    return false;
  return a.nodes.every((node, i) => {
    const other = b.nodes[i];
    return (
      node.id === other.id &&
      node.incarnation === other.incarnation &&
      node.host === other.host &&
      node.portOffset === other.portOffset &&
      node.threads === other.threads &&
      node.localReplication === other.localReplication &&
      node.serving === other.serving &&
      node.next === other.next
    );
  });
}

const utf8 = new TextEncoder();
/** 2^21: the high half's bits kept, so that an epoch is a safe integer (53 bits). */
const EPOCH_HIGH_RANGE = 0x200000;

/**
 * The epoch of a layout (docs/causal-stability.md §7): a hash of its members, each node's
 * id and incarnation (nodes are sorted by id), so that nodes holding the same members agree
 * on it without a message, and any change of members (join, leave, death, restart) gives a
 * new one. A safe integer above zero (0 stands for none on the wire).
 */
export function layoutEpoch(layout: ClusterLayout): number {
  const members = layout.nodes.map((node) => `${node.id}/${node.incarnation}`).join(",");
  const { high, low } = xxhash64(utf8.encode(members));
  return (high % EPOCH_HIGH_RANGE) * 0x1_0000_0000 + low || 1;
}
