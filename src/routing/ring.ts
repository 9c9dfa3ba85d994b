/**
 * A consistent hash ring with virtual nodes over the 64-bit key hash (xxHash64, the same
 * function the Wasm core uses). Anna keeps two: a global ring of nodes and a local ring
 * of each node's actors; both are this class.
 */
import { keyBytes } from "../wire/key";
import { xxhash64 } from "./hash";

export const DEFAULT_VIRTUAL_NODES = 256;

interface Point {
  high: number;
  low: number;
  member: string;
}

function comparePoints(a: { high: number; low: number }, b: { high: number; low: number }): number {
  return a.high - b.high || a.low - b.low;
}

export class HashRing {
  private points: Point[] = [];
  private readonly members = new Set<string>();

  constructor(private readonly virtualNodes = DEFAULT_VIRTUAL_NODES) {
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) {
      throw new RangeError(`virtualNodes must be a positive integer, got ${virtualNodes}`);
    }
  }

  get size(): number {
    return this.members.size;
  }

  add(member: string): void {
    if (this.members.has(member)) return;
    this.members.add(member);
    for (let v = 0; v < this.virtualNodes; v++) {
      const { high, low } = xxhash64(keyBytes(`${member}#${v}`));
      this.points.push({ high, low, member });
    }
    this.points.sort(comparePoints);
  }

  remove(member: string): void {
    if (!this.members.delete(member)) return;
    this.points = this.points.filter((point) => point.member !== member);
  }

  /**
   * The first `count` distinct members clockwise from the key's position (fewer if the
   * ring has fewer members). The first is the key's primary owner. Hot paths pass `out`, a
   * scratch array that is cleared and filled, so that a lookup allocates nothing.
   */
  replicasOfHash(hash: { high: number; low: number }, count: number, out: string[] = []): string[] {
    const replicas = out;
    replicas.length = 0;
    const points = this.points;
    if (points.length === 0) return replicas;
    const wanted = Math.min(count, this.members.size);
    let index = this.firstPointAtOrAfter(hash);
    for (let seen = 0; seen < points.length && replicas.length < wanted; seen++) {
      const member = points[(index + seen) % points.length].member;
      if (!replicas.includes(member)) replicas.push(member);
    }
    return replicas;
  }

  /** The key's primary owner: replicasOfHash(hash, 1)[0] without the array. */
  ownerOfHash(hash: { high: number; low: number }): string | undefined {
    if (this.points.length === 0) return undefined;
    return this.points[this.firstPointAtOrAfter(hash)].member;
  }

  replicas(key: Uint8Array, count: number): string[] {
    return this.replicasOfHash(xxhash64(key), count);
  }

  private firstPointAtOrAfter(hash: { high: number; low: number }): number {
    let lowIndex = 0;
    let highIndex = this.points.length;
    while (lowIndex < highIndex) {
      const middle = (lowIndex + highIndex) >>> 1;
      if (comparePoints(this.points[middle], hash) < 0) lowIndex = middle + 1;
      else highIndex = middle;
    }
    return lowIndex === this.points.length ? 0 : lowIndex;
  }
}
