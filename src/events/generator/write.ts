import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../../core/errors.js';
import type { EventBatch } from './batch.js';
import { generateEvents } from './generate.js';
import { buildManifest, type DayReport, type GenerationSummary, type Manifest } from './manifest.js';
import { NdjsonWriter, type DayFile } from './ndjsonWriter.js';
import type { GenerateOptions } from './options.js';
import { DuckdbParquetWriter } from './parquet/duckdbWriter.js';
import { NativeParquetWriter, type ParquetCompression } from './parquet/nativeWriter.js';
import { writeFileStaged } from '../../lake/publish.js';

export type OutputFormat = 'ndjson' | 'parquet';

export interface WriteGeneratedOptions extends GenerateOptions {
  /** Output directory (created if missing). Earlier `events-*` files and manifest.json in it are replaced. */
  out: string;
  format: OutputFormat;
  /**
   * Who encodes Parquet: `native` (default; fast, GZIP pages compressed on the thread pool)
   * or `duckdb` (the reference: DuckDB COPY, snappy; slower). Both read back the same.
   */
  parquetWriter?: 'native' | 'duckdb';
  /** Page compression of the native Parquet writer (default gzip). */
  parquetCompression?: ParquetCompression;
  /** DuckDB threads of the duckdb Parquet writer (default 2). */
  duckdbThreads?: number;
}

export interface GenerateStats {
  /** Lines (NDJSON) or rows (Parquet) written, defective ones included. */
  events: number;
  seconds: number;
  eventsPerSecond: number;
  out: string;
  format: OutputFormat;
  files: string[];
  manifestPath: string;
  manifest: Manifest;
}

export const MANIFEST_FILE = 'manifest.json';
/** What a previous run may have left in `out/` (files, temporary files of a crashed run). */
const OUTPUT_FILE = /^(\.?events-\d{4}-\d{2}-\d{2}\.(ndjson|parquet)(\.tmp)?|\.?manifest\.json(\.tmp|\.__staging-.*)?|\.tmp-generate-.*)$/;

/**
 * Generate and write one file per day plus `manifest.json` (the ground truth). Memory stays
 * flat: batches are written as they come. Each file appears whole (temporary name, then
 * rename); the manifest is written last.
 */
export async function writeGenerated(options: WriteGeneratedOptions): Promise<GenerateStats> {
  if (options.format !== 'ndjson' && options.format !== 'parquet') {
    throw new GamepipeError(`generate: unknown format ${JSON.stringify(options.format)}`, { expected: 'ndjson or parquet' });
  }
  const started = performance.now();
  const out = path.resolve(options.out);
  const events = generateEvents(options); // validates the options before anything touches the disk
  fs.mkdirSync(out, { recursive: true });
  for (const name of fs.readdirSync(out)) {
    if (OUTPUT_FILE.test(name)) fs.rmSync(path.join(out, name), { recursive: true, force: true });
  }

  const files: DayFile[] = [];
  let summary: GenerationSummary;
  if (options.format === 'ndjson') {
    const writer = new NdjsonWriter(out);
    try {
      summary = drain(events, (batch) => {
        writer.write(batch);
        if (batch.lastOfDay) files.push(writer.finishDay(batch.day));
      });
    } catch (err) {
      writer.abort();
      throw err;
    }
  } else {
    const writer =
      options.parquetWriter === 'duckdb'
        ? await DuckdbParquetWriter.open(out, { threads: options.duckdbThreads })
        : new NativeParquetWriter(out, options.parquetCompression ?? 'gzip');
    try {
      let result = events.next();
      while (!result.done) {
        const batch: EventBatch = result.value;
        const wait = writer.write(batch);
        if (wait) await wait;
        if (batch.lastOfDay) files.push(await writer.finishDay(batch.day));
        result = events.next();
      }
      summary = result.value;
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  const days: DayReport[] = summary.days.map((report, d) => {
    const file = files[d]!;
    if (file.day !== report.day || file.lines !== report.lines - file.omitted) {
      throw new Error(`generator bug: ${file.file} has ${file.lines} rows, expected ${report.lines - file.omitted}`);
    }
    // Parquet: malformed_json events were generated but could not be written.
    const defects = { ...report.defects, malformed_json: report.defects.malformed_json - file.omitted };
    return { ...report, file: file.file, lines: file.lines, defects, omitted: file.omitted };
  });
  const manifest = buildManifest(summary, options.format, days);
  const manifestPath = path.join(out, MANIFEST_FILE);
  writeFileStaged(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const seconds = (performance.now() - started) / 1000;
  const written = manifest.totals.lines;
  return {
    events: written,
    seconds,
    eventsPerSecond: seconds > 0 ? written / seconds : 0,
    out,
    format: options.format,
    files: days.map((d) => d.file),
    manifestPath,
    manifest,
  };
}

/** Run a generator to the end, handing each batch to `onBatch`; returns its return value. */
function drain<T, R>(it: Generator<T, R, undefined>, onBatch: (value: T) => void): R {
  let result = it.next();
  while (!result.done) {
    onBatch(result.value);
    result = it.next();
  }
  return result.value;
}
