import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GamepipeError, type ErrorContext } from '../../core/errors.js';
import { type PgAdapter, type PgSession } from '../../connections/adapter.js';
import type { JdbcOutput } from '../../layout/schema.js';
import { type DuckEngine } from '../duckdb.js';
import { sqlError } from '../sqlErrors.js';
import { csvExportExpression, pgTypeForDuckType } from '../typeMapping.js';
import { sqlIdent, sqlQualifiedIdent, sqlString } from '../../sql/quote.js';

/**
 * Publishes the job's result to a PostgreSQL table atomically. DuckDB exports the rows as
 * CSV; in ONE transaction the rows are COPYed into a temporary staging table and merged
 * (delete+insert of one partition, upsert by key, full replace, or append). A failure at
 * any step rolls everything back, so readers keep seeing the previous rows, and a re-run
 * produces exactly the same rows. Writers of the same table are serialized with a
 * transaction-scoped advisory lock, so two runs of one job cannot interleave their deletes.
 */
export interface JdbcWriteResult {
  rowsWritten: number;
  rowsDeleted: number;
  created: boolean;
}

interface Column {
  name: string;
  type: string;
}

const SAMPLE = 5;

async function sampleRows(engine: DuckEngine, sql: string): Promise<string> {
  const rows = await engine.rows(`${sql} LIMIT ${SAMPLE}`);
  return rows.map((r) => '  ' + JSON.stringify(r)).join('\n');
}

/** Checks the result against the write mode before anything reaches PostgreSQL. */
async function checkResult(engine: DuckEngine, relation: string, columns: Column[], output: JdbcOutput, context: ErrorContext): Promise<void> {
  const names = new Set(columns.map((c) => c.name));
  if (output.mode === 'deleteInsert') {
    for (const [col, value] of Object.entries(output.partition ?? {})) {
      if (!names.has(col)) continue; // added as a constant by the caller
      const where = `CAST(${sqlIdent(col)} AS VARCHAR) IS DISTINCT FROM ${sqlString(value)}`;
      const bad = Number(await engine.scalar(`SELECT count(*) FROM ${sqlIdent(relation)} WHERE ${where}`));
      if (bad > 0) {
        throw new GamepipeError(`${bad} result rows fall outside the partition being replaced (${col} = ${value})`, {
          ...context,
          jsonPath: '$.output.partition',
          expected: `every row to have ${col} = ${value}, since deleteInsert replaces only that partition`,
          detail: `sample rows:\n${await sampleRows(engine, `SELECT * FROM ${sqlIdent(relation)} WHERE ${where}`)}`,
        });
      }
    }
  }
  if (output.mode === 'upsert') {
    const keys = output.keys ?? [];
    const missing = keys.filter((k) => !names.has(k));
    if (missing.length) {
      throw new GamepipeError(`upsert key column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the result`, {
        ...context,
        jsonPath: '$.output.keys',
        expected: `key columns among the result's columns: ${[...names].join(', ')}`,
      });
    }
    const keyList = keys.map(sqlIdent).join(', ');
    const dupSql = `SELECT ${keyList}, count(*) AS copies FROM ${sqlIdent(relation)} GROUP BY ALL HAVING count(*) > 1`;
    const dups = Number(await engine.scalar(`SELECT count(*) FROM (${dupSql})`));
    if (dups > 0) {
      throw new GamepipeError(`${dups} upsert keys appear more than once in the result`, {
        ...context,
        jsonPath: '$.output.keys',
        expected: `one row per (${keys.join(', ')})`,
        detail: `sample keys:\n${await sampleRows(engine, dupSql)}`,
      });
    }
  }
}

async function tableColumns(session: PgSession, table: string): Promise<Map<string, string> | null> {
  const exists = await session.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [sqlQualifiedIdent(table)]);
  if (!exists.rows[0]?.oid) return null;
  const res = await session.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [sqlQualifiedIdent(table)],
  );
  return new Map(res.rows.map((r) => [r.name, r.type]));
}

function baseName(table: string): string {
  return table.split('.').pop()!;
}

export function createTableSql(table: string, columns: Column[]): string {
  const cols = columns.map((c) => `  ${sqlQualifiedIdent(c.name)} ${pgTypeForDuckType(c.type)}`).join(',\n');
  return `CREATE TABLE ${sqlQualifiedIdent(table)} (\n${cols}\n)`;
}

function indexSql(table: string, output: JdbcOutput): string | null {
  if (output.mode === 'deleteInsert' && output.partition) {
    const cols = Object.keys(output.partition).map(sqlQualifiedIdent).join(', ');
    return `CREATE INDEX ${sqlQualifiedIdent(`${baseName(table)}_partition_idx`)} ON ${sqlQualifiedIdent(table)} (${cols})`;
  }
  if (output.mode === 'upsert' && output.keys) {
    const cols = output.keys.map(sqlQualifiedIdent).join(', ');
    return `CREATE UNIQUE INDEX ${sqlQualifiedIdent(`${baseName(table)}_key_idx`)} ON ${sqlQualifiedIdent(table)} (${cols})`;
  }
  return null;
}

