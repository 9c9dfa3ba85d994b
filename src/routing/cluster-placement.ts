/**
 * Which actors of which nodes hold a key: the global ring of nodes (virtual nodes over
 * xxHash64) × each node's local ring of actors (LocalPlacement), for one cluster layout.
 *
 * A key's serving replicas are the first `globalReplication` nodes clockwise on the
 * serving ring, × the first local-factor actors on each; its write replicas add its
 * replicas on the next ring (docs/cluster.md). Actors are numbered flat across the
 * layout's nodes (in id order; a node alone numbers its actors by tid), so gossip code can
 * keep peers in small integers; the numbers mean nothing across layouts: what outlives a
 * layout names actors by gossip address.
 *
 * Per-key factors (hot keys) are the node's own, in its LocalPlacement; other nodes' actors
 * are placed by their default local replication.
 */
import { Hash64, xxhash64 } from "./hash";
import { ClusterLayout, LayoutNode, singleNodeLayout } from "./layout";
import { LocalPlacement } from "./placement";
import { HashRing } from "./ring";
import { actorGossipTcpAddress, actorRequestAddress } from "./ports";

/** Local rings of other nodes depend only on (threads, local replication): built once each. */
const defaultLocalRings = new Map<string, LocalPlacement>();

function defaultLocalRing(node: LayoutNode): LocalPlacement {
  const key = `${node.threads}/${node.localReplication}`;
  let ring = defaultLocalRings.get(key);
  if (ring === undefined) defaultLocalRings.set(key, (ring = new LocalPlacement(node.threads, node.localReplication)));
  return ring;
}

export class ClusterPlacement {
  private readonly selfNode: number;
  /** Flat number of each node's first actor. */
  private readonly actorBase: number[] = [];
  private readonly nodeIndexById = new Map<string, number>();
  private readonly servingRing = new HashRing();
  private readonly nextRing = new HashRing();
  private readonly servingNodes: number[] = [];
  private readonly nextNodes: number[] = [];
  /** Every serving node holds every key (no ring walk needed): fewer serving nodes than the factor. */
  private readonly allServingHold: boolean;
  private readonly allNextHold: boolean;
  /** Default replicas on the other serving nodes, when all of them hold every key. */
  private readonly otherServingReplicas: number;
  readonly actorCount: number;

  constructor(
    readonly layout: ClusterLayout,
    /** The node's own local ring and per-key factors (shared with the layouts before and after). */
    readonly local: LocalPlacement,
  ) {
    let base = 0;
    layout.nodes.forEach((node, index) => {
      this.actorBase.push(base);
      base += node.threads;
      this.nodeIndexById.set(node.id, index);
      if (node.serving) {
        this.servingRing.add(node.id);
        this.servingNodes.push(index);
      }
      if (node.next) {
        this.nextRing.add(node.id);
        this.nextNodes.push(index);
      }
    });
    this.actorCount = base;
    const self = this.nodeIndexById.get(layout.selfId);
    if (self === undefined) throw new Error(`layout of ${layout.selfId} does not list it`);
    if (layout.nodes[self].threads !== local.threadCount) throw new Error(`layout gives ${layout.selfId} ${layout.nodes[self].threads} actors, it has ${local.threadCount}`);
    this.selfNode = self;
    this.allServingHold = this.servingNodes.length <= layout.globalReplication;
    this.allNextHold = this.nextNodes.length <= layout.globalReplication;
    this.otherServingReplicas = this.servingNodes.reduce((sum, node) => (node === self ? sum : sum + layout.nodes[node].localReplication), 0);
  }

  /** The node alone in its layout: actor numbers are tids. */
  get alone(): boolean {
    return this.layout.nodes.length === 1;
  }

  /** Actors of this node. */
  get threadCount(): number {
    return this.local.threadCount;
  }

  get selfServing(): boolean {
    return this.layout.nodes[this.selfNode].serving;
  }

  /** The flat number of this node's actor `tid`. */
  actorIndex(tid: number): number {
    return this.actorBase[this.selfNode] + tid;
  }

  /** True for an actor of another node. */
  isRemote(actor: number): boolean {
    const base = this.actorBase[this.selfNode];
    return actor < base || actor >= base + this.local.threadCount;
  }

  gossipAddress(actor: number): string {
    const { node, tid } = this.locate(actor);
    return actorGossipTcpAddress(node.host, node.portOffset, tid);
  }

  /** The actor's gossip address and its node's incarnation: what a rebalance compares (a new incarnation is a new destination). */
  actorIdentity(actor: number): string {
    const { node, tid } = this.locate(actor);
    return `${actorGossipTcpAddress(node.host, node.portOffset, tid)}#${node.incarnation}`;
  }

  requestAddress(actor: number): string {
    const { node, tid } = this.locate(actor);
    return actorRequestAddress(node.host, node.portOffset, tid);
  }

