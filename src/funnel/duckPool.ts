import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { createDuckInstance, type DuckOptions } from '../engine/duckdb.js';

/**
 * A long-lived in-process DuckDB database for the query service, with a few connections reused
 * across requests: a request never pays DuckDB's start-up, and loaded indexes stay in memory.
 * Connections share the database (tables created on one are visible on the others).
 */
export class DuckPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiting: ((c: DuckDBConnection) => void)[] = [];
  private created = 0;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly size: number,
  ) {}

  static async open(tmpDir: string, options: DuckOptions & { connections?: number } = {}): Promise<DuckPool> {
    const instance = await createDuckInstance(tmpDir, options);
    return new DuckPool(instance, Math.max(1, options.connections ?? 4));
  }

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('DuckPool is closed');
    const free = this.idle.pop();
    if (free) return free;
    if (this.created < this.size) {
      this.created++;
      const connection = await this.instance.connect();
      await connection.run("SET TimeZone = 'UTC'");
      return connection;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(connection: DuckDBConnection): void {
    const next = this.waiting.shift();
    if (next) next(connection);
    else if (this.closed) connection.closeSync();
    else this.idle.push(connection);
  }

  /** Runs `fn` with a connection of its own. */
  async with<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    try {
      return await fn(connection);
    } finally {
      this.release(connection);
    }
  }

  /** Rows as JSON-safe objects (BIGINT as number when safe, else string). */
  rows<Row = Record<string, unknown>>(sql: string): Promise<Row[]> {
    return this.with(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJson() as Row[]);
  }

  run(sql: string): Promise<void> {
    return this.with(async (c) => {
      await c.run(sql);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.idle.splice(0)) c.closeSync();
    this.instance.closeSync();
  }
}
