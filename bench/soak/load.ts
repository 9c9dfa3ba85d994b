/**
 * The soak's regular clients: real AnnaClients in closed loops of LWW puts and gets, one
 * key in five the hot key, values from 16 B to 1 MiB (log-uniform: as many 16-32 B values
 * as 512 KiB-1 MiB ones). Each client closes after a random number of operations and a new
 * one takes its place, so that clients keep connecting and disconnecting. Latencies and
 * errors are kept per second for the sampler to take.
 */
import { AnnaClient } from "../../src/client/anna-client";
import { AnnaClientError } from "../../src/client/base-client";
import { LatencyHistogram, LatencySummary } from "../latency";
import { Prng } from "../workload";

export const VALUE_BYTES_MIN = 16;
export const VALUE_BYTES_MAX = 1024 * 1024;
const HOT_KEY = "hot";
const HOT_KEY_SHARE = 0.2;
/** A client does this many operations, give or take, before it closes and another opens. */
const CLIENT_OPERATIONS_MIN = 50;
const CLIENT_OPERATIONS_MAX = 500;
/** The clients' own time-out: above any latency the soak should see, so that a TIMEOUT is an error worth counting. */
const CLIENT_TIMEOUT_MS = 5000;

export interface LoadOptions {
  routingAddress: string;
  clients: number;
  keyCount: number;
  seed: number;
}

export interface SecondOfLoad {
  latency: LatencySummary;
  /** By AnnaClientError code (OTHER: anything else thrown). */
  errors: Record<string, number>;
}

/** Values are views into one random buffer: random enough for the store, free to make. */
class Values {
  private readonly bytes: Uint8Array;

  constructor(random: Prng) {
    this.bytes = random.bytes(2 * VALUE_BYTES_MAX);
  }

  next(random: Prng): Uint8Array {
    const length = Math.round(VALUE_BYTES_MIN * Math.pow(VALUE_BYTES_MAX / VALUE_BYTES_MIN, random.next()));
    const start = random.int(VALUE_BYTES_MAX);
    return this.bytes.subarray(start, start + length);
  }
}

export class ClientLoad {
  private readonly values: Values;
  private running = false;
  private loops: Promise<void>[] = [];
  private histogram = new LatencyHistogram();
  /** Every operation of the run, for the whole run's quantiles. */
  readonly histogramTotal = new LatencyHistogram();
  private errors: Record<string, number> = {};
  readonly errorsTotal: Record<string, number> = {};
  clientsOpened = 0;
  operations = 0;

  constructor(private readonly options: LoadOptions) {
    this.values = new Values(new Prng(options.seed));
  }

  key(index: number): string {
    return `soak-${index}`;
  }

  /** Writes every key once (small values), so that no GET finds a key missing, and `bigKey` a value of VALUE_BYTES_MAX. */
  async preload(bigKey: string): Promise<void> {
    const client = this.client();
    const random = new Prng(this.options.seed + 1);
    try {
      for (let index = 0; index < this.options.keyCount; index++)
        await client.putLww(this.key(index), random.bytes(VALUE_BYTES_MIN));
      await client.putLww(HOT_KEY, random.bytes(VALUE_BYTES_MIN));
      await client.putLww(bigKey, random.bytes(VALUE_BYTES_MAX));
    } finally {
      await client.close();
    }
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.clients }, (_, index) =>
      this.loop(new Prng(this.options.seed + 100 + index)),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The second's latencies and errors since the last call. */
  takeSecond(): SecondOfLoad {
    const second = { latency: this.histogram.summary(), errors: this.errors };
    this.histogram = new LatencyHistogram();
    this.errors = {};
    return second;
  }

  private client(): AnnaClient {
    this.clientsOpened++;
    return new AnnaClient({ routingAddress: this.options.routingAddress, timeoutMs: CLIENT_TIMEOUT_MS });
  }

  private async loop(random: Prng): Promise<void> {
    while (this.running) {
      const client = this.client();
      try {
        for (
          let left = CLIENT_OPERATIONS_MIN + random.int(CLIENT_OPERATIONS_MAX - CLIENT_OPERATIONS_MIN);
          left > 0 && this.running;
          left--
        )
          await this.operation(client, random);
      } finally {
        await client.close();
      }
    }
  }

  private async operation(client: AnnaClient, random: Prng): Promise<void> {
    const key = random.chance(HOT_KEY_SHARE) ? HOT_KEY : this.key(random.int(this.options.keyCount));
    const startedMs = performance.now();
    try {
      if (random.chance(0.5)) await client.putLww(key, this.values.next(random));
      else await client.getLww(key);
      const latencyMs = performance.now() - startedMs;
      this.histogram.record(latencyMs);
      this.histogramTotal.record(latencyMs);
      this.operations++;
    } catch (error) {
      const code = error instanceof AnnaClientError ? error.code : "OTHER";
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      this.errorsTotal[code] = (this.errorsTotal[code] ?? 0) + 1;
    }
  }
}
