import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { connectUtc, createDuckInstance } from '../../../engine/duckdb.js';
import type { Dictionaries, EventBatch } from '../batch.js';
import { ByteBuffer } from '../bytes.js';
import { TsvEncoder } from '../encode.js';
import { DEFECT } from '../dirty.js';
import type { DayFile } from '../ndjsonWriter.js';
import { sqlString } from '../../../sql/quote.js';

/**
 * The reference Parquet writer: DuckDB writes the file (snappy), so its encoding is DuckDB's.
 * Slower than the native writer (nativeWriter.ts), which tests check against this one.
 *
 * Why not the appender: each VARCHAR goes through its own native call, ~0.5 µs a string.
 * Instead the day's rows are written to a temporary tab-separated file in which every
 * low-cardinality field is a small integer code, and DuckDB's CSV reader turns it into
 * Parquet, decoding the codes with list literals. That COPY runs on DuckDB's threads while
 * JavaScript generates the next day, so the two overlap.
 *
 * malformed_json events cannot exist in a typed file: they are omitted (and counted).
 */
export class DuckdbParquetWriter {
  private tsvFd: number | undefined;
  private tsvPath = '';
  private rows = 0;
  private omitted = 0;
  private pending: Promise<void> = Promise.resolve();
  private selectList: string | undefined;
  private readonly tmpDir: string;
  private readonly out = new ByteBuffer(FLUSH_AT + (1 << 16));
  private readonly encoder = new TsvEncoder();

  private constructor(
    private readonly outDir: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {
    this.tmpDir = fs.mkdtempSync(path.join(outDir, '.tmp-generate-'));
  }

  static async open(outDir: string, options: { threads?: number } = {}): Promise<DuckdbParquetWriter> {
    const instance = await createDuckInstance(undefined, { threads: options.threads ?? 2 });
    return new DuckdbParquetWriter(outDir, instance, await connectUtc(instance));
  }

  static fileName(day: string): string {
    return `events-${day}.parquet`;
  }

  write(batch: EventBatch): undefined {
    this.selectList ??= selectList(batch.dict);
    if (this.tsvFd === undefined) this.openDay(batch.day);
    const out = this.out;
    const malformed = DEFECT.malformed_json;
    for (let i = 0; i < batch.size; i++) {
      if (batch.defect[i] === malformed) {
        this.omitted++;
        continue;
      }
      this.encoder.encode(batch, i, out);
      this.rows++;
      if (out.pos > FLUSH_AT) this.flush();
    }
    return undefined;
  }

  private flush(): void {
    let done = 0;
    while (done < this.out.pos) done += fs.writeSync(this.tsvFd!, this.out.buf, done, this.out.pos - done);
    this.out.pos = 0;
  }

  /**
   * Hand the day to DuckDB. Returns once the previous day's Parquet file is complete (so at
   * most one conversion is in flight and temporary files do not pile up).
   */
  async finishDay(day: string): Promise<DayFile> {
    if (this.tsvFd === undefined) this.openDay(day);
    this.flush();
    fs.closeSync(this.tsvFd!);
    this.tsvFd = undefined;
    const result: DayFile = { day, file: DuckdbParquetWriter.fileName(day), lines: this.rows, omitted: this.omitted };
    await this.pending;
    const file = result.file;
    const tsv = this.tsvPath;
    const tmpOut = path.join(this.outDir, `.${file}.tmp`);
    if (this.selectList === undefined) throw new Error('ParquetWriter.finishDay before any write');
    const sql = `COPY (SELECT ${this.selectList} FROM read_csv(${sqlString(tsv)}, ${CSV_OPTIONS}))
      TO ${sqlString(tmpOut)} (FORMAT parquet, COMPRESSION snappy)`;
    const run = async () => {
      await this.connection.run(sql);
      fs.renameSync(tmpOut, path.join(this.outDir, file));
      fs.rmSync(tsv, { force: true });
    };
    this.pending = run();
    // Surfaced by the next `await this.pending`; without this it would be an unhandled rejection meanwhile.
    this.pending.catch(() => undefined);
    return result;
  }

  /** Wait for the last conversion and release DuckDB. */
  async close(): Promise<void> {
    try {
      await this.pending;
    } finally {
      this.release();
    }
  }

  /** Stop after an error: wait for DuckDB to finish, drop temporary files. */
  async abort(): Promise<void> {
    this.out.pos = 0;
    if (this.tsvFd !== undefined) fs.closeSync(this.tsvFd);
    this.tsvFd = undefined;
    await this.pending.catch(() => undefined);
    this.release();
  }

  private release(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private openDay(day: string): void {
    this.tsvPath = path.join(this.tmpDir, `${day}.tsv`);
    this.tsvFd = fs.openSync(this.tsvPath, 'w');
    this.rows = 0;
    this.omitted = 0;
  }
}

const FLUSH_AT = 1 << 22;

const CSV_OPTIONS = `delim='\\t', quote='', escape='', header=false, auto_detect=false, columns={
  'eventId': 'VARCHAR', 'eventName': 'UTINYINT', 'ts': 'BIGINT', 'gameId': 'USMALLINT', 'userId': 'VARCHAR',
  'sessionId': 'VARCHAR', 'serverId': 'UTINYINT', 'platform': 'UTINYINT', 'countryCode': 'UTINYINT',
  'appVersion': 'UTINYINT', 'levelFunnel': 'UTINYINT', 'levelFunnelVersion': 'UTINYINT', 'properties': 'VARCHAR'}`;

/** `['a', 'b'][code]`: DuckDB lists are 1-based and [0] is NULL, matching code 0 = absent. */
function decode(values: readonly (string | null)[], column: string): string {
  return `[${values.slice(1).map((v) => sqlString(v ?? '')).join(', ')}][${column}]`;
}

function selectList(dict: Dictionaries): string {
  return [
    'eventId',
    `${decode(dict.eventName, 'eventName')} AS eventName`,
    `epoch_ms(ts)::TIMESTAMPTZ AS "timestamp"`,
    `${decode(dict.gameId, 'gameId')} AS gameId`,
    'userId',
    'sessionId',
    `${decode(dict.serverId, 'serverId')} AS serverId`,
    `${decode(dict.platform, 'platform')} AS platform`,
    `${decode(dict.countryCode, 'countryCode')} AS countryCode`,
    `${decode(dict.appVersion, 'appVersion')} AS appVersion`,
    `${decode(dict.levelFunnel, 'levelFunnel')} AS levelFunnel`,
    'CAST(NULLIF(levelFunnelVersion, 0) AS INTEGER) AS levelFunnelVersion',
    'properties',
  ].join(',\n    ');
}
