import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';

/**
 * One streaming pass over an input file before DuckDB reads it: the content hash (the
 * re-ingestion key), the number of lines, the longest line, and whether DuckDB's line reader
 * can take the file as it is. Memory stays flat: chunks of 1 MiB, nothing kept but counters
 * and at most 3 bytes of an unfinished UTF-8 character.
 *
 * DuckDB reads the lines with read_csv (one VARCHAR column, no quoting). That is exact for
 * UTF-8 text with `\n` line ends — the overwhelming case — but its CSV reader treats a carriage
 * return as a line break (splitting or clipping text around a stray `\r`), refuses invalid
 * UTF-8, and needs a column delimiter that never occurs. Files with any of those get framed
 * line by line in JS first (frame.ts), so no line is ever split, clipped or lost.
 */
export interface FileScan {
  bytes: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
  /** Lines as DuckDB counts them: `\n` separated, a last line without `\n` counts. */
  lines: number;
  maxLineBytes: number;
  /** Contains a `\r` byte (CRLF line ends or stray carriage returns). */
  hasCarriageReturn: boolean;
  /** Contains the byte the DuckDB read uses as column delimiter (never in valid JSON text). */
  hasDelimiterByte: boolean;
  validUtf8: boolean;
}

/** Column delimiter for the DuckDB line read: a control byte, which JSON text never contains raw. */
export const DELIMITER_BYTE = 0x01;

/** Bytes at the end of `buf` that may be an unfinished UTF-8 sequence (0 to 3). */
function unfinishedUtf8Tail(buf: Buffer): number {
  let i = buf.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i]!;
  if (lead >= 0xc0) return buf.length - i; // a lead byte: keep it and its continuation bytes for the next chunk
  return 0;
}

export async function scanFile(file: string): Promise<FileScan> {
  const hash = createHash('sha256');
  let bytes = 0;
  let newlines = 0;
  let current = 0;
  let maxLine = 0;
  let lastByte = -1;
  let hasCr = false;
  let hasDelimiter = false;
  let validUtf8 = true;
  let carry: Buffer = Buffer.alloc(0);

  for await (const data of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const chunk = data as Buffer;
    hash.update(chunk);
    bytes += chunk.length;
    if (!hasCr && chunk.indexOf(13) !== -1) hasCr = true;
    if (!hasDelimiter && chunk.indexOf(DELIMITER_BYTE) !== -1) hasDelimiter = true;
    let pos = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, pos)) {
      const len = current + (i - pos);
      if (len > maxLine) maxLine = len;
      current = 0;
      newlines++;
      pos = i + 1;
    }
    current += chunk.length - pos;
    if (current > maxLine) maxLine = current;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1]!;
    if (validUtf8) {
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const tail = unfinishedUtf8Tail(buf);
      if (!isUtf8(buf.subarray(0, buf.length - tail))) validUtf8 = false;
      carry = Buffer.from(buf.subarray(buf.length - tail));
    }
  }
  if (validUtf8 && carry.length > 0 && !isUtf8(carry)) validUtf8 = false;
  const lines = newlines + (bytes > 0 && lastByte !== 10 ? 1 : 0);
  return {
    bytes,
    sha256: hash.digest('hex'),
    lines,
    maxLineBytes: maxLine,
    hasCarriageReturn: hasCr,
    hasDelimiterByte: hasDelimiter,
    validUtf8,
  };
}

/** Whether DuckDB can read the lines of the file directly and exactly. */
export function readableByDuckDb(scan: FileScan): boolean {
  return !scan.hasCarriageReturn && !scan.hasDelimiterByte && scan.validUtf8;
}
