import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { PgAdapter, PgResult, PgSession } from './adapter.js';
import { sqlQualifiedIdent } from '../sql/quote.js';

/** A PostgreSQL server reached with `pg`; bulk loads stream through COPY … FROM STDIN. */
export class PostgresServerAdapter implements PgAdapter {
  readonly kind = 'server' as const;
  private readonly pool: pg.Pool;

  constructor(
    readonly connectionName: string,
    private readonly url: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 4 });
    // Sessions run in UTC so timestamps cross between DuckDB and PostgreSQL unchanged
    // (set per connection, so `?options=…` in the URL keeps working).
    this.pool.on('connect', (client) => {
      client.query("SET TIME ZONE 'UTC'").catch(() => undefined);
    });
    this.pool.on('error', () => {
      // An idle client died (server restart); the pool replaces it on next use.
    });
  }

  private session(client: pg.PoolClient): PgSession {
    return {
      async query<Row>(sql: string, params?: unknown[]): Promise<PgResult<Row>> {
        const res = await client.query(sql, params);
        return {
          rows: res.rows as Row[],
          fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
          rowCount: res.rowCount ?? 0,
        };
      },
      async copyInCsv(table, columns, csvFile) {
        const cols = columns.map(sqlQualifiedIdent).join(', ');
        const stream = client.query(copyStreams.from(`COPY ${sqlQualifiedIdent(table)} (${cols}) FROM STDIN WITH (FORMAT csv)`));
        await pipeline(fs.createReadStream(csvFile, { highWaterMark: 1 << 20 }), stream);
        return Number(stream.rowCount ?? 0);
      },
      async copyOutCsv(sql, csvFile) {
        const stream = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT WITH (FORMAT csv)`));
        await pipeline(stream, new Transform({ transform: (chunk, _enc, cb) => cb(null, chunk) }), fs.createWriteStream(csvFile));
        return Number(stream.rowCount ?? 0);
      },
    };
  }

  async withSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await fn(this.session(client));
    } finally {
      client.release();
    }
  }

  async transaction<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(this.session(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; don't return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // A dedicated connection (not from the pool) holds the session lock for as long as fn runs,
    // so long jobs never starve the pool; if this process dies, the server releases the lock.
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
