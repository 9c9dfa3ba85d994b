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
 * Per-key factors (hot keys) come from the cluster's FactorIndex (key-factors.ts): a key
 * any node asked onto more nodes lives on that many, and on each node on as many actors as
 * that node asked for. Keys without factors take the fast paths, found by their hash alone.
 */
import { keyName } from "../wire/key";
import { Hash64, xxhash64 } from "./hash";
import { FactorIndex } from "./key-factors";
import { ClusterLayout, LayoutNode, singleNodeLayout } from "./layout";
import { LocalPlacement } from "./placement";
import { HashRing } from "./ring";
import { actorGossipTcpAddress, actorRequestAddress } from "../protocol/ports";

/** Local rings depend only on (threads, local replication): built once each. */
const localRings = new Map<string, LocalPlacement>();

function localRingOf(node: LayoutNode): LocalPlacement {
  const key = `${node.threads}/${node.localReplication}`;
  let ring = localRings.get(key);
  if (ring === undefined) localRings.set(key, (ring = new LocalPlacement(node.threads, node.localReplication)));
  return ring;
}

const NO_FACTORS = new FactorIndex({});

export class ClusterPlacement {
  private readonly selfNode: number;
  /** Flat number of each node's first actor. */
  private readonly actorBase: number[] = [];
  private readonly rings: LocalPlacement[] = [];
  private readonly nodeIndexById = new Map<string, number>();
  private readonly servingRing = new HashRing();
  private readonly nextRing = new HashRing();
  private readonly servingNodes: number[] = [];
  private readonly nextNodes: number[] = [];
  /** Reused by replicationAtHash, so that the request path allocates no replica list. */
  private readonly scratchNodeIds: string[] = [];
  /** Default replicas on the other serving nodes, when all of them hold every key. */
  private readonly otherServingReplicas: number;
  readonly actorCount: number;
  private addressTable?: { gossip: string[]; identity: string[]; request: string[] };
  /** This node's local ring. */
  readonly local: LocalPlacement;

