import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { resolvePaths, type GamepipePaths } from '../../src/core/paths.js';
import { ConnectionRegistry } from '../../src/connections/registry.js';
import { compileLayout } from '../../src/engine/compile.js';
import { runJob, type JobResult } from '../../src/engine/runJob.js';
import { loadLayout } from '../../src/layout/load.js';
import type { Vars } from '../../src/layout/vars.js';
import { withSearchPath } from '../../src/connections/url.js';
import { sqlString } from '../../src/sql/quote.js';

/**
 * A throwaway gamepipe home for one test file. PostgreSQL connections are the embedded
 * PGlite by default; when GAMEPIPE_TEST_DATABASE_URL is set (CI), every connection name
 * points at that server, inside a schema of its own so test files never see each other.
 */
export interface Workspace {
  dir: string;
  paths: GamepipePaths;
  env: NodeJS.ProcessEnv;
  connections: ConnectionRegistry;
  /** Writes a layout (object or text) and returns its path. */
  layout(name: string, body: unknown): string;
  run(file: string, vars?: Vars, options?: { load?: 'incremental' | 'full' }): Promise<JobResult>;
  /** Rows of a query on a named connection. */
  query<Row = Record<string, unknown>>(sql: string, connection?: string): Promise<Row[]>;
  close(): Promise<void>;
}

export const serverUrl = process.env.GAMEPIPE_TEST_DATABASE_URL;
export const backend = serverUrl ? 'postgres server' : 'embedded PGlite';

export async function createWorkspace(connectionNames: string[] = ['WAREHOUSE', 'OPS']): Promise<Workspace> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-test-'));
  const env: NodeJS.ProcessEnv = { GAMEPIPE_HOME: path.join(dir, 'home'), GAMEPIPE_CONFIG: '' };
  let schema: string | undefined;
  if (serverUrl) {
    schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    for (const name of connectionNames) env[`GAMEPIPE_CONN_${name}`] = withSearchPath(serverUrl, schema);
  } else {
    for (const name of connectionNames) env[`GAMEPIPE_CONN_${name}`] = 'embedded';
  }
  delete env.GAMEPIPE_CONFIG;
  const paths = resolvePaths(env);
  const connections = new ConnectionRegistry(paths, env, { connections: {} });
  return {
    dir,
    paths,
    env,
    connections,
    layout(name, body) {
      const file = path.join(dir, 'layouts', name.endsWith('.json') ? name : `${name}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
      return file;
    },
    async run(file, vars = {}, options = {}) {
      return runJob(compileLayout(loadLayout(file), vars, paths), { paths, connections, ...options });
    },
    async query(sql, connection = 'WAREHOUSE') {
      return connections.get(connection).withSession(async (s) => (await s.query(sql)).rows) as never;
    },
    async close() {
      await connections.closeAll();
      if (serverUrl && schema) {
        const client = new pg.Client({ connectionString: serverUrl });
        await client.connect();
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
        await client.end();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes text files (creating folders) under a root. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

/** All rows of Parquet/other files under a folder, read with DuckDB, as sorted JSON lines. */
export async function readParquetRows(dir: string, orderBy: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT * FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true) ORDER BY ${orderBy}`,
    );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
