import { GamepipeError, type ErrorContext } from '../../core/errors.js';
import { type DuckEngine } from '../duckdb.js';
import { sqlError } from '../sqlErrors.js';
import { checkName, type Check, type CheckLevel, type CheckType } from '../../layout/checks.js';
import { sqlIdent, sqlString } from '../../sql/quote.js';

/**
 * Runs a layout's data checks on the job's result, inside DuckDB, before the output is
 * written. Every check is one or two set-based queries (a count, then up to SAMPLE offending
 * rows when it fails); nothing loops over rows in JS. All checks run, then a GamepipeError
 * lists every failed `error` check with what was expected and sample rows; failed `warn`
 * checks only show up in the returned results.
 *
 * A check that cannot be evaluated (a column not in the result, an unknown relation, SQL that
 * does not run) is a layout bug, so it throws right away whatever its level.
 */
export interface CheckResult {
  name: string;
  type: CheckType;
  level: CheckLevel;
  passed: boolean;
  /**
   * Rows at fault: NULL rows (notNull), rows sharing a duplicated key (unique), rows with a
   * value not accepted / without a match (acceptedValues, relationships), rows the query
   * returned (expression); rowCount: how many rows short of min or over max; reconcile: 1
   * when the two sides differ. 0 when the check passed.
   */
  failingRows: number;
  /** Up to SAMPLE offending rows (or keys / values with their row counts) when it failed. */
  sample?: Record<string, unknown>[];
  message: string;
}

/** In check SQL (`reconcile.left/right`, `expression.sql`), `$output` is the job's result. */
export const OUTPUT_PLACEHOLDER = /\$output\b/g;

const SAMPLE = 5;

interface Outcome {
  passed: boolean;
  failingRows: number;
  message: string;
  expected: string;
  sample?: Record<string, unknown>[];
  /** What the sample shows: "sample rows", "sample keys"… */
  sampleLabel?: string;
  /** Extra lines for the error (the reconcile queries). */
  extra?: string[];
}

interface Failure {
  index: number;
  name: string;
  check: Check;
  outcome: Outcome;
}

export async function runChecks(engine: DuckEngine, relation: string, checks: Check[], context: ErrorContext): Promise<CheckResult[]> {
  const runner = new CheckRunner(engine, relation, context);
  const results: CheckResult[] = [];
  const failures: Failure[] = [];
  for (const [index, check] of checks.entries()) {
    const name = checkName(check, index);
    const outcome = await runner.evaluate(check, index, name);
    results.push({
      name,
      type: check.type,
      level: check.level,
      passed: outcome.passed,
      failingRows: outcome.failingRows,
      ...(outcome.sample ? { sample: outcome.sample } : {}),
      message: outcome.message,
    });
    if (!outcome.passed && check.level === 'error') failures.push({ index, name, check, outcome });
  }
  if (failures.length) throw checkFailure(failures, context);
  return results;
}

function checkFailure(failures: Failure[], context: ErrorContext): GamepipeError {
  const first = failures[0]!;
  const jsonPath = `$.checks[${first.index}]`;
  if (failures.length === 1) {
    const { name, check, outcome } = first;
    return new GamepipeError(`check ${name} failed: ${outcome.message}`, {
      ...context,
      jsonPath,
      expected: outcome.expected,
      detail: detailLines(check, outcome, '').join('\n') || undefined,
    });
  }
  const summary = failures.map((f) => `${f.name}: ${f.outcome.message}`).join('; ');
  const blocks = failures.map((f) => [
    `$.checks[${f.index}] check ${f.name} failed: ${f.outcome.message}`,
    `  expected: ${f.outcome.expected}`,
    ...detailLines(f.check, f.outcome, '  '),
  ].join('\n'));
  return new GamepipeError(`${failures.length} checks failed: ${summary}`, { ...context, jsonPath, detail: blocks.join('\n') });
}

function detailLines(check: Check, outcome: Outcome, indent: string): string[] {
  const lines: string[] = [];
  if (check.description) lines.push(`${indent}description: ${check.description}`);
  for (const line of outcome.extra ?? []) lines.push(indent + line);
  if (outcome.sample?.length) {
    lines.push(`${indent}${outcome.sampleLabel ?? 'sample rows'}:`);
    for (const row of outcome.sample) lines.push(`${indent}  ${JSON.stringify(row)}`);
  }
  return lines;
}