  constructor(
    readonly layout: ClusterLayout,
    readonly factors: FactorIndex = NO_FACTORS,
  ) {
    let base = 0;
    layout.nodes.forEach((node, index) => {
      this.actorBase.push(base);
      this.rings.push(localRingOf(node));
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
    this.selfNode = self;
    this.local = this.rings[self];
    this.otherServingReplicas = this.servingNodes.reduce(
      (sum, node) => (node === self ? sum : sum + layout.nodes[node].localReplication),
      0,
    );
  }

  /** The same layout with other factors. */
  withFactors(factors: FactorIndex): ClusterPlacement {
    return new ClusterPlacement(this.layout, factors);
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

  /** False while this node is leaving: off the next ring, its copies of keys are going away. */
  get selfOnNextRing(): boolean {
    return this.layout.nodes[this.selfNode].next;
  }

  /** True for an actor of a node on the next ring: one that is not leaving. */
  isOnNextRing(actor: number): boolean {
    this.checked(actor);
    let node = this.actorBase.length - 1;
    while (this.actorBase[node] > actor) node--;
    return this.layout.nodes[node].next;
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
    return this.addresses().gossip[this.checked(actor)];
  }

  /** The actor's gossip address and its node's incarnation: what a rebalance compares (a new incarnation is a new destination). */
  actorIdentity(actor: number): string {
    return this.addresses().identity[this.checked(actor)];
  }

  requestAddress(actor: number): string {
    return this.addresses().request[this.checked(actor)];
  }

  /** Every actor's addresses, built once per placement: gossip and rebalances ask for them per key. */
  private addresses(): { gossip: string[]; identity: string[]; request: string[] } {
    if (this.addressTable !== undefined) return this.addressTable;
    const table = { gossip: [] as string[], identity: [] as string[], request: [] as string[] };
    for (const node of this.layout.nodes) {
      for (let tid = 0; tid < node.threads; tid++) {
        const gossip = actorGossipTcpAddress(node.host, node.portOffset, tid);
        table.gossip.push(gossip);
        table.identity.push(`${gossip}#${node.incarnation}`);
        table.request.push(actorRequestAddress(node.host, node.portOffset, tid));
      }
    }
    return (this.addressTable = table);
  }

  private checked(actor: number): number {
    if (!Number.isInteger(actor) || actor < 0 || actor >= this.actorCount)
      throw new RangeError(`no actor ${actor} in a layout of ${this.actorCount}`);
    return actor;
  }

  /**
   * Where every key has one copy unless it is hot: one node (or one replica node per key
   * on rings that agree) and one actor per key on each. Gossip then skips the store's dirty
   * marks (handlers/gossip.ts).
   */
  get singleCopyByDefault(): boolean {
    if (this.alone) return this.local.defaultReplication === 1;
    if (
      this.layout.globalReplication !== 1 ||
      this.layout.nodes.some((node) => node.localReplication !== 1 || node.serving !== node.next)
    )
      return false;
    return true;
  }

  /** The key's name when it may have factors (its hash's low bits are those of a key that has), else undefined. */
  private nameIfFactored(
    hash: Hash64,
    source: Uint8Array,
    start = 0,
    length = source.length - start,
    name?: string,
  ): string | undefined {
    if (!this.factors.mayHave(hash.low)) return undefined;
    return name ?? keyName(source.subarray(start, start + length));
  }

  /** Actors of node `node` holding the key. */
  private localFactor(node: number, name: string | undefined): number {
    const ring = this.rings[node];
    return name === undefined
      ? ring.defaultReplication
      : ring.clamp(this.factors.localOf(this.layout.nodes[node].id, name));
  }

  private globalFactor(name: string | undefined): number {
    return name === undefined
      ? this.layout.globalReplication
      : Math.max(this.layout.globalReplication, this.factors.globalOf(name));
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
    const name = this.nameIfFactored(hash, source, start, length);
    const local = this.localFactor(this.selfNode, name);
    if (this.alone) return this.local.isReplicaOfHash(hash, tid, local) ? local : 0;
    if (!this.selfServing) return 0;
    const global = this.globalFactor(name);
    if (name === undefined && this.servingNodes.length <= global) {
      return this.local.isReplicaOfHash(hash, tid, local) ? local + this.otherServingReplicas : 0;
    }
    // More serving nodes than replicas: which nodes hold the key, without allocating a list.
    const nodeIds = this.servingRing.replicasOfHash(hash, global, this.scratchNodeIds);
    if (!nodeIds.includes(this.layout.selfId) || !this.local.isReplicaOfHash(hash, tid, local)) return 0;
    let total = 0;
    for (const id of nodeIds) total += this.localFactor(this.nodeIndexById.get(id)!, name);
    return total;
  }

  /** The actors that answer requests for the key: primary node first, each node's primary first. */
  servingReplicas(key: Uint8Array, name?: string): number[] {
    const hash = xxhash64(key);
    const factored = this.nameIfFactored(hash, key, 0, key.length, name);
    return this.actorsOf(this.servingNodesOf(hash, this.globalFactor(factored)), hash, factored);
  }

  /** The actors that must hold the key: its serving replicas, then its replicas on the next ring. */
  writeReplicas(key: Uint8Array, name?: string): number[] {
    const hash = xxhash64(key);
    const factored = this.nameIfFactored(hash, key, 0, key.length, name);
    const global = this.globalFactor(factored);
    const nodes = this.servingNodesOf(hash, global);
    for (const node of this.ringNodesOf(this.nextRing, this.nextNodes, hash, global))
      if (!nodes.includes(node)) nodes.push(node);
    return this.actorsOf(nodes, hash, factored);
  }

  /** This node's actors (tids) holding the key, primary first. */
  localReplicas(key: Uint8Array, name?: string): number[] {
    const hash = xxhash64(key);
    return this.local.replicasOfHash(
      hash,
      this.localFactor(this.selfNode, this.nameIfFactored(hash, key, 0, key.length, name)),
    );
  }

  /**
   * The primary actor of each serving-replica node of the key other than this node: where
   * an acknowledged PUT sends its value (one durable copy per node).
   */
  otherReplicaNodePrimaries(key: Uint8Array, name?: string): number[] {
    const hash = xxhash64(key);
    const actors: number[] = [];
    for (const node of this.servingNodesOf(
      hash,
      this.globalFactor(this.nameIfFactored(hash, key, 0, key.length, name)),
    )) {
      if (node !== this.selfNode) actors.push(this.actorBase[node] + this.rings[node].replicasOfHash(hash, 1)[0]);
    }
    return actors;
  }

  isWriteReplica(key: Uint8Array, actor: number, name?: string): boolean {
    return this.writeReplicas(key, name).includes(actor);
  }

  private servingNodesOf(hash: Hash64, global: number): number[] {
    return this.ringNodesOf(this.servingRing, this.servingNodes, hash, global);
  }

  private ringNodesOf(ring: HashRing, members: readonly number[], hash: Hash64, global: number): number[] {
    if (members.length <= global) return [...members];
    return ring.replicasOfHash(hash, global).map((id) => this.nodeIndexById.get(id)!);
  }

  private actorsOf(nodes: readonly number[], hash: Hash64, name: string | undefined): number[] {
    const actors: number[] = [];
    for (const node of nodes) {
      for (const tid of this.rings[node].replicasOfHash(hash, this.localFactor(node, name)))
        actors.push(this.actorBase[node] + tid);
    }
    return actors;
  }
}

/** The placement of a node alone (actor numbers are tids): tests and benchmarks of one node. */
export function singleNodePlacement(
  threads: number,
  localReplication: number,
  factors?: FactorIndex,
): ClusterPlacement {
  return new ClusterPlacement(singleNodeLayout("127.0.0.1", 0, threads, localReplication), factors);
}
