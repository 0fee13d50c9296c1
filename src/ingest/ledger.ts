import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { writeFileStaged } from '../lake/publish.js';
import { INGESTIONS_DIR, INSTALLS_TABLE, STAGING_DIR, eventsDir, tableDir } from '../lake/zones.js';

/**
 * The ingestion ledger, `{lake}/_ingestions/`: one small JSON file per ingested content, named
 * by its SHA-256, written when the ingestion commits. It makes ingestion idempotent and atomic:
 *
 * - Re-ingesting content whose hash has a record is skipped (whatever the file is called).
 * - Bronze and quarantine files of an ingestion are moved into the lake one by one, then the
 *   record is written (atomically, by rename). Silver and the quality report read only rows whose
 *   `ingestion_id` has a record, so a crash between the moves leaves nothing visible; the next
 *   ingest removes the orphans (recover()).
 * - While a content is being ingested, a hidden lock file `.lock-<hash>` holds the process id;
 *   a second process ingesting the same content is refused, and a lock whose process is gone is
 *   taken over after cleaning up what that process left.
 *
 * Lines of the same ledger are kept one JSON object per file (NDJSON of one line), so DuckDB
 * reads the whole ledger as a table.
 */
export interface IngestionRecord {
  ingestion_id: string;
  content_hash: string;
  source: string;
  /** Absolute path of the file as ingested. */
  file: string;
  file_day: string;
  bytes: number;
  lines: number;
  events: number;
  blank_lines: number;
  quarantined: number;
  quarantined_by_reason: Record<string, number>;
  /** Bronze partitions written: ds → events. */
  partitions: Record<string, number>;
  /** How lines were read: DuckDB directly, or framed in JS first (carriage returns, invalid UTF-8…). */
  framing: 'duckdb' | 'js';
  ingested_at: string;
  committed_at: string;
}

interface LockInfo {
  pid: number;
  host: string;
  ingestion_id: string;
  started_at: string;
}


function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class IngestionLedger {
  readonly dir: string;

  constructor(readonly lake: string) {
    this.dir = path.join(lake, INGESTIONS_DIR);
  }

  private recordPath(hash: string): string {
    return path.join(this.dir, `${hash}.json`);
  }

  private lockPath(hash: string): string {
    return path.join(this.dir, `.lock-${hash}`);
  }

  /** Staging folder of one ingestion (same filesystem as the lake, so moves are renames). */
  stagingDir(ingestionId: string): string {
    return path.join(this.lake, STAGING_DIR, `ingest-${ingestionId}`);
  }

  committed(hash: string): IngestionRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.recordPath(hash), 'utf8')) as IngestionRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new GamepipeError(`unreadable ingestion ledger record: ${(err as Error).message}`, {
        file: this.recordPath(hash),
        expected: 'one JSON object written by gamepipe ingest',
      });
    }
  }

  /** Every committed record (for listings and tests). */
  all(): IngestionRecord[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as IngestionRecord)
      .sort((a, b) => a.ingested_at.localeCompare(b.ingested_at) || a.file.localeCompare(b.file));
  }

  /**
   * Takes the lock for a content hash. A lock held by a live process is an error naming it; one
   * left by a dead process is taken over after removing what that process left behind.
   */
  claim(hash: string, ingestionId: string, file: string): () => void {
    fs.mkdirSync(this.dir, { recursive: true });
    const lock = this.lockPath(hash);
    const info: LockInfo = { pid: process.pid, host: os.hostname(), ingestion_id: ingestionId, started_at: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(lock, JSON.stringify(info), { flag: 'wx' });
        return () => fs.rmSync(lock, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = this.readLock(lock);
      if (holder && (holder.host !== os.hostname() || alive(holder.pid))) {
        throw new GamepipeError(`this content is being ingested right now (process ${holder.pid} on ${holder.host}, since ${holder.started_at})`, {
          file,
          expected: `the other ingestion to finish; if no such process exists, remove ${lock}`,
        });
      }
      this.takeOver(hash, lock);
    }
    throw new GamepipeError('could not take the ingestion lock', { file, detail: lock });
  }

  private readLock(lock: string): LockInfo | undefined {
    try {
      return JSON.parse(fs.readFileSync(lock, 'utf8')) as LockInfo;
    } catch {
      return undefined; // vanished meanwhile, or half-written by a crashed process: stale either way
    }
  }

  /** Removes a stale lock (one process wins the rename) and the files of its unfinished ingestion. */
  private takeOver(hash: string, lock: string): void {
    const claimed = `${lock}.stale-${process.pid}`;
    try {
      fs.renameSync(lock, claimed);
    } catch {
      return; // someone else took it over first
    }
    const holder = this.readLock(claimed);
    // A record means the ingestion committed and only the lock removal was lost: keep its files.
    if (holder && !this.committed(hash)) this.removeIngestionFiles(holder.ingestion_id);
    fs.rmSync(claimed, { force: true });
    logger.warn({ hash, ingestion: holder?.ingestion_id }, 'took over a stale ingestion lock');
  }

  /** Deletes bronze/quarantine files, the install index file and staging of an ingestion that never committed. */
  removeIngestionFiles(ingestionId: string): number {
    let removed = 0;
    const prefix = `part-${ingestionId}-`;
    const installs = tableDir(this.lake, 'bronze', INSTALLS_TABLE);
    if (fs.existsSync(installs)) {
      for (const name of fs.readdirSync(installs)) {
        if (name.startsWith(prefix)) {
          fs.rmSync(path.join(installs, name), { force: true });
          removed++;
        }
      }
    }
    for (const zone of ['bronze', 'quarantine'] as const) {
      const root = eventsDir(this.lake, zone);
      if (!fs.existsSync(root)) continue;
      for (const partition of fs.readdirSync(root, { withFileTypes: true })) {
        if (!partition.isDirectory()) continue;
        const dir = path.join(root, partition.name);
        for (const name of fs.readdirSync(dir)) {
          if (name.startsWith(prefix)) {
            fs.rmSync(path.join(dir, name), { force: true });
            removed++;
          }
        }
      }
    }
    fs.rmSync(this.stagingDir(ingestionId), { recursive: true, force: true });
    return removed;
  }

  /** Cleans up after every crashed ingestion (stale locks). Returns their ingestion ids. */
  recover(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    const recovered: string[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = /^\.lock-([0-9a-f]{64})$/.exec(name);
      if (!m) continue;
      const lock = path.join(this.dir, name);
      const holder = this.readLock(lock);
      if (holder && (holder.host !== os.hostname() || alive(holder.pid))) continue;
      this.takeOver(m[1]!, lock);
      if (holder) recovered.push(holder.ingestion_id);
    }
    return recovered;
  }

  /** Makes an ingestion visible: its record appears whole, by rename (fsynced with its folder when durable). */
  commit(record: IngestionRecord, durable = false): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileStaged(this.recordPath(record.content_hash), JSON.stringify(record) + '\n', { durable });
  }
}