/** `1 row`, `3 rows` */
function rows(n: number): string {
  return `${n} row${n === 1 ? '' : 's'}`;
}

/** A check's SQL as a subquery: `$output` replaced, a trailing `;` dropped, on lines of its own. */
function subquery(sql: string, relation: string): string {
  const body = sql.replace(OUTPUT_PLACEHOLDER, sqlIdent(relation)).trim().replace(/;+\s*$/, '');
  return `(\n${body}\n)`;
}

function literal(value: string | number | boolean): string {
  if (typeof value === 'string') return sqlString(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return String(value);
}

/** Counts come back from DuckDB as BIGINT strings; samples show them as numbers. */
function withNumber(row: Record<string, unknown>, key: string): Record<string, unknown> {
  return { ...row, [key]: Number(row[key]) };
}

class CheckRunner {
  private readonly rel: string;
  private resultColumns: Map<string, { name: string; type: string }> | undefined;

  constructor(
    private readonly engine: DuckEngine,
    private readonly relation: string,
    private readonly context: ErrorContext,
  ) {
    this.rel = sqlIdent(relation);
  }

  evaluate(check: Check, index: number, name: string): Promise<Outcome> {
    const at = `$.checks[${index}]`;
    switch (check.type) {
      case 'rowCount':
        return this.rowCount(check, at, name);
      case 'notNull':
        return this.notNull(check, at, name);
      case 'unique':
        return this.unique(check, at, name);
      case 'acceptedValues':
        return this.acceptedValues(check, at, name);
      case 'relationships':
        return this.relationships(check, at, name);
      case 'reconcile':
        return this.reconcile(check, at, name);
      case 'expression':
        return this.expression(check, at, name);
    }
  }

  /** Rows of a check's query; an engine error names the check and shows the SQL. */
  private async query<Row = Record<string, unknown>>(sql: string, jsonPath: string, name: string): Promise<Row[]> {
    try {
      return await this.engine.rows<Row>(sql);
    } catch (err) {
      throw sqlError(err, sql, `running check ${name}`, { ...this.context, jsonPath });
    }
  }

  private async first(sql: string, jsonPath: string, name: string): Promise<Record<string, unknown>> {
    return (await this.query(sql, jsonPath, name))[0] ?? {};
  }

  /** The result's columns by lower-case name (DuckDB identifiers are case-insensitive). */
  private async columnsOf(relation: string): Promise<Map<string, { name: string; type: string }>> {
    const described = await this.engine.describe(sqlIdent(relation));
    return new Map(described.map((c) => [c.name.toLowerCase(), c]));
  }

  /** The columns' DuckDB types; a column the result lacks is an error naming the check. */
  private async requireColumns(columns: string[], jsonPath: string, name: string): Promise<string[]> {
    this.resultColumns ??= await this.columnsOf(this.relation);
    const known = this.resultColumns;
    const missing = columns.filter((c) => !known.has(c.toLowerCase()));
    if (missing.length) {
      throw new GamepipeError(`check ${name}: column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the result`, {
        ...this.context,
        jsonPath,
        expected: `columns among the result's: ${[...known.values()].map((c) => c.name).join(', ')}`,
      });
    }
    return columns.map((c) => known.get(c.toLowerCase())!.type);
  }

  private async rowCount(check: Extract<Check, { type: 'rowCount' }>, at: string, name: string): Promise<Outcome> {
    const n = Number((await this.first(`SELECT count(*) AS n FROM ${this.rel}`, at, name)).n);
    const { min, max } = check;
    const expected = max === undefined ? `at least ${rows(min)}` : min === max ? `exactly ${rows(min)}` : `between ${min} and ${rows(max)}`;
    if (n < min) return { passed: false, failingRows: min - n, message: `${rows(n)}, fewer than ${min}`, expected };
    if (max !== undefined && n > max) return { passed: false, failingRows: n - max, message: `${rows(n)}, more than ${max}`, expected };
    return { passed: true, failingRows: 0, message: rows(n), expected };
  }

  private async notNull(check: Extract<Check, { type: 'notNull' }>, at: string, name: string): Promise<Outcome> {
    await this.requireColumns(check.columns, `${at}.columns`, name);
    const isNull = check.columns.map((c) => `${sqlIdent(c)} IS NULL`);
    const perColumn = isNull.map((cond, i) => `count(*) FILTER (WHERE ${cond}) AS c${i}`).join(', ');
    const where = isNull.join(' OR ');
    const counts = await this.first(`SELECT count(*) FILTER (WHERE ${where}) AS total, ${perColumn} FROM ${this.rel}`, at, name);
    const total = Number(counts.total);
    const expected = `no NULL in ${check.columns.join(', ')}`;
    if (total === 0) return { passed: true, failingRows: 0, message: `no NULLs`, expected };
    const message = check.columns.length === 1
      ? `${rows(total)} with NULL ${check.columns[0]}`
      : `${rows(total)} with NULLs (${check.columns.map((c, i) => `${c}: ${Number(counts[`c${i}`])}`).join(', ')})`;
    const sample = await this.query(`SELECT * FROM ${this.rel} WHERE ${where} LIMIT ${SAMPLE}`, at, name);
    return { passed: false, failingRows: total, message, expected, sample, sampleLabel: 'sample rows' };
  }

  private async unique(check: Extract<Check, { type: 'unique' }>, at: string, name: string): Promise<Outcome> {
    await this.requireColumns(check.columns, `${at}.columns`, name);
    const keys = check.columns.map(sqlIdent).join(', ');
    const dups = `SELECT ${keys}, count(*) AS copies FROM ${this.rel} GROUP BY ${keys} HAVING count(*) > 1`;
    const stats = await this.first(`SELECT count(*) AS keys, coalesce(sum(copies), 0) AS n FROM (${dups})`, at, name);
    const keyCount = Number(stats.keys);
    const rowCount = Number(stats.n);
    const expected = `one row per (${check.columns.join(', ')})`;
    if (keyCount === 0) return { passed: true, failingRows: 0, message: 'no duplicate keys', expected };
    const sample = (await this.query(`${dups} ORDER BY copies DESC, ${keys} LIMIT ${SAMPLE}`, at, name)).map((r) => withNumber(r, 'copies'));
    return {
      passed: false,
      failingRows: rowCount,
      message: `${keyCount} duplicate key${keyCount === 1 ? '' : 's'} (${rows(rowCount)})`,
      expected,
      sample,
      sampleLabel: 'sample keys',
    };
  }

  private async acceptedValues(check: Extract<Check, { type: 'acceptedValues' }>, at: string, name: string): Promise<Outcome> {
    const [type] = await this.requireColumns([check.column], `${at}.column`, name);
    const col = sqlIdent(check.column);
    // Each value is cast to the column's type, so 1 matches an INTEGER 1 and '1' a VARCHAR '1'.
    const list = check.values.map((v) => `CAST(${literal(v)} AS ${type})`).join(', ');
    const bad = `SELECT ${col}, count(*) AS "rows" FROM ${this.rel} WHERE ${col} IS NOT NULL AND ${col} NOT IN (${list}) GROUP BY ${col}`;
    const stats = await this.first(`SELECT count(*) AS "values", coalesce(sum("rows"), 0) AS n FROM (${bad})`, `${at}.values`, name);
    const valueCount = Number(stats.values);
    const rowCount = Number(stats.n);
    const expected = `${check.column} in (${check.values.map((v) => JSON.stringify(v)).join(', ')}) or NULL`;
    if (valueCount === 0) return { passed: true, failingRows: 0, message: 'all values accepted', expected };
    const sample = (await this.query(`${bad} ORDER BY "rows" DESC, ${col} LIMIT ${SAMPLE}`, at, name)).map((r) => withNumber(r, 'rows'));
    const shown = sample.map((r) => JSON.stringify(r[Object.keys(r)[0]!])).join(', ');
    return {
      passed: false,
      failingRows: rowCount,
      message: `${rows(rowCount)} with ${valueCount} value${valueCount === 1 ? '' : 's'} not accepted: ${shown}${valueCount > sample.length ? ', …' : ''}`,
      expected,
      sample,
      sampleLabel: 'sample values',
    };
  }

  private async relationships(check: Extract<Check, { type: 'relationships' }>, at: string, name: string): Promise<Outcome> {
    await this.requireColumns([check.column], `${at}.column`, name);
    const visible = await this.query<{ name: string }>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE NOT internal
       UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY name`,
      at,
      name,
    );
    const target = visible.find((r) => r.name.toLowerCase() === check.to.toLowerCase());
    if (!target) {
      const names = visible.map((r) => r.name).filter((n) => !n.startsWith('__gamepipe'));
      throw new GamepipeError(`check ${name}: relation ${check.to} not found`, {
        ...this.context,
        jsonPath: `${at}.to`,
        expected: `a source of the layout or a table the transform created (${names.length ? names.join(', ') : 'none'})`,
      });
    }
    const targetColumns = await this.columnsOf(target.name);
    if (!targetColumns.has(check.field.toLowerCase())) {
      throw new GamepipeError(`check ${name}: column ${check.field} not in ${check.to}`, {
        ...this.context,
        jsonPath: `${at}.field`,
        expected: `a column of ${check.to}: ${[...targetColumns.values()].map((c) => c.name).join(', ')}`,
      });
    }
    const col = sqlIdent(check.column);
    const orphans = `SELECT __c.${col}, count(*) AS "rows" FROM ${this.rel} AS __c
      WHERE __c.${col} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${sqlIdent(target.name)} AS __p WHERE __p.${sqlIdent(check.field)} = __c.${col})
      GROUP BY __c.${col}`;
    const stats = await this.first(`SELECT count(*) AS "values", coalesce(sum("rows"), 0) AS n FROM (${orphans})`, at, name);
    const valueCount = Number(stats.values);
    const rowCount = Number(stats.n);
    const ref = `${check.to}.${check.field}`;
    const expected = `every non-NULL ${check.column} to exist in ${ref}`;
    if (valueCount === 0) return { passed: true, failingRows: 0, message: `every ${check.column} found in ${ref}`, expected };
    const sample = (await this.query(`${orphans} ORDER BY "rows" DESC, __c.${col} LIMIT ${SAMPLE}`, at, name)).map((r) => withNumber(r, 'rows'));
    return {
      passed: false,
      failingRows: rowCount,
      message: `${rows(rowCount)} with ${valueCount} ${check.column} value${valueCount === 1 ? '' : 's'} missing from ${ref}`,
      expected,
      sample,
      sampleLabel: 'sample values',
    };
  }

  private async reconcile(check: Extract<Check, { type: 'reconcile' }>, at: string, name: string): Promise<Outcome> {
    const sides = `SELECT ${subquery(check.left, this.relation)} AS __l, ${subquery(check.right, this.relation)} AS __r`;
    const tolerance = check.tolerance;
    // Tolerance 0 compares any types (dates, strings…); NULL only equals NULL.
    const ok = tolerance === 0
      ? '__l IS NOT DISTINCT FROM __r'
      : `CASE WHEN __l IS NULL OR __r IS NULL THEN __l IS NULL AND __r IS NULL ELSE abs(__l - __r) <= ${literal(tolerance)} END`;
    const row = await this.first(`SELECT __l AS "left", __r AS "right", ${ok} AS ok FROM (${sides})`, at, name);
    const expected = tolerance === 0 ? 'left = right' : `|left - right| <= ${tolerance}`;
    const left = row.left ?? null;
    const right = row.right ?? null;
    if (row.ok === true) {
      return { passed: true, failingRows: 0, message: `left ${String(left)}, right ${String(right)}`, expected };
    }
    let difference: unknown = null;
    if (left !== null && right !== null) {
      try {
        difference = (await this.engine.rows(`SELECT __l - __r AS d FROM (${sides})`))[0]?.d ?? null;
      } catch {
        difference = null; // not numbers: the sides are shown as they are
      }
    }
    const message = `left ${String(left)} ≠ right ${String(right)}${difference !== null ? ` (difference ${String(difference)}${tolerance ? `, tolerance ${tolerance}` : ''})` : ''}`;
    return {
      passed: false,
      failingRows: 1,
      message,
      expected,
      sample: [{ left, right, ...(difference !== null ? { difference } : {}) }],
      sampleLabel: 'values',
      extra: [`left:  ${check.left}`, `right: ${check.right}`],
    };
  }

  private async expression(check: Extract<Check, { type: 'expression' }>, at: string, name: string): Promise<Outcome> {
    const query = subquery(check.sql, this.relation);
    const n = Number((await this.first(`SELECT count(*) AS n FROM ${query}`, `${at}.sql`, name)).n);
    const expected = 'the query to return no rows';
    if (n === 0) return { passed: true, failingRows: 0, message: 'no offending rows', expected };
    const sample = await this.query(`SELECT * FROM ${query} LIMIT ${SAMPLE}`, `${at}.sql`, name);
    return { passed: false, failingRows: n, message: `the query returned ${rows(n)}`, expected, sample, sampleLabel: 'sample rows' };
  }
}
