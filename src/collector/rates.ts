/**
 * Per-key event rate: a token bucket per ingest key, refilled at `rate` events per second up to
 * `burst`. A request is refused (429) while its key's bucket is empty; an accepted request takes
 * its event count, which may leave the bucket below zero — the key then waits until it refills.
 */
export class KeyRates {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private bucket(key: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    return b;
  }

  /** Seconds until the key may send again (0: now). */
  waitSeconds(key: string): number {
    const b = this.bucket(key);
    return b.tokens >= 1 ? 0 : (1 - b.tokens) / this.rate;
  }

  take(key: string, events: number): void {
    this.bucket(key).tokens -= events;
  }
}
