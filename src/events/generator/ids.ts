import { hash32, permute32, type Rng } from './rng.js';

/**
 * Identifier formats. Every id embeds `permute32(counter, key)`: a bijection of a per-run
 * counter, so ids are unique without a set of the ids seen, and still look random.
 */

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex8(x: number): string {
  return HEX2[x >>> 24]! + HEX2[(x >>> 16) & 255]! + HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
}

function hex4(x: number): string {
  return HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
}

/** Per-run keys for the id kinds, derived from the seed. */
export class IdKeys {
  readonly event: number;
  readonly session: number;
  readonly transaction: number;
  readonly match: number;

  constructor(seed: number) {
    this.event = hash32(seed, 0x1d01);
    this.session = hash32(seed, 0x1d02);
    this.transaction = hash32(seed, 0x1d03);
    this.match = hash32(seed, 0x1d04);
  }
}

/**
 * A UUID-v4-shaped event id (`8-4-4-4-12` hex) from four 32-bit words: w0 is the permuted
 * event counter (uniqueness), w1–w3 are random (it looks like a real client UUID).
 * Batches store the words, not the string: formatting happens in the writers, where the
 * string is short-lived (far less garbage-collector work than millions of retained strings).
 */
export function uuidFromWords(w0: number, w1: number, w2: number, w3: number): string {
  return (
    hex8(w0) +
    '-' +
    hex4(w1 >>> 16) +
    '-4' +
    HEX2[(w1 >>> 8) & 15]!.charAt(1) +
    HEX2[w1 & 255]! +
    '-' +
    HEX2[0x80 | ((w2 >>> 24) & 0x3f)]! +
    HEX2[(w2 >>> 16) & 255]! +
    '-' +
    hex4(w2) +
    hex8(w3)
  );
}

/** `ses_` + 16 hex digits, unique per session. */
export function sessionIdFor(counter: number, keys: IdKeys, rng: Rng): string {
  return 'ses_' + hex8(permute32(counter, keys.session)) + hex8(rng.u32());
}

/** Store-style transaction id, unique per purchase (`GPA.…` for Google Play, else `T…`). */
export function transactionIdFor(counter: number, keys: IdKeys, rng: Rng, channel: string): string {
  const body = hex8(permute32(counter, keys.transaction)) + hex8(rng.u32());
  return (channel === 'google_play' ? 'GPA.' : 'T') + body;
}

export function matchIdFor(counter: number, keys: IdKeys, rng: Rng): string {
  return 'm_' + hex8(permute32(counter, keys.match)) + hex8(rng.u32());
}

/** `u` + 7-digit account number (1-based), e.g. `u0000042`. */
export function userIdFor(index: number): string {
  return 'u' + String(index + 1).padStart(7, '0');
}

/** Dotted IPv4 of a uint32. */
export function ipv4(x: number): string {
  return (x >>> 24) + '.' + ((x >>> 16) & 255) + '.' + ((x >>> 8) & 255) + '.' + (x & 255);
}
