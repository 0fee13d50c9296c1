import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { GamepipePaths } from '../core/paths.js';
import { DuckEngine } from '../engine/duckdb.js';
import { frameLinesAsBase64 } from './frame.js';
import { indexMissingInstalls, installsFile, writeInstallsSql } from './installs.js';
import { IngestionLedger, type IngestionRecord } from './ledger.js';
import { DELIMITER_BYTE, readableByDuckDb, scanFile, type FileScan } from './scan.js';
import { sqlString } from '../sql/quote.js';
import { formatDay, isDate } from '../core/dates.js';
import { moveFilesInto, renameInto } from '../lake/publish.js';
import { eventsDir } from '../lake/zones.js';

/**
 * `gamepipe ingest FILES…`: NDJSON files → bronze, as they came.
 *
 * Per file: one streaming pass in JS for the content hash and line count (scan.ts); then ONE DuckDB
 * query reads the lines as one VARCHAR column, classifies them in SQL (json_valid, the timestamp
 * cast) and writes them with COPY … PARTITION_BY into a staging folder: events for
 * `{lake}/bronze/events/ds=<event day>/`, quarantined lines for `{lake}/quarantine/events/ds=<file
 * day>/`. The staged files are counted, moved in by rename, and the ingestion ledger record makes
 * them visible (ledger.ts). JS never holds more than a chunk of a file, so memory stays flat as
 * files grow.
 *
 * Bronze keeps each line's text untouched (`raw`) with its ingestion metadata; the only fields
 * read at this stage are the timestamp (the partition), the event id (the dedup key) and the event
 * name, each only when it is a JSON string. A line is quarantined,
 * never dropped, when it cannot be filed under an event day: not JSON, not a JSON object, no
 * timestamp, a timestamp that is not a date-time, undecodable bytes. Blank lines carry nothing and
 * are only counted.
 */

