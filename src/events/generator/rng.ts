/**
 * Seeded randomness for the generator. Everything random is derived from the user's `seed`
 * through these functions; Math.random is never used, so the same options give the same bytes.
 *
 * Sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state) passes PractRand and is
 * a handful of integer ops per draw. Streams are keyed by integers (seed, user, day, purpose)
 * so one user-day's behaviour does not depend on what was generated before it.
 */

/** Murmur3's 32-bit finalizer: a bijection on uint32 that scrambles all bits. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of a few integers (order matters). */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = mix32((a ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ Math.imul(b + 0x7f4a7c15, 0x2545f491)) >>> 0);
  h = mix32((h ^ Math.imul(c + 0x6a09e667, 0x9e3779b1)) >>> 0);
  return mix32((h ^ Math.imul(d + 0x3c6ef372, 0x85ebca77)) >>> 0);
}

/**
 * A keyed permutation of uint32: distinct inputs give distinct outputs. Ids built from
 * `permute32(counter, key)` are unique by construction (for fewer than 2^32 ids) yet look random.
 */
export function permute32(x: number, key: number): number {
  x = (x ^ key) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x = (x + key) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(k1: number, k2 = 0, k3 = 0, k4 = 0) {
    this.reseed(k1, k2, k3, k4);
  }

  /** Restart the stream for a new key (cheaper than a new object in hot loops). */
  reseed(k1: number, k2 = 0, k3 = 0, k4 = 0): void {
    this.a = hash32(k1, k2, k3, k4);
    this.b = hash32(k2, k3, k4, k1 ^ 0x5bd1e995);
    this.c = hash32(k3, k4, k1, k2 ^ 0x1b873593);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform uint32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Index drawn from a cumulative weight table (see `cumulative`). */
  weighted(cdf: Float64Array): number {
    const x = this.next() * (cdf[cdf.length - 1] as number);
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Roughly log-normal positive number with the given median (spread = sigma of the log). */
  logNormal(median: number, spread: number): number {
    // Sum of three uniforms ≈ normal(1.5, 0.5): good enough and branch-free.
    const z = (this.next() + this.next() + this.next() - 1.5) * 2;
    return median * Math.exp(z * spread);
  }
}

/** Cumulative sums of weights, for `Rng.weighted`. */
export function cumulative(weights: readonly number[]): Float64Array {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i] as number;
    cdf[i] = sum;
  }
  return cdf;
}