  /**
   * Where every key has one copy unless it is hot: one node (or one replica node per key
   * on rings that agree) and one actor per key on each. Gossip then skips the store's dirty
   * marks (handlers/gossip.ts).
   */
  get singleCopyByDefault(): boolean {
    if (this.alone) return this.local.defaultReplication === 1;
    if (this.layout.globalReplication !== 1 || this.layout.nodes.some((node) => node.localReplication !== 1 || node.serving !== node.next)) return false;
    return true;
  }

  /**
   * For the request hot path: the number of serving replicas of the key that is `length`
   * bytes of `source` from `start` when this node's actor `tid` is one of them, else 0.
   */
  replicationAt(source: Uint8Array, tid: number, start = 0, length = source.length - start): number {
    return this.replicationAtHash(xxhash64(source, start, length), source, tid, start, length);
  }

  /** replicationAt with the key's hash at hand (the Wasm core's request table). */
  replicationAtHash(hash: Hash64, source: Uint8Array, tid: number, start: number, length: number): number {
    if (this.alone) return this.local.replicationAtHash(hash, source, tid, start, length);
    if (!this.selfServing) return 0;
    let others = this.otherServingReplicas;
    if (!this.allServingHold) {
      const nodes = this.servingRing.replicasOfHash(hash, this.layout.globalReplication);
      if (!nodes.includes(this.layout.selfId)) return 0;
      others = 0;
      for (const id of nodes) if (id !== this.layout.selfId) others += this.nodeById(id).localReplication;
    }
    const local = this.local.replicationAtHash(hash, source, tid, start, length);
    return local === 0 ? 0 : local + others;
  }

  /** The actors that answer requests for the key: primary node first, each node's primary first. */
  servingReplicas(key: Uint8Array, name?: string): number[] {
    if (this.alone) return this.local.replicas(key, name);
    const hash = xxhash64(key);
    return this.actorsOf(this.servingNodesOf(hash), key, name);
  }

  /** The actors that must hold the key: its serving replicas, then its replicas on the next ring. */
  writeReplicas(key: Uint8Array, name?: string): number[] {
    if (this.alone) return this.local.replicas(key, name);
    const hash = xxhash64(key);
    const nodes = this.servingNodesOf(hash);
    for (const node of this.allNextHold ? this.nextNodes : this.nodeIndexes(this.nextRing.replicasOfHash(hash, this.layout.globalReplication))) {
      if (!nodes.includes(node)) nodes.push(node);
    }
    return this.actorsOf(nodes, key, name);
  }

  /**
   * The primary actor of each serving-replica node of the key other than this node: where
   * an acknowledged PUT sends its value (one durable copy per node).
   */
  otherReplicaNodePrimaries(key: Uint8Array, name?: string): number[] {
    if (this.alone) return [];
    const actors: number[] = [];
    for (const node of this.servingNodesOf(xxhash64(key))) {
      if (node === this.selfNode) continue;
      actors.push(this.actorBase[node] + defaultLocalRing(this.layout.nodes[node]).replicas(key, name)[0]);
    }
    return actors;
  }

  isWriteReplica(key: Uint8Array, actor: number, name?: string): boolean {
    if (this.alone) return this.local.isReplica(key, actor, name);
    return this.writeReplicas(key, name).includes(actor);
  }

  private servingNodesOf(hash: Hash64): number[] {
    if (this.allServingHold) return [...this.servingNodes];
    return this.nodeIndexes(this.servingRing.replicasOfHash(hash, this.layout.globalReplication));
  }

  private nodeIndexes(ids: readonly string[]): number[] {
    return ids.map((id) => this.nodeIndexById.get(id)!);
  }

  private nodeById(id: string): LayoutNode {
    return this.layout.nodes[this.nodeIndexById.get(id)!];
  }

  private actorsOf(nodes: readonly number[], key: Uint8Array, name?: string): number[] {
    const actors: number[] = [];
    for (const node of nodes) {
      const ring = node === this.selfNode ? this.local : defaultLocalRing(this.layout.nodes[node]);
      for (const tid of ring.replicas(key, name)) actors.push(this.actorBase[node] + tid);
    }
    return actors;
  }

  private locate(actor: number): { node: LayoutNode; tid: number } {
    if (!Number.isInteger(actor) || actor < 0 || actor >= this.actorCount) throw new RangeError(`no actor ${actor} in a layout of ${this.actorCount}`);
    let node = this.actorBase.length - 1;
    while (this.actorBase[node] > actor) node--;
    return { node: this.layout.nodes[node], tid: actor - this.actorBase[node] };
  }
}

/** The placement of a node alone (actor numbers are tids): tests and benchmarks of one node. */
export function singleNodePlacement(threads: number, localReplication: number): ClusterPlacement {
  return new ClusterPlacement(singleNodeLayout("127.0.0.1", 0, threads, localReplication), new LocalPlacement(threads, localReplication));
}
