/**
 * Byte-level text building. Generating and writing millions of events as concatenated JS
 * strings spends most of its time in the garbage collector (every piece is an object, and
 * batches keep them alive past young-generation collections). The generator therefore writes
 * properties JSON, and the writers whole lines, straight into byte buffers. Everything the
 * generator produces is ASCII; other text is UTF-8 encoded on a slower path.
 */

const encoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** ASCII/UTF-8 bytes of a string. */
export function bytesOf(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decode bytes written by this module (UTF-8; the ASCII fast path decodes as latin1). */
export function decodeBytes(bytes: Uint8Array, start: number, end: number): string {
  const view = bytes.subarray(start, end);
  for (let i = 0; i < view.length; i++) if (view[i]! > 0x7f) return utf8.decode(view);
  return latin1.decode(view);
}

/** Write `s` at `pos`; returns the new position. The caller guarantees room (4 bytes a char). */
export function putString(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return pos + encoder.encodeInto(s, buf.subarray(pos)).written;
    buf[pos + i] = c;
  }
  return pos + n;
}

/** Copy bytes[start, end) to `buf` at `pos`. */
export function putBytes(buf: Uint8Array, pos: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (end - start > 64) {
    buf.set(bytes.subarray(start, end), pos);
    return pos + end - start;
  }
  for (let i = start; i < end; i++) buf[pos++] = bytes[i]!;
  return pos;
}

const DIGITS = new Uint8Array(20);

/** Decimal digits of a non-negative safe integer. */
export function putUint(buf: Uint8Array, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  let k = 0;
  while (n > 0) {
    const q = Math.floor(n / 10);
    DIGITS[k++] = 48 + (n - q * 10);
    n = q;
  }
  while (k > 0) buf[pos++] = DIGITS[--k]!;
  return pos;
}

/** A JSON number (integers fast; others as JavaScript prints them, which JSON.stringify matches). */
export function putNumber(buf: Uint8Array, pos: number, n: number): number {
  if (Number.isSafeInteger(n)) {
    if (n < 0) {
      buf[pos++] = 45; // '-'
      n = -n;
    }
    return putUint(buf, pos, n);
  }
  return putString(buf, pos, String(n));
}

/** Zero-padded 2- or 3-digit field. */
export function putPadded(buf: Uint8Array, pos: number, n: number, width: 2 | 3): number {
  if (width === 3) {
    buf[pos++] = 48 + Math.floor(n / 100);
    n %= 100;
  }
  buf[pos] = 48 + Math.floor(n / 10);
  buf[pos + 1] = 48 + (n % 10);
  return pos + 2;
}

const HEX = bytesOf('0123456789abcdef');

/** 4 hex digits of every 16-bit value, packed as little-endian uint32 (for DataView writes). */
const HEX4 = new Uint32Array(65536);
for (let v = 0; v < 65536; v++) {
  HEX4[v] = HEX[(v >>> 12) & 15]! | (HEX[(v >>> 8) & 15]! << 8) | (HEX[(v >>> 4) & 15]! << 16) | (HEX[v & 15]! * 16777216);
}

/**
 * The UUID text of four id words (same text as ids.ts uuidFromWords): 8 four-digit writes.
 * `view` is a DataView over `buf`.
 */
export function putUuid(buf: Uint8Array, view: DataView, pos: number, w0: number, w1: number, w2: number, w3: number): number {
  view.setUint32(pos, HEX4[w0 >>> 16]!, true);
  view.setUint32(pos + 4, HEX4[w0 & 0xffff]!, true);
  buf[pos + 8] = 45; // -
  view.setUint32(pos + 9, HEX4[w1 >>> 16]!, true);
  buf[pos + 13] = 45;
  view.setUint32(pos + 14, HEX4[w1 & 0xfff]!, true);
  buf[pos + 14] = 52; // version 4 (HEX4 of a 12-bit value starts with '0')
  buf[pos + 18] = 45;
  view.setUint32(pos + 19, HEX4[((0x80 | ((w2 >>> 24) & 0x3f)) << 8) | ((w2 >>> 16) & 255)]!, true);
  buf[pos + 23] = 45;
  view.setUint32(pos + 24, HEX4[w2 & 0xffff]!, true);
  view.setUint32(pos + 28, HEX4[w3 >>> 16]!, true);
  view.setUint32(pos + 32, HEX4[w3 & 0xffff]!, true);
  return pos + 36;
}

/** A growable output buffer flushed to a file descriptor (or collected) in big writes. */
export class ByteBuffer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size = 1 << 22) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Make room for `n` more bytes (grows; callers flush before it matters). */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
