import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Json } from '@duckdb/node-api';

export interface DuckOptions {
  /** Worker threads (default: all cores). */
  threads?: number;
  /** e.g. '2000MB' (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
}

/**
 * An in-memory DuckDB database spilling to `{tmpDir}/duckdb` beyond its memory limit (no
 * spill folder without `tmpDir`). Every DuckDB database gamepipe opens is made here.
 */
export async function createDuckInstance(tmpDir: string | undefined, options: DuckOptions = {}): Promise<DuckDBInstance> {
  const config: Record<string, string> = {};
  if (tmpDir !== undefined) {
    const spill = path.join(tmpDir, 'duckdb');
    fs.mkdirSync(spill, { recursive: true });
    config.temp_directory = spill;
  }
  if (options.threads) config.threads = String(options.threads);
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  return DuckDBInstance.create(':memory:', config);
}

/** A connection whose session runs in UTC (timestamps and `ds` days are UTC everywhere). */
export async function connectUtc(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}

/**
 * One in-process DuckDB database per job run. In-memory, spilling to
 * $GAMEPIPE_HOME/tmp/duckdb when a transform outgrows RAM; sessions run in UTC.
 */
export class DuckEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(tmpDir: string | undefined, options: DuckOptions = {}): Promise<DuckEngine> {
    const instance = await createDuckInstance(tmpDir, options);
    return new DuckEngine(instance, await connectUtc(instance));
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Rows as JSON-safe objects (BIGINT as number when safe, else string). */
  async rows<Row = Record<string, Json>>(sql: string): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Row[];
  }

  async scalar<T = Json>(sql: string): Promise<T> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowsJson()[0]?.[0] as T;
  }

  /** Column names and DuckDB types of a table or view. */
  async describe(relation: string): Promise<Array<{ name: string; type: string }>> {
    const rows = await this.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

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
      return connectUtc(this.instance);
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
