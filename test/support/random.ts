/**
 * Held in a module binding: under Jest, code runs in a vm context where every global
 * lookup (`Math`) goes through an interceptor, which made filling values ~45x slower.
 */
const imul = Math.imul;

/** A small seeded PRNG (mulberry32) so random tests replay exactly from a printed seed. */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Fills `bytes` with random bytes and returns it. */
  fill(bytes: Uint8Array): Uint8Array {
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.nextUint32() >>> 24;
    return bytes;
  }

  bytes(length: number): Uint8Array {
    return this.fill(new Uint8Array(length));
  }

  private nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

/** The seed for a random test: ANNAKV_SEED replays a failure; otherwise a fresh one. */
export function testSeed(): number {
  const fromEnv = process.env.ANNAKV_SEED;
  return fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}
