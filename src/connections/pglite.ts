import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { PgAdapter, PgResult, PgSession } from './adapter.js';
import { sqlQualifiedIdent } from '../sql/quote.js';

/**
 * The embedded PostgreSQL (PGlite, PostgreSQL compiled to WASM) under $GAMEPIPE_HOME.
 * It has a single connection, so sessions are serialized here; bulk loads use PGlite's
 * `COPY … FROM '/dev/blob'` with a file-backed Blob (COPY FROM STDIN is not available).
 */
export class PgliteAdapter implements PgAdapter {
  readonly kind = 'embedded' as const;
  private readonly db: PGlite;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly connectionName: string,
    dataDir: string | undefined,
  ) {
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
    this.db = new PGlite(dataDir);
  }

  private readonly session: PgSession = {
    query: async <Row>(sql: string, params?: unknown[]): Promise<PgResult<Row>> => {
      const res = await this.db.query<Row>(sql, params);
      return { rows: res.rows, fields: res.fields, rowCount: res.affectedRows ?? res.rows.length };
    },
    copyInCsv: async (table, columns, csvFile) => {
      const cols = columns.map(sqlQualifiedIdent).join(', ');
      const blob = await fs.openAsBlob(csvFile);
      const res = await this.db.query(`COPY ${sqlQualifiedIdent(table)} (${cols}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
      return res.affectedRows ?? 0;
    },
    copyOutCsv: async (sql, csvFile) => {
      const res = await this.db.query(`COPY (${sql}) TO '/dev/blob' WITH (FORMAT csv)`);
      const blob = res.blob ?? new Blob([]);
      await fs.promises.writeFile(csvFile, Buffer.from(await blob.arrayBuffer()));
      return res.affectedRows ?? 0;
    },
  };

  /** One caller at a time on the single connection. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.db.waitReady;
      await this.db.exec("SET TIME ZONE 'UTC'");
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  withSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(this.session));
  }

  transaction<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.db.exec('BEGIN');
      try {
        const result = await fn(this.session);
        await this.db.exec('COMMIT');
        return result;
      } catch (err) {
        await this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  private readonly locks = new Map<string, Promise<unknown>>();

  /** PGlite lives in this process only, so an in-process lock per key is the whole story. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (!this.db.closed) await this.db.close();
  }
}
