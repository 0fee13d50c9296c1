import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logger } from '../core/logger.js';
import type { GamepipePaths } from '../core/paths.js';
import { DuckEngine } from '../engine/duckdb.js';
import { newIngestionId, publishIngestion, writeLinesSql } from '../ingest/ingest.js';
import { writeInstallsSql } from '../ingest/installs.js';
import { IngestionLedger, type IngestionRecord } from '../ingest/ledger.js';
import { eventIdOf, eventNameOf, type CollectedBatch, type EventSink } from './batch.js';
import { sqlString } from '../sql/quote.js';
import { DAY_MS, formatDay } from '../core/dates.js';

/**
 * The collector's bronze sink: one group commit (the requests that arrived together) becomes one
 * ingestion in the same ledger as `gamepipe ingest` — the same bronze and quarantine columns, the
 * same `part-<ingestion>-N.parquet` files, published by the same function, visible only once the
 * ledger record exists. Files, folders and the record are fsynced before write() resolves, so an
 * acknowledged batch survives a crash (kill -9, power loss); an unacknowledged one either never
 * became visible (its files are removed by the next recover()) or is a complete ingestion whose
 * retried copy silver drops as a duplicate eventId.
 *
 * The rows are classified in JS (the requests were parsed anyway, and mapping / game checks need
 * JS); DuckDB only turns their NDJSON into partitioned Parquet. An event goes to the UTC day of
 * its timestamp, or — like ingest — the ingestion day when it is dated more than a day ahead.
 */


const ROW_COLUMNS = {
  line_number: 'BIGINT',
  source: 'VARCHAR',
  event_ts: 'VARCHAR',
  event_id: 'VARCHAR',
  event_name: 'VARCHAR',
  raw: 'VARCHAR',
  raw_base64: 'VARCHAR',
  reason: 'VARCHAR',
  target: 'VARCHAR',
  ds: 'VARCHAR',
} as const;

interface Row {
  line_number: number;
  source: string;
  event_ts: string | null;
  event_id: string | null;
  event_name: string | null;
  raw: string | null;
  raw_base64: string | null;
  reason: string | null;
  target: 'bronze' | 'quarantine';
  ds: string;
}

export class BronzeSink implements EventSink {
  readonly kind = 'bronze' as const;

  private constructor(
    private readonly engine: DuckEngine,
    private readonly ledger: IngestionLedger,
  ) {}

  static async open(paths: GamepipePaths): Promise<BronzeSink> {
    const ledger = new IngestionLedger(paths.lake);
    const recovered = ledger.recover();
    if (recovered.length) logger.warn({ ingestions: recovered }, 'removed the files of unfinished ingestions');
    const engine = await DuckEngine.open(paths.tmp, { threads: 1, memoryLimit: '256MB' });
    return new BronzeSink(engine, ledger);
  }

  async write(batches: readonly CollectedBatch[]): Promise<void> {
    const at = new Date();
    const ingestedAt = at.toISOString();
    const fileDay = ingestedAt.slice(0, 10);
    const ingestionId = newIngestionId(at);
    const rows: Row[] = [];
    const partitions: Record<string, number> = {};
    const quarantinedByReason: Record<string, number> = {};
    for (const batch of batches) {
      for (const item of batch.items) {
        const line = rows.length + 1;
        if (item.kind === 'event') {
          const ds = item.eventTs <= at.getTime() + DAY_MS ? formatDay(item.eventTs) : fileDay;
          partitions[ds] = (partitions[ds] ?? 0) + 1;
          rows.push({
            line_number: line,
            source: batch.source,
            event_ts: new Date(item.eventTs).toISOString(),
            event_id: eventIdOf(item),
            event_name: eventNameOf(item),
            raw: item.text,
            raw_base64: null,
            reason: null,
            target: 'bronze',
            ds,
          });
        } else {
          quarantinedByReason[item.reason] = (quarantinedByReason[item.reason] ?? 0) + 1;
          rows.push({
            line_number: line,
            source: batch.source,
            event_ts: null,
            event_id: null,
            event_name: null,
            raw: item.text,
            raw_base64: null,
            reason: item.reason,
            target: 'quarantine',
            ds: fileDay,
          });
        }
      }
    }
    if (rows.length === 0) return;
    const staging = this.ledger.stagingDir(ingestionId);
    const file = `collector:${ingestionId}`;
    const text = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const contentHash = createHash('sha256').update(ingestionId).update(text).digest('hex');
    // The lock names this process: if it dies mid-publish, the next recover() removes the files.
    const release = this.ledger.claim(contentHash, ingestionId, file);
    let committed = false;
    try {
      fs.mkdirSync(staging, { recursive: true });
      const rowsFile = path.join(staging, 'rows.ndjson');
      fs.writeFileSync(rowsFile, text);
      const columns = Object.entries(ROW_COLUMNS)
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(', ');
      const select = `SELECT ${sqlString(ingestionId)} AS ingestion_id, source, ${sqlString(file)} AS file, line_number,
          TIMESTAMPTZ ${sqlString(ingestedAt)} AS ingested_at, DATE ${sqlString(fileDay)} AS file_day,
          CAST(event_ts AS TIMESTAMPTZ) AS event_ts, event_id, event_name, raw, raw_base64, reason, target, CAST(ds AS DATE) AS ds
        FROM read_json(${sqlString(rowsFile)}, format = 'newline_delimited', columns = {${columns}}, maximum_object_size = 67108864)`;
      const written = path.join(staging, 'lines');
      await this.engine.run(writeLinesSql(select, written, ingestionId));
      const quarantined = rows.length - Object.values(partitions).reduce((a, b) => a + b, 0);
      // The install index of this ingestion (src/ingest/installs.ts), as file ingestion writes it.
      const installs = rows.length > quarantined ? path.join(staging, 'installs.parquet') : undefined;
      if (installs) await this.engine.run(writeInstallsSql(path.join(written, 'target=bronze', '*', '*.parquet'), ingestionId, installs));
      const record: IngestionRecord = {
        ingestion_id: ingestionId,
        content_hash: contentHash,
        source: batches.length === 1 ? batches[0]!.source : 'http',
        file,
        file_day: fileDay,
        bytes: Buffer.byteLength(text),
        lines: rows.length,
        events: rows.length - quarantined,
        blank_lines: 0,
        quarantined,
        quarantined_by_reason: quarantinedByReason,
        partitions,
        framing: 'js',
        ingested_at: ingestedAt,
        committed_at: new Date().toISOString(),
      };
      publishIngestion(this.ledger, written, record, { installs, durable: true });
      committed = true;
    } finally {
      if (!committed) this.ledger.removeIngestionFiles(ingestionId);
      fs.rmSync(staging, { recursive: true, force: true });
      release();
    }
  }

  async close(): Promise<void> {
    this.engine.close();
  }
}
