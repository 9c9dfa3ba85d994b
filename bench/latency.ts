/**
 * A log-bucketed latency histogram: buckets 1% wide from 1 µs to 100 s, so recording is
 * one Math.log and an increment, memory is fixed, and quantiles are within 1%.
 */
const LATENCY_MS_MIN = 0.001;
const LATENCY_MS_MAX = 100_000;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKET_COUNT = Math.ceil(Math.log(LATENCY_MS_MAX / LATENCY_MS_MIN) / LOG_GROWTH) + 1;

export interface LatencySummary {
  count: number;
  latencyMsMean: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsMax: number;
}

/** A histogram as plain data, for a child process to send: its non-empty buckets, sum and max. */
export interface HistogramSnapshot {
  buckets: Array<[bucket: number, count: number]>;
  sumMs: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private count = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(latencyMs: number): void {
    const clamped = Math.min(Math.max(latencyMs, LATENCY_MS_MIN), LATENCY_MS_MAX);
    this.counts[Math.floor(Math.log(clamped / LATENCY_MS_MIN) / LOG_GROWTH)]++;
    this.count++;
    this.sumMs += latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++)
      if (this.counts[bucket] > 0) buckets.push([bucket, this.counts[bucket]]);
    return { buckets, sumMs: this.sumMs, maxMs: this.maxMs };
  }

  /** Adds another histogram's samples (from another process): quantiles of the union, not an average of quantiles. */
  add(snapshot: HistogramSnapshot): void {
    for (const [bucket, count] of snapshot.buckets) {
      if (!(Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKET_COUNT))
        throw new RangeError(`no bucket ${bucket}`);
      this.counts[bucket] += count;
      this.count += count;
    }
    this.sumMs += snapshot.sumMs;
    this.maxMs = Math.max(this.maxMs, snapshot.maxMs);
  }

  /** The upper edge of the bucket holding the q-th sample (0 < q <= 1). */
  quantileMs(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      seen += this.counts[bucket];
      if (seen >= rank) return Math.min(LATENCY_MS_MIN * Math.pow(GROWTH, bucket + 1), this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      latencyMsMean: this.count === 0 ? NaN : this.sumMs / this.count,
      latencyMsP50: this.quantileMs(0.5),
      latencyMsP99: this.quantileMs(0.99),
      latencyMsMax: this.maxMs,
    };
  }
}