/** The statements the merge runs, in order (also what --dry-run prints). */
export function mergeStatements(output: JdbcOutput, stage: string, columns: string[]): { sql: string; params: unknown[] }[] {
  const target = sqlQualifiedIdent(output.table);
  const cols = columns.map(sqlQualifiedIdent).join(', ');
  const statements: { sql: string; params: unknown[] }[] = [];
  switch (output.mode) {
    case 'overwrite':
      statements.push({ sql: `DELETE FROM ${target}`, params: [] });
      break;
    case 'deleteInsert': {
      const entries = Object.entries(output.partition ?? {});
      const where = entries.map(([c], i) => `${sqlQualifiedIdent(c)} = $${i + 1}`).join(' AND ');
      statements.push({ sql: `DELETE FROM ${target} WHERE ${where}`, params: entries.map(([, v]) => v) });
      break;
    }
    case 'upsert': {
      const match = (output.keys ?? []).map((k) => `t.${sqlQualifiedIdent(k)} IS NOT DISTINCT FROM s.${sqlQualifiedIdent(k)}`).join(' AND ');
      statements.push({ sql: `DELETE FROM ${target} AS t USING ${sqlQualifiedIdent(stage)} AS s WHERE ${match}`, params: [] });
      break;
    }
    case 'append':
      break;
  }
  statements.push({ sql: `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${sqlQualifiedIdent(stage)}`, params: [] });
  return statements;
}

export async function writeJdbcOutput(
  engine: DuckEngine,
  relation: string,
  adapter: PgAdapter,
  output: JdbcOutput,
  tmpDir: string,
  context: ErrorContext,
): Promise<JdbcWriteResult> {
  // deleteInsert: a partition column the result lacks is added as the partition's constant.
  let writeRelation = relation;
  const resultColumns = await engine.describe(sqlIdent(relation));
  const present = new Set(resultColumns.map((c) => c.name));
  const constants = Object.entries(output.mode === 'deleteInsert' ? output.partition ?? {} : {}).filter(([c]) => !present.has(c));
  if (constants.length) {
    writeRelation = '__gamepipe_write';
    const extra = constants.map(([c, v]) => `${sqlString(v)} AS ${sqlIdent(c)}`).join(', ');
    await engine.run(`CREATE OR REPLACE VIEW ${sqlIdent(writeRelation)} AS SELECT *, ${extra} FROM ${sqlIdent(relation)}`);
  }
  const columns = await engine.describe(sqlIdent(writeRelation));
  await checkResult(engine, writeRelation, columns, output, context);

  fs.mkdirSync(tmpDir, { recursive: true });
  const csv = path.join(tmpDir, `output-${randomUUID()}.csv`);
  const exprs = columns.map((c) => `${csvExportExpression(sqlIdent(c.name), c.type)} AS ${sqlIdent(c.name)}`).join(', ');
  await engine.run(`COPY (SELECT ${exprs} FROM ${sqlIdent(writeRelation)}) TO ${sqlString(csv)} (FORMAT csv, HEADER false)`);

  const stage = `gamepipe_stage_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let step = 'lock';
  let stepSql = '';
  try {
    return await adapter.transaction(async (session) => {
      const run = async (what: string, sql: string, params: unknown[] = []) => {
        step = what;
        stepSql = sql;
        return session.query(sql, params);
      };
      await run('lock', `SELECT pg_advisory_xact_lock(hashtext($1))`, [`gamepipe:${output.table}`]);
      let existing = await tableColumns(session, output.table);
      let created = false;
      if (!existing) {
        await run('create table', output.ddl ?? createTableSql(output.table, columns));
        const index = output.ddl ? null : indexSql(output.table, output);
        if (index) await run('create index', index);
        existing = await tableColumns(session, output.table);
        if (!existing) {
          throw new GamepipeError(`output.ddl did not create table ${output.table}`, { ...context, jsonPath: '$.output.ddl' });
        }
        created = true;
      }
      const missing = columns.filter((c) => !existing.has(c.name)).map((c) => c.name);
      if (missing.length) {
        throw new GamepipeError(`table ${output.table} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
          ...context,
          jsonPath: '$.transformSql',
          expected: `result columns among the table's: ${[...existing.keys()].join(', ')} (or migrate the table)`,
        });
      }
      await run('create staging table', `CREATE TEMP TABLE ${sqlQualifiedIdent(stage)} (LIKE ${sqlQualifiedIdent(output.table)} INCLUDING DEFAULTS) ON COMMIT DROP`);
      step = 'COPY into staging';
      stepSql = `COPY ${stage} FROM csv`;
      const copied = await session.copyInCsv(stage, columns.map((c) => c.name), csv);
      let rowsDeleted = 0;
      for (const statement of mergeStatements(output, stage, columns.map((c) => c.name))) {
        const res = await run(`merge (${output.mode})`, statement.sql, statement.params);
        if (statement.sql.startsWith('DELETE')) rowsDeleted = res.rowCount;
      }
      return { rowsWritten: copied, rowsDeleted, created };
    });
  } catch (err) {
    if (err instanceof GamepipeError) throw err.withContext(context);
    const failed = sqlError(err, stepSql, `writing ${output.table} on connection ${adapter.connectionName} (${step})`, context);
    throw new GamepipeError(`${failed.message}; rolled back, ${output.table} is unchanged`, failed.context, { cause: err });
  } finally {
    fs.rmSync(csv, { force: true });
  }
}