export interface IngestOptions {
  /** Where the events came from (a game server, an exporter…); stored on every row. Default `file`. */
  source?: string;
  /**
   * The day a file's events belong to by delivery (late arrivals are events of earlier days).
   * Default: the date in the file name (`events-2024-05-01.ndjson`), else the ingestion day (UTC).
   */
  fileDay?: string;
  /** DuckDB threads (default: all cores). */
  threads?: number;
  /** DuckDB memory limit (default GAMEPIPE_INGEST_MEMORY, else 512MB). */
  memoryLimit?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface PartitionCount {
  ds: string;
  events: number;
}

export interface FileIngestResult {
  file: string;
  status: 'ingested' | 'skipped';
  ingestionId: string;
  contentHash: string;
  source: string;
  fileDay: string;
  lines: number;
  events: number;
  blankLines: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  partitions: PartitionCount[];
  ingestedAt: string;
  framing: 'duckdb' | 'js';
  durationMs: number;
  /** For a skipped file: the earlier ingestion of the same content. */
  previous?: { ingestionId: string; file: string; ingestedAt: string };
}

/** Quarantine reasons, in the order they are checked. */
export const QUARANTINE_REASONS = {
  invalid_utf8: 'the line is not valid UTF-8 text (kept as base64 in raw_base64)',
  invalid_json: 'the line is not valid JSON',
  not_an_object: 'the line is JSON but not an object',
  missing_timestamp: 'the event has no timestamp (absent or null), so no event day',
  invalid_timestamp: 'the timestamp is not a string holding a date-time, so no event day',
} as const;
export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

/** DuckDB's memory budget while ingesting: resident memory stays about this plus ~250 MB. */
export const DEFAULT_INGEST_MEMORY = '512MB';

const SOURCE_NAME = /^[A-Za-z0-9_.:@+/-]{1,100}$/;
const DATE_IN_NAME = /(\d{4}-\d{2}-\d{2})/;

export function checkSourceName(source: string): string {
  if (!SOURCE_NAME.test(source)) {
    throw new GamepipeError(`--source: invalid source name ${JSON.stringify(source)}`, {
      expected: 'up to 100 letters, digits or _ . : @ + / - (e.g. game-server-eu1)',
    });
  }
  return source;
}

/** The file's delivery day: given, else the date in its name, else the ingestion day. */
export function fileDayOf(file: string, ingestedAt: Date, given?: string): string {
  if (given !== undefined) {
    if (!isDate(given)) {
      throw new GamepipeError(`invalid file day ${JSON.stringify(given)}`, { file, expected: 'a calendar date YYYY-MM-DD' });
    }
    return given;
  }
  const m = DATE_IN_NAME.exec(path.basename(file));
  if (m && isDate(m[1]!)) return m[1]!;
  return formatDay(ingestedAt);
}

export function newIngestionId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Checks every path before anything is ingested: a typo must not leave half a batch ingested. */
function checkInputs(files: string[]): string[] {
  if (files.length === 0) {
    throw new GamepipeError('no input files', { expected: 'one or more NDJSON files: gamepipe ingest events-2024-05-01.ndjson …' });
  }
  return files.map((file) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      throw new GamepipeError(`cannot read input file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        file,
        expected: 'an existing NDJSON file (one JSON event per line)',
      });
    }
    if (!stat.isFile()) {
      throw new GamepipeError('input is not a file', { file, expected: 'an NDJSON file (one JSON event per line), not a folder' });
    }
    return path.resolve(file);
  });
}

/** The line reader: one VARCHAR column, no quoting, a delimiter byte that JSON text never holds. */
export function readLinesSql(file: string, maxLineBytes: number): string {
  const lineSize = Math.max(2_097_152, Math.ceil(maxLineBytes * 1.5) + 1024);
  const delimiter = `E'\\x${DELIMITER_BYTE.toString(16).padStart(2, '0')}'`;
  return (
    `read_csv(${sqlString(file)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, ` +
    `delim = ${delimiter}, quote = '', escape = '', new_line = '\\n', strict_mode = false, ` +
    `max_line_size = ${lineSize}, buffer_size = ${Math.max(16_777_216, lineSize * 2)}) WITH ORDINALITY`
  );
}

/** Every line with its number and text (framed files: decoded; undecodable bytes: NULL text + base64). */
export function linesSql(read: string, framed: boolean): string {
  const raw = framed ? `TRY(decode(from_base64(line)))` : 'line';
  const rawBase64 = framed ? `CASE WHEN line IS NOT NULL AND ${raw} IS NULL THEN line END` : 'CAST(NULL AS VARCHAR)';
  return `SELECT ordinality AS line_number, ${raw} AS raw, ${rawBase64} AS raw_base64 FROM ${read}`;
}

export interface Literals {
  ingestionId: string;
  source: string;
  file: string;
  ingestedAt: string;
  fileDay: string;
}

/** Where a line goes (the first level of the staged partition folders). */
export type LineTarget = 'bronze' | 'quarantine' | 'blank';

/**
 * Every line, classified in SQL and ready to write: `reason` NULL → an event for bronze, 'blank',
 * or a quarantine reason. `ds` is the UTC day of the timestamp for an event, the file day for any
 * other line — and for an event dated more than a day after its ingestion: its day cannot be
 * trusted, so it is filed under the file's day (where the daily run sees it, flagged
 * `future_timestamp` by the silver rules) instead of years ahead.
 *
 * Bronze and quarantine files come out of this one query, so they share its columns (`reason`
 * and `raw_base64` are NULL in bronze).
 */
export function classifySql(lines: string, lit: Literals): string {
  return `
WITH pre AS (
  SELECT line_number, raw, raw_base64,
         CASE WHEN raw_base64 IS NOT NULL THEN 'invalid_utf8'
              WHEN raw IS NULL OR regexp_full_match(raw, '\\s*') THEN 'blank'
              WHEN NOT json_valid(raw) THEN 'invalid_json'
              WHEN json_type(raw) <> 'OBJECT' THEN 'not_an_object'
         END AS pre_reason
  FROM (${lines})
),
fields AS (
  SELECT *, CASE WHEN pre_reason IS NULL THEN json_transform(raw, '{"timestamp":"JSON","eventName":"JSON","eventId":"JSON"}') END AS j
  FROM pre
),
stamped AS (
  SELECT *, CASE WHEN json_type(j."timestamp") = 'VARCHAR' THEN TRY_CAST((j."timestamp" ->> '$') AS TIMESTAMPTZ) END AS event_ts
  FROM fields
),
classified AS (
  SELECT *, coalesce(pre_reason, CASE WHEN j."timestamp" IS NULL THEN 'missing_timestamp'
                                      WHEN event_ts IS NULL THEN 'invalid_timestamp' END) AS reason
  FROM stamped
)
SELECT ${sqlString(lit.ingestionId)} AS ingestion_id,
       ${sqlString(lit.source)} AS source,
       ${sqlString(lit.file)} AS file,
       line_number,
       TIMESTAMPTZ ${sqlString(lit.ingestedAt)} AS ingested_at,
       DATE ${sqlString(lit.fileDay)} AS file_day,
       event_ts,
       CASE WHEN json_type(j."eventId") = 'VARCHAR' THEN (j."eventId" ->> '$') END AS event_id,
       CASE WHEN json_type(j."eventName") = 'VARCHAR' THEN (j."eventName" ->> '$') END AS event_name,
       raw,
       raw_base64,
       reason,
       CASE WHEN reason IS NULL THEN 'bronze' WHEN reason = 'blank' THEN 'blank' ELSE 'quarantine' END AS target,
       CASE WHEN reason IS NULL AND event_ts <= TIMESTAMPTZ ${sqlString(lit.ingestedAt)} + INTERVAL 1 DAY THEN CAST(event_ts AS DATE)
            ELSE DATE ${sqlString(lit.fileDay)} END AS ds
FROM classified`;
}

/** One pass: every line into `target=…/ds=…/part-<ingestion>-N.parquet` under `dir`. Returns rows written. */
export function writeLinesSql(select: string, dir: string, ingestionId: string): string {
  // zstd level 1: most of zstd's size gain on JSON text at a fraction of its CPU time.
  return (
    `COPY (${select}) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (target, ds), ` +
    `FILENAME_PATTERN ${sqlString(`part-${ingestionId}-{i}`)}, OVERWRITE_OR_IGNORE)`
  );
}

const isParquet = (name: string) => name.endsWith('.parquet');

/**
 * Publishes a staged ingestion (`written` holds `target=bronze|quarantine/ds=…` folders, and
 * `installs` its staged install index file): files first (invisible until the record exists),
 * then the ledger record. `durable` fsyncs files, folders and the record before returning (the
 * HTTP collector answers only after that).
 */
export function publishIngestion(
  ledger: IngestionLedger,
  written: string,
  record: IngestionRecord,
  opts: { installs?: string | undefined; durable?: boolean } = {},
): void {
  const durable = opts.durable ?? false;
  moveFilesInto(path.join(written, 'target=bronze'), eventsDir(ledger.lake, 'bronze'), { keep: isParquet, durable });
  moveFilesInto(path.join(written, 'target=quarantine'), eventsDir(ledger.lake, 'quarantine'), { keep: isParquet, durable });
  if (opts.installs) renameInto(opts.installs, installsFile(ledger.lake, record.ingestion_id), { durable });
  ledger.commit(record, durable);
}

async function ingestOne(
  engine: DuckEngine,
  ledger: IngestionLedger,
  file: string,
  source: string,
  opts: IngestOptions,
): Promise<FileIngestResult> {
  const started = Date.now();
  // Step timings (wall ms and process CPU ms) in the debug log: GAMEPIPE_LOG_LEVEL=debug.
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  const step = (name: string) => {
    const cpu = process.cpuUsage(lastCpu);
    logger.debug({ file, step: name, ms: Math.round(performance.now() - lastWall), cpuMs: Math.round((cpu.user + cpu.system) / 1000) }, 'ingest step');
    lastWall = performance.now();
    lastCpu = process.cpuUsage();
  };
  const scan: FileScan = await scanFile(file);
  step('scan');
  const previous = ledger.committed(scan.sha256);
  const skipped = (record: IngestionRecord): FileIngestResult => ({
    file,
    status: 'skipped',
    ingestionId: record.ingestion_id,
    contentHash: scan.sha256,
    source: record.source,
    fileDay: record.file_day,
    lines: record.lines,
    events: 0,
    blankLines: 0,
    quarantined: 0,
    quarantinedByReason: {},
    partitions: [],
    ingestedAt: record.ingested_at,
    framing: record.framing,
    durationMs: Date.now() - started,
    previous: { ingestionId: record.ingestion_id, file: record.file, ingestedAt: record.ingested_at },
  });
  if (previous) return skipped(previous);

  const at = (opts.now ?? (() => new Date()))();
  const ingestionId = newIngestionId(at);
  const release = ledger.claim(scan.sha256, ingestionId, file);
  const staging = ledger.stagingDir(ingestionId);
  let committed = false;
  try {
    const raced = ledger.committed(scan.sha256); // committed by another process while we scanned
    if (raced) return skipped(raced);
    fs.mkdirSync(staging, { recursive: true });
    const lit: Literals = {
      ingestionId,
      source,
      file,
      ingestedAt: at.toISOString(),
      fileDay: fileDayOf(file, at, opts.fileDay),
    };

    let linesInput = file;
    const framing = readableByDuckDb(scan) ? 'duckdb' : 'js';
    if (framing === 'js') {
      linesInput = path.join(staging, 'lines.b64');
      const framed = await frameLinesAsBase64(file, linesInput);
      if (framed !== scan.lines) throw new Error(`framing found ${framed} lines, the scan ${scan.lines}`);
      step('frame');
    }

    const read = readLinesSql(linesInput, framing === 'js' ? scan.maxLineBytes * 2 : scan.maxLineBytes);
    const lines = linesSql(read, framing === 'js');
    const duck = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        throw new GamepipeError(`DuckDB could not ${what}: ${(err as Error).message.split('\n')[0]}`, {
          file,
          expected: 'a text file of JSON events, one per line',
        });
      }
    };
    const written = path.join(staging, 'lines');
    const rows = await duck('read the lines', () =>
      engine.rows<{ Count: number | string }>(writeLinesSql(classifySql(lines, lit), written, ingestionId)),
    );
    const lineCount = Number(rows[0]?.Count ?? 0);
    step('classify+write');
    if (lineCount !== scan.lines) {
      // Never publish a file whose lines were not all accounted for.
      throw new GamepipeError(`read ${lineCount} lines, but the file has ${scan.lines}; nothing was ingested`, {
        file,
        expected: 'a file that does not change while it is ingested (every line is read exactly once)',
      });
    }
    const counts =
      lineCount === 0
        ? []
        : await engine.rows<{ target: LineTarget; ds: string; reason: string | null; n: number | string }>(
            `SELECT target, CAST(ds AS VARCHAR) AS ds, reason, count(*) AS n
             FROM read_parquet(${sqlString(path.join(written, '*', '*', '*.parquet'))}, hive_partitioning = true, hive_types = {'target': VARCHAR, 'ds': DATE})
             GROUP BY ALL ORDER BY ALL`,
          );
    const sumOf = (rowsOf: typeof counts) => rowsOf.reduce((a, r) => a + Number(r.n), 0);
    const bronzeCounts = counts.filter((r) => r.target === 'bronze');
    const quarantineCounts = counts.filter((r) => r.target === 'quarantine');
    const events = sumOf(bronzeCounts);
    const blankLines = sumOf(counts.filter((r) => r.target === 'blank'));
    const quarantinedByReason: Record<string, number> = {};
    for (const r of quarantineCounts) quarantinedByReason[r.reason!] = (quarantinedByReason[r.reason!] ?? 0) + Number(r.n);
    const quarantined = sumOf(quarantineCounts);
    const partitions = bronzeCounts.map((r) => ({ ds: r.ds, n: Number(r.n) }));
    if (events + quarantined + blankLines !== lineCount) {
      throw new GamepipeError(`filed ${events + quarantined + blankLines} of ${lineCount} lines; nothing was ingested`, {
        file,
        expected: 'every line filed exactly once (please report this file)',
      });
    }
    step('count');
    const stagedBronze = path.join(written, 'target=bronze');
    // The install index file of this ingestion (installs.ts), published with its bronze files.
    const stagedInstalls = path.join(staging, 'installs.parquet');
    if (events > 0) {
      await duck('index the registers', () => engine.run(writeInstallsSql(path.join(stagedBronze, '*', '*.parquet'), ingestionId, stagedInstalls)));
      step('installs');
    }
    const record: IngestionRecord = {
      ingestion_id: ingestionId,
      content_hash: scan.sha256,
      source,
      file,
      file_day: lit.fileDay,
      bytes: scan.bytes,
      lines: lineCount,
      events,
      blank_lines: blankLines,
      quarantined,
      quarantined_by_reason: quarantinedByReason,
      partitions: Object.fromEntries(partitions.map((p) => [p.ds, p.n])),
      framing,
      ingested_at: lit.ingestedAt,
      committed_at: new Date().toISOString(),
    };
    publishIngestion(ledger, written, record, { installs: events > 0 ? stagedInstalls : undefined });
    committed = true;
    step('publish');
    logger.info({ file, ingestion: ingestionId, lines: lineCount, events, quarantined }, 'ingested');
    return {
      file,
      status: 'ingested',
      ingestionId,
      contentHash: scan.sha256,
      source,
      fileDay: lit.fileDay,
      lines: lineCount,
      events,
      blankLines,
      quarantined,
      quarantinedByReason,
      partitions: partitions.map((p) => ({ ds: p.ds, events: p.n })),
      ingestedAt: lit.ingestedAt,
      framing,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    // Nothing of this ingestion may stay behind: it never committed.
    if (!committed) ledger.removeIngestionFiles(ingestionId);
    throw err instanceof GamepipeError ? err.withContext({ file }) : new GamepipeError(`ingest failed: ${(err as Error).message}`, { file }, { cause: err });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    release();
  }
}

/** Ingests files one after the other (each atomically); already ingested contents are skipped. */
export async function ingestFiles(files: string[], paths: GamepipePaths, opts: IngestOptions = {}): Promise<FileIngestResult[]> {
  const source = checkSourceName(opts.source ?? 'file');
  if (opts.fileDay !== undefined) fileDayOf('', new Date(), opts.fileDay);
  const inputs = checkInputs(files);
  const ledger = new IngestionLedger(paths.lake);
  const recovered = ledger.recover();
  if (recovered.length) logger.warn({ ingestions: recovered }, 'removed the files of unfinished ingestions');
  // A fixed DuckDB memory budget keeps the process flat whatever the file size (the query
  // streams; beyond the budget DuckDB spills to $GAMEPIPE_HOME/tmp/duckdb).
  const memoryLimit = opts.memoryLimit ?? process.env.GAMEPIPE_INGEST_MEMORY ?? DEFAULT_INGEST_MEMORY;
  const engine = await DuckEngine.open(paths.tmp, { ...(opts.threads ? { threads: opts.threads } : {}), memoryLimit });
  const results: FileIngestResult[] = [];
  try {
    // Wide partitioned writes (many ds) must not keep a writer per partition open at once.
    await engine.run('SET partitioned_write_max_open_files = 64');
    await indexMissingInstalls(engine, ledger);
    for (const file of inputs) results.push(await ingestOne(engine, ledger, file, source, opts));
  } finally {
    engine.close();
  }
  return results;
}
