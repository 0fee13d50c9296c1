import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GamepipeError, type ErrorContext } from '../../core/errors.js';
import { type PgAdapter, type PgSession } from '../../connections/adapter.js';
import type { JdbcOutput, LookupSpec } from '../../layout/schema.js';
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
  requireColumns(names, scd2InputColumns(output), '$.output.scd2', context);
  requireColumns(names, (output.lookups ?? []).flatMap((l) => [...Object.keys(l.match), l.at]), '$.output.lookups', context);
  const added = addedColumns(output).filter((c) => names.has(c));
  if (added.length) {
    throw new GamepipeError(`the result has column${added.length > 1 ? 's' : ''} ${added.join(', ')}, which the output fills itself`, {
      ...context,
      jsonPath: output.mode === 'scd2' ? '$.output.scd2' : '$.output.lookups',
      expected: 'the result without the surrogate key, validity, load-time and looked-up columns',
    });
  }
  if (output.mode === 'upsert' || output.mode === 'scd2') {
    const keys = output.keys ?? [];
    const missing = keys.filter((k) => !names.has(k));
    if (missing.length) {
      throw new GamepipeError(`${output.mode} key column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the result`, {
        ...context,
        jsonPath: '$.output.keys',
        expected: `key columns among the result's columns: ${[...names].join(', ')}`,
      });
    }
    const keyList = keys.map(sqlIdent).join(', ');
    const dupSql = `SELECT ${keyList}, count(*) AS copies FROM ${sqlIdent(relation)} GROUP BY ALL HAVING count(*) > 1`;
    const dups = Number(await engine.scalar(`SELECT count(*) FROM (${dupSql})`));
    if (dups > 0) {
      throw new GamepipeError(`${dups} ${output.mode} keys appear more than once in the result; nothing was written`, {
        ...context,
        jsonPath: '$.output.keys',
        expected: `one row per (${keys.join(', ')})`,
        detail: `sample keys:\n${await sampleRows(engine, dupSql)}`,
      });
    }
  }
}

function requireColumns(names: Set<string>, needed: string[], jsonPath: string, context: ErrorContext): void {
  const missing = [...new Set(needed)].filter((c) => !names.has(c));
  if (missing.length) {
    throw new GamepipeError(`result column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing`, {
      ...context,
      jsonPath,
      expected: `the columns ${jsonPath} names among the result's: ${[...names].join(', ')}`,
    });
  }
}

/** Result columns an scd2 output reads besides its keys. */
function scd2InputColumns(output: JdbcOutput): string[] {
  const spec = output.scd2;
  if (output.mode !== 'scd2' || !spec) return [];
  return [...spec.tracked, spec.validFrom, ...(spec.firstValidFrom ? [spec.firstValidFrom] : []), ...(spec.deleted ? [spec.deleted] : [])];
}

