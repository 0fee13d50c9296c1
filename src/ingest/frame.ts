import fs from 'node:fs';

/**
 * The exact path for files DuckDB's line reader cannot take as they are (see scan.ts): split
 * the file into lines here, streaming, and write each line's bytes base64-encoded on a line of
 * its own. DuckDB then reads that file (base64 has no carriage returns, delimiters or invalid
 * UTF-8) and decodes each line back to text, so line numbers, text and even undecodable bytes
 * survive. Lines end at `\n`; one `\r` before it belongs to the line end (CRLF); a UTF-8 byte
 * order mark at the start of the file is dropped. Memory stays flat (1 MiB chunks, one
 * unfinished line carried between chunks).
 */
const FLUSH_AT = 1 << 20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export async function frameLinesAsBase64(file: string, out: string): Promise<number> {
  const fd = fs.openSync(out, 'w');
  let pending: string[] = [];
  let pendingChars = 0;
  let lines = 0;
  let carry: Buffer = Buffer.alloc(0);
  let first = true;

  const emit = (line: Buffer) => {
    let bytes = line;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    const text = bytes.toString('base64');
    pending.push(text);
    pendingChars += text.length + 1;
    lines++;
    if (pendingChars > FLUSH_AT) flush();
  };
  const flush = () => {
    if (pending.length === 0) return;
    fs.writeSync(fd, pending.join('\n') + '\n');
    pending = [];
    pendingChars = 0;
  };

  try {
    for await (const data of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
      let chunk = data as Buffer;
      if (first) {
        first = false;
        if (chunk.subarray(0, 3).equals(BOM)) chunk = chunk.subarray(3);
      }
      let pos = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, pos)) {
        const piece = chunk.subarray(pos, i);
        emit(carry.length ? Buffer.concat([carry, piece]) : piece);
        carry = Buffer.alloc(0);
        pos = i + 1;
      }
      if (pos < chunk.length) carry = Buffer.concat([carry, chunk.subarray(pos)]);
    }
    if (carry.length > 0) emit(carry);
    flush();
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}
