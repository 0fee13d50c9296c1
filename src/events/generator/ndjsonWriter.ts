import fs from 'node:fs';
import path from 'node:path';
import type { EventBatch } from './batch.js';
import { ByteBuffer } from './bytes.js';
import { NdjsonEncoder } from './encode.js';

/** Flush the byte buffer to the file beyond this many bytes. */
const FLUSH_AT = 1 << 22;

export interface DayFile {
  day: string;
  file: string;
  lines: number;
  /** Events not written (always 0 for NDJSON). */
  omitted: number;
}

/**
 * One `events-YYYY-MM-DD.ndjson` per day, written with large synchronous writes to a hidden
 * temporary name and renamed when the day is complete (a crash leaves no partial day file).
 */
export class NdjsonWriter {
  private encoder: NdjsonEncoder | undefined;
  private readonly out = new ByteBuffer(FLUSH_AT + (1 << 16));
  private fd: number | undefined;
  private tmpPath = '';
  private lines = 0;

  constructor(private readonly outDir: string) {}

  static fileName(day: string): string {
    return `events-${day}.ndjson`;
  }

  write(batch: EventBatch): void {
    this.encoder ??= new NdjsonEncoder(batch.dict);
    if (this.fd === undefined) {
      this.tmpPath = path.join(this.outDir, `.${NdjsonWriter.fileName(batch.day)}.tmp`);
      this.fd = fs.openSync(this.tmpPath, 'w');
      this.lines = 0;
    }
    const encoder = this.encoder;
    const out = this.out;
    for (let i = 0; i < batch.size; i++) {
      encoder.encode(batch, i, out);
      if (out.pos > FLUSH_AT) this.flush();
    }
    this.lines += batch.size;
  }

  /** Close and publish the day's file (call after the batch with lastOfDay). */
  finishDay(day: string): DayFile {
    if (this.fd === undefined) {
      // A day without a single event still gets its (empty) file.
      this.tmpPath = path.join(this.outDir, `.${NdjsonWriter.fileName(day)}.tmp`);
      this.fd = fs.openSync(this.tmpPath, 'w');
      this.lines = 0;
    }
    this.flush();
    fs.closeSync(this.fd);
    this.fd = undefined;
    const file = NdjsonWriter.fileName(day);
    fs.renameSync(this.tmpPath, path.join(this.outDir, file));
    return { day, file, lines: this.lines, omitted: 0 };
  }

  private flush(): void {
    let done = 0;
    while (done < this.out.pos) done += fs.writeSync(this.fd!, this.out.buf, done, this.out.pos - done);
    this.out.pos = 0;
  }

  /** Drop an unfinished day (after an error). */
  abort(): void {
    this.out.pos = 0;
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
      fs.rmSync(this.tmpPath, { force: true });
    }
  }
}