/** Table columns the output fills itself (not in the result). */
function addedColumns(output: JdbcOutput): string[] {
  const spec = output.scd2;
  const scd2 = output.mode === 'scd2' && spec ? [spec.surrogateKey, spec.validFromColumn, spec.validToColumn, spec.currentColumn, spec.loadedAtColumn] : [];
  return [...scd2, ...(output.lookups ?? []).map((l) => l.column)];
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

/** The table an scd2 output or an output with lookups creates: the result's columns plus the ones it fills. */
function createVersionedTableSql(table: string, columns: Column[], output: JdbcOutput, lookupTypes: Map<string, string>): string {
  const spec = output.mode === 'scd2' ? output.scd2 : undefined;
  const stored = columns.filter((c) => c.name !== spec?.deleted);
  const lines = stored.map((c) => `  ${sqlQualifiedIdent(c.name)} ${pgTypeForDuckType(c.type)}`);
  if (spec) {
    lines.unshift(`  ${sqlQualifiedIdent(spec.surrogateKey)} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY`);
    lines.push(
      `  ${sqlQualifiedIdent(spec.validFromColumn)} timestamptz NOT NULL`,
      `  ${sqlQualifiedIdent(spec.validToColumn)} timestamptz`,
      `  ${sqlQualifiedIdent(spec.currentColumn)} boolean NOT NULL`,
      `  ${sqlQualifiedIdent(spec.loadedAtColumn)} timestamptz NOT NULL`,
    );
  }
  for (const l of output.lookups ?? []) lines.push(`  ${sqlQualifiedIdent(l.column)} ${lookupTypes.get(l.column) ?? 'bigint'}`);
  return `CREATE TABLE ${sqlQualifiedIdent(table)} (\n${lines.join(',\n')}\n)`;
}

function indexStatements(table: string, output: JdbcOutput): string[] {
  const spec = output.scd2;
  // Lookups are refreshed per match key: those columns are indexed.
  const lookupIndexes = (output.lookups ?? []).map((l) =>
    `CREATE INDEX ${sqlQualifiedIdent(`${baseName(table)}_${l.column}_match_idx`)} ON ${sqlQualifiedIdent(table)} (${Object.keys(l.match).map(sqlQualifiedIdent).join(', ')})`);
  if (output.mode !== 'scd2' || !spec) {
    const index = indexSql(table, output);
    return [...(index ? [index] : []), ...lookupIndexes];
  }
  const keys = (output.keys ?? []).map(sqlQualifiedIdent).join(', ');
  return [
    `CREATE UNIQUE INDEX ${sqlQualifiedIdent(`${baseName(table)}_current_idx`)} ON ${sqlQualifiedIdent(table)} (${keys}) WHERE ${sqlQualifiedIdent(spec.currentColumn)}`,
    `CREATE INDEX ${sqlQualifiedIdent(`${baseName(table)}_versions_idx`)} ON ${sqlQualifiedIdent(table)} (${keys}, ${sqlQualifiedIdent(spec.validFromColumn)})`,
    `CREATE INDEX ${sqlQualifiedIdent(`${baseName(table)}_loaded_idx`)} ON ${sqlQualifiedIdent(table)} (${sqlQualifiedIdent(spec.loadedAtColumn)})`,
  ];
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

export interface MergeOptions {
  /** Every incremental source was read whole: keys absent from the result may be deleted/closed. */
  fullLoad?: boolean;
}

const q = sqlQualifiedIdent;

/** The point-in-time expression of a lookup for the row aliased `s`: the version valid at s.at, else the key's first version. */
export function lookupExpression(lookup: LookupSpec, row = 's'): string {
  const match = Object.entries(lookup.match).map(([r, d]) => `d.${q(d)} = ${row}.${q(r)}`).join(' AND ');
  const from = `FROM ${q(lookup.table)} AS d WHERE ${match}`;
  const vf = `d.${q(lookup.validFrom)}`;
  return `coalesce(\n      (SELECT d.${q(lookup.value)} ${from} AND ${vf} <= ${row}.${q(lookup.at)} ORDER BY ${vf} DESC, d.${q(lookup.value)} DESC LIMIT 1),\n` +
    `      (SELECT d.${q(lookup.value)} ${from} ORDER BY ${vf}, d.${q(lookup.value)} LIMIT 1))`;
}

/** The statements the merge runs, in order (also what --dry-run prints). */
export function mergeStatements(output: JdbcOutput, stage: string, columns: string[], options: MergeOptions = {}): { sql: string; params: unknown[] }[] {
  if (output.mode === 'scd2') return scd2Statements(output, stage, columns, options);
  const target = q(output.table);
  const cols = columns.map(q).join(', ');
  const statements: { sql: string; params: unknown[] }[] = [];
  const keyMatch = (a: string, b: string) => (output.keys ?? []).map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND ');
  switch (output.mode) {
    case 'overwrite':
      statements.push({ sql: `DELETE FROM ${target}`, params: [] });
      break;
    case 'deleteInsert': {
      const entries = Object.entries(output.partition ?? {});
      const where = entries.map(([c], i) => `${q(c)} = $${i + 1}`).join(' AND ');
      statements.push({ sql: `DELETE FROM ${target} WHERE ${where}`, params: entries.map(([, v]) => v) });
      break;
    }
    case 'upsert': {
      // Keys match with `=` (hash or index joins); rows with a NULL key column, which `=` never
      // matches, are matched NULL-safely in a second statement that runs only when the staged
      // rows have such keys.
      const keys = output.keys ?? [];
      const equal = keys.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
      const anyNull = (alias: string) => keys.map((k) => `${alias}.${q(k)} IS NULL`).join(' OR ');
      if (options.fullLoad && output.deleteMissingOnFullLoad) {
        // Staged rows are all inserted again below, so NULL-key rows may go here too.
        statements.push({ sql: `DELETE FROM ${target} AS t WHERE NOT EXISTS (SELECT 1 FROM ${q(stage)} AS s WHERE ${equal})`, params: [] });
      }
      statements.push({ sql: `DELETE FROM ${target} AS t USING ${q(stage)} AS s WHERE ${equal}`, params: [] });
      statements.push({
        sql: `DELETE FROM ${target} AS t USING ${q(stage)} AS s WHERE (${anyNull('t')}) AND ${keyMatch('t', 's')}
                AND EXISTS (SELECT 1 FROM ${q(stage)} AS n WHERE ${anyNull('n')})`,
        params: [],
      });
      break;
    }
    case 'append':
      break;
  }
  const lookups = output.lookups ?? [];
  const insertCols = [...columns, ...lookups.map((l) => l.column)].map(q).join(', ');
  const selectCols = [...columns.map((c) => `s.${q(c)}`), ...lookups.map((l) => lookupExpression(l))].join(', ');
  statements.push({
    sql: lookups.length ? `INSERT INTO ${target} (${insertCols}) SELECT ${selectCols} FROM ${q(stage)} AS s` : `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${q(stage)}`,
    params: [],
  });
  return statements;
}

/**
 * SCD Type 2: per key, close the current version when a tracked column changed (or the row is
 * deleted), open a new version from the row's validFrom (its firstValidFrom for a new key),
 * and overwrite untracked columns on versions that stay current. Validity is contiguous: a new
 * version starts where its predecessor ended.
 */
function scd2Statements(output: JdbcOutput, stage: string, columns: string[], options: MergeOptions): { sql: string; params: unknown[] }[] {
  const spec = output.scd2!;
  const target = q(output.table);
  const keys = output.keys ?? [];
  const match = (a: string, b: string) => keys.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
  const stored = columns.filter((c) => c !== spec.deleted);
  const untracked = stored.filter((c) => !keys.includes(c) && !spec.tracked.includes(c));
  const changed = spec.tracked.map((c) => `t.${q(c)} IS DISTINCT FROM s.${q(c)}`).join(' OR ');
  const deleted = spec.deleted ? `coalesce(s.${q(spec.deleted)}, false)` : 'false';
  const [vf, vt, cur, loaded] = [spec.validFromColumn, spec.validToColumn, spec.currentColumn, spec.loadedAtColumn].map(q) as [string, string, string, string];
  const first = spec.firstValidFrom ? `coalesce(s.${q(spec.firstValidFrom)}, s.${q(spec.validFrom)})` : `s.${q(spec.validFrom)}`;
  const statements: { sql: string; params: unknown[] }[] = [];
  if (options.fullLoad && output.deleteMissingOnFullLoad) {
    statements.push({
      sql: `UPDATE ${target} AS t SET ${vt} = greatest(now(), t.${vf}), ${cur} = false
             WHERE t.${cur} AND NOT EXISTS (SELECT 1 FROM ${q(stage)} AS s WHERE ${match('t', 's')})`,
      params: [],
    });
  }
  statements.push({
    sql: `UPDATE ${target} AS t SET ${vt} = greatest(s.${q(spec.validFrom)}, t.${vf}), ${cur} = false
            FROM ${q(stage)} AS s
           WHERE ${match('t', 's')} AND t.${cur} AND (${deleted} OR ${changed})`,
    params: [],
  });
  const previousEnd = `(SELECT max(p.${vt}) FROM ${target} AS p WHERE ${match('p', 's')})`;
  const hasPrevious = `EXISTS (SELECT 1 FROM ${target} AS p WHERE ${match('p', 's')})`;
  statements.push({
    sql: `INSERT INTO ${target} (${stored.map(q).join(', ')}, ${vf}, ${vt}, ${cur}, ${loaded})
          SELECT ${stored.map((c) => `s.${q(c)}`).join(', ')},
                 CASE WHEN ${hasPrevious} THEN greatest(s.${q(spec.validFrom)}, ${previousEnd}) ELSE ${first} END,
                 NULL, true, now()
            FROM ${q(stage)} AS s
           WHERE NOT ${deleted} AND NOT EXISTS (SELECT 1 FROM ${target} AS c WHERE ${match('c', 's')} AND c.${cur})
           ORDER BY ${keys.map((k) => `s.${q(k)}`).join(', ')}`,
    params: [],
  });
  if (untracked.length) {
    statements.push({
      sql: `UPDATE ${target} AS t SET ${untracked.map((c) => `${q(c)} = s.${q(c)}`).join(', ')}
              FROM ${q(stage)} AS s
             WHERE ${match('t', 's')} AND t.${cur} AND (${untracked.map((c) => `t.${q(c)} IS DISTINCT FROM s.${q(c)}`).join(' OR ')})`,
      params: [],
    });
  }
  return statements;
}

export interface WriteOptions extends MergeOptions {
  /** Runs inside the write's transaction after the merge (watermarks advance with the rows they cover). */
  afterMerge?: (session: PgSession) => Promise<void>;
}

export async function writeJdbcOutput(
  engine: DuckEngine,
  relation: string,
  adapter: PgAdapter,
  output: JdbcOutput,
  tmpDir: string,
  context: ErrorContext,
  options: WriteOptions = {},
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
      const lookupTypes = await lookupTables(session, output, context);
      const versioned = output.mode === 'scd2' || (output.lookups?.length ?? 0) > 0;
      if (!existing) {
        await run('create table', output.ddl ?? (versioned ? createVersionedTableSql(output.table, columns, output, lookupTypes) : createTableSql(output.table, columns)));
        for (const index of output.ddl ? [] : indexStatements(output.table, output)) await run('create index', index);
        existing = await tableColumns(session, output.table);
        if (!existing) {
          throw new GamepipeError(`output.ddl did not create table ${output.table}`, { ...context, jsonPath: '$.output.ddl' });
        }
        created = true;
      }
      const missing = [...columns.map((c) => c.name).filter((c) => c !== output.scd2?.deleted), ...addedColumns(output)].filter((c) => !existing.has(c));
      if (missing.length) {
        throw new GamepipeError(`table ${output.table} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
          ...context,
          jsonPath: '$.transformSql',
          expected: `result columns among the table's: ${[...existing.keys()].join(', ')} (or migrate the table)`,
        });
      }
      // scd2 stages the result's own columns (its deleted flag is not a table column).
      await run('create staging table', output.mode === 'scd2'
        ? `${createTableSql(stage, columns).replace(/^CREATE TABLE/, 'CREATE TEMP TABLE')} ON COMMIT DROP`
        : `CREATE TEMP TABLE ${sqlQualifiedIdent(stage)} (LIKE ${sqlQualifiedIdent(output.table)} INCLUDING DEFAULTS) ON COMMIT DROP`);
      step = 'COPY into staging';
      stepSql = `COPY ${stage} FROM csv`;
      const copied = await session.copyInCsv(stage, columns.map((c) => c.name), csv);
      let rowsDeleted = 0;
      if (output.mode === 'scd2' || output.lookups?.length) await run('analyze staging', `ANALYZE ${sqlQualifiedIdent(stage)}`);
      for (const statement of mergeStatements(output, stage, columns.map((c) => c.name), options)) {
        const res = await run(`merge (${output.mode})`, statement.sql, statement.params);
        if (statement.sql.startsWith('DELETE')) rowsDeleted += res.rowCount;
      }
      for (const lookup of output.lookups ?? []) {
        step = `refresh lookup ${lookup.column}`;
        await refreshLookup(session, output.table, lookup, created);
      }
      if (options.afterMerge) {
        step = 'after merge';
        stepSql = '';
        await options.afterMerge(session);
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

/** Checks every lookup's table exists, and returns the type of each looked-up value. */
async function lookupTables(session: PgSession, output: JdbcOutput, context: ErrorContext): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  for (const [i, lookup] of (output.lookups ?? []).entries()) {
    const cols = await tableColumns(session, lookup.table);
    const needed = [...Object.values(lookup.match), lookup.value, lookup.validFrom, lookup.loadedAt];
    const absent = cols ? needed.filter((c) => !cols.has(c)) : needed;
    if (!cols || absent.length) {
      throw new GamepipeError(cols ? `lookup table ${lookup.table} has no column ${absent.join(', ')}` : `lookup table ${lookup.table} does not exist`, {
        ...context,
        jsonPath: `$.output.lookups[${i}]`,
        expected: `${lookup.table} in connection ${output.connection} with columns ${needed.join(', ')} (run the job that writes it first)`,
      });
    }
    types.set(lookup.column, cols.get(lookup.value)!);
  }
  return types;
}

/**
 * A dimension may gain a version that starts before facts already loaded (a late-committing
 * change): rows whose lookup key has versions loaded since the last refresh are resolved again.
 * The refresh point per (table, column) is kept in etl_lookup_state.
 */
async function refreshLookup(session: PgSession, table: string, lookup: LookupSpec, created: boolean): Promise<void> {
  await session.query(`CREATE TABLE IF NOT EXISTS etl_lookup_state (
    target_table text NOT NULL, column_name text NOT NULL, refreshed_until timestamptz NOT NULL,
    PRIMARY KEY (target_table, column_name))`);
  const state = await session.query<{ until: string }>(
    `SELECT refreshed_until::text AS until FROM etl_lookup_state WHERE target_table = $1 AND column_name = $2`,
    [table, lookup.column],
  );
  const since = state.rows[0]?.until;
  if (since !== undefined || !created) {
    const matchCols = Object.keys(lookup.match).map((c) => `s.${q(c)}`);
    const dimCols = Object.values(lookup.match).map((c) => `d.${q(c)}`).join(', ');
    const changed = `SELECT DISTINCT ${dimCols} FROM ${q(lookup.table)} AS d WHERE d.${q(lookup.loadedAt)} > coalesce($1::timestamptz, '-infinity')`;
    // One match column: `= ANY(ARRAY(…))` probes the match index whatever the statistics say.
    const keysChanged = matchCols.length === 1 ? `${matchCols[0]} = ANY (ARRAY(${changed}))` : `(${matchCols.join(', ')}) IN (${changed})`;
    const expr = lookupExpression(lookup);
    await session.query(
      `UPDATE ${q(table)} AS s SET ${q(lookup.column)} = ${expr}
        WHERE ${keysChanged} AND s.${q(lookup.column)} IS DISTINCT FROM ${expr}`,
      [since ?? null],
    );
  }
  await session.query(
    `INSERT INTO etl_lookup_state (target_table, column_name, refreshed_until)
     SELECT $1, $2, coalesce(max(${q(lookup.loadedAt)}), '-infinity') FROM ${q(lookup.table)}
     ON CONFLICT (target_table, column_name) DO UPDATE SET refreshed_until = excluded.refreshed_until`,
    [table, lookup.column],
  );
}
