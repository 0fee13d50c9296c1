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

/** An in-memory DuckDB database spilling to `{tmpDir}/duckdb` beyond its memory limit. */
export async function createDuckInstance(tmpDir: string, options: DuckOptions = {}): Promise<DuckDBInstance> {
  const spill = path.join(tmpDir, 'duckdb');
  fs.mkdirSync(spill, { recursive: true });
  const config: Record<string, string> = { temp_directory: spill };
  if (options.threads) config.threads = String(options.threads);
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  return DuckDBInstance.create(':memory:', config);
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

  static async open(tmpDir: string, options: DuckOptions = {}): Promise<DuckEngine> {
    const instance = await createDuckInstance(tmpDir, options);
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    return new DuckEngine(instance, connection);
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

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL identifier, always quoted. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
