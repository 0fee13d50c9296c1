import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GamepipeError, type ErrorContext } from '../../core/errors.js';
import type { PgAdapter } from '../../connections/adapter.js';
import { type DuckEngine } from '../duckdb.js';
import { sqlError } from '../sqlErrors.js';
import { duckTypeForPgOid } from '../typeMapping.js';
import { sqlIdent, sqlString } from '../../sql/quote.js';

/**
 * Loads a PostgreSQL query into a DuckDB table in bulk: the result streams out with
 * COPY … TO as CSV into a scratch file, and DuckDB's CSV reader loads it with the column
 * types PostgreSQL reported (no sniffing, no row-by-row inserts).
 */
export async function loadJdbcSource(
  engine: DuckEngine,
  adapter: PgAdapter,
  name: string,
  query: string,
  tmpDir: string,
  context: ErrorContext,
  /** For an optional source: the columns of the empty table used while the queried table does not exist. */
  whenTableMissing?: Record<string, string>,
  /** The source table the query reads, named when one of its columns is missing. */
  sourceTable?: string,
): Promise<{ rows: number }> {
  fs.mkdirSync(tmpDir, { recursive: true });
  const csv = path.join(tmpDir, `source-${name}-${randomUUID()}.csv`);
  try {
    const { fields, rows } = (await adapter.withSession(async (session) => {
      let probe;
      try {
        probe = await session.query(`SELECT * FROM (${query}) AS gamepipe_source LIMIT 0`);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (whenTableMissing && code === '42P01') return null; // undefined_table
        if (sourceTable && code === '42703') throw missingColumn(err, sourceTable, name, adapter.connectionName, context); // undefined_column
        throw sqlError(err, query, `query of source "${name}" on connection ${adapter.connectionName}`, context);
      }
      const copied = await session.copyOutCsv(query, csv);
      return { fields: probe.fields, rows: copied };
    })) ?? { fields: null, rows: 0 };
    if (fields === null) {
      const cols = Object.entries(whenTableMissing!).map(([c, t]) => `CAST(NULL AS ${t}) AS ${sqlIdent(c)}`);
      await engine.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS SELECT ${cols.join(', ')} WHERE false`);
      return { rows: 0 };
    }
    const columns = fields.map((f) => `${sqlString(f.name)}: ${sqlString(duckTypeForPgOid(f.dataTypeID))}`).join(', ');
    const read = fs.statSync(csv).size === 0
      ? `SELECT ${fields.map((f) => `CAST(NULL AS ${duckTypeForPgOid(f.dataTypeID)}) AS ${sqlIdent(f.name)}`).join(', ')} WHERE false`
      : `SELECT * FROM read_csv(${sqlString(csv)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
        `allow_quoted_nulls = false, columns = {${columns}})`;
    await engine.run(`CREATE OR REPLACE TABLE ${sqlIdent(name)} AS ${read}`);
    return { rows };
  } finally {
    fs.rmSync(csv, { force: true });
  }
}

/** `column "email" does not exist` → which table of which connection lacks it. */
function missingColumn(err: unknown, table: string, source: string, connection: string, context: ErrorContext): GamepipeError {
  const message = err instanceof Error ? err.message : String(err);
  const column = /column "?([^"\s]+)"? does not exist/.exec(message)?.[1]?.split('.').pop() ?? '?';
  return new GamepipeError(`source "${source}": table ${table} on connection ${connection} has no column ${column}`, {
    ...context,
    expected: `table ${table} to have column ${column} (the source contract in the pipeline's docs)`,
    detail: message,
  }, { cause: err });
}
