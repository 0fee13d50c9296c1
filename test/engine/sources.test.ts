import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';
import { errorText } from '../helpers/errors.js';

/** Every source type feeds the transform under its own name; results land in PostgreSQL for inspection. */
describe('input sources', () => {
  let ws: Workspace;
  const out = (table: string) => ({ type: 'jdbc', connection: 'WAREHOUSE', table, mode: 'overwrite' });

  beforeAll(async () => {
    ws = await createWorkspace();
    writeFiles(ws.dir, {
      'raw/events/ds=2024-12-28/part-0.ndjson': '{"user_id":"u1","amount":1.5}\n',
      'raw/events/ds=2024-12-29/part-0.ndjson': '{"user_id":"u1","amount":2}\n{"user_id":"u2","amount":3,"extra":"x"}\n',
      'raw/csv/ds=2024-12-29/a.csv': 'user_id,amount\nu1,10\nu3,\n',
      'raw/csv/ds=2024-12-29/b.csv': 'user_id,amount\nu4,5\n',
      'raw/array.json': '[{"k":"a","v":1},{"k":"b","v":2}]',
    });
    // A Parquet lake with Hive partitions, written by a job itself.
    const toLake = ws.layout('to_lake', {
      name: 'to_lake',
      inputSources: [{ name: 'ev', type: 'file', path: path.join(ws.dir, 'raw/events'), format: 'ndjson' }],
      transformSql: 'SELECT CAST(ds AS DATE) AS ds, user_id, amount FROM ev',
      output: { type: 'file', path: '{lake}/bronze/payments', mode: 'overwrite', partitionBy: ['ds'] },
    });
    await ws.run(toLake);
  });
  afterAll(() => ws.close());

  it('reads one Hive partition of parquet with ds as a column', async () => {
    const file = ws.layout('parquet_one', {
      name: 'parquet_one',
      inputSources: [{ name: 'payments', type: 'file', path: '{lake}/bronze/payments/ds={logDate}', format: 'parquet' }],
      transformSql: "SELECT CAST(ds AS VARCHAR) AS ds, user_id, amount FROM payments WHERE ds = DATE '{logDate}' ORDER BY user_id",
      output: out('parquet_one'),
    });
    const result = await ws.run(file, { logDate: '2024-12-29' });
    expect(result.rowsRead).toBe(2);
    expect(await ws.query('SELECT ds, user_id, amount::float8 AS amount FROM parquet_one ORDER BY user_id')).toEqual([
      { ds: '2024-12-29', user_id: 'u1', amount: 2 },
      { ds: '2024-12-29', user_id: 'u2', amount: 3 },
    ]);
  });

  it('reads a whole partitioned folder and a glob', async () => {
    const file = ws.layout('parquet_all', {
      name: 'parquet_all',
      inputSources: [
        { name: 'all_days', type: 'file', path: '{lake}/bronze/payments', format: 'parquet' },
        { name: 'globbed', type: 'file', path: '{lake}/bronze/payments/ds=2024-12-2*/*.parquet', format: 'parquet' },
      ],
      transformSql: 'SELECT (SELECT count(*) FROM all_days) AS n_all, (SELECT count(DISTINCT ds) FROM globbed) AS n_days',
      output: out('parquet_all'),
    });
    await ws.run(file);
    expect(await ws.query('SELECT n_all::int AS n_all, n_days::int AS n_days FROM parquet_all')).toEqual([{ n_all: 3, n_days: 2 }]);
  });

  it('reads csv (several files, empty field as NULL) and json arrays', async () => {
    const file = ws.layout('csv_json', {
      name: 'csv_json',
      inputSources: [
        { name: 'c', type: 'file', path: path.join(ws.dir, 'raw/csv/ds={logDate}'), format: 'csv' },
        { name: 'j', type: 'file', path: path.join(ws.dir, 'raw/array.json'), format: 'json' },
      ],
      transformSql: `SELECT user_id, amount, (SELECT sum(v) FROM j) AS json_total FROM c ORDER BY user_id`,
      output: out('csv_json'),
    });
    const result = await ws.run(file, { logDate: '2024-12-29' });
    expect(result.rowsRead).toBe(5);
    const rows = await ws.query<{ user_id: string; amount: unknown; json_total: unknown }>('SELECT * FROM csv_json ORDER BY user_id');
    expect(rows.map((r) => [r.user_id, r.amount === null ? null : Number(r.amount), Number(r.json_total)])).toEqual([
      ['u1', 10, 3],
      ['u3', null, 3],
      ['u4', 5, 3],
    ]);
  });

  it('reads a PostgreSQL query in bulk, keeping types, NULLs and empty strings', async () => {
    await ws.connections.get('OPS').withSession(async (s) => {
      await s.query(`CREATE TABLE user_profile (user_id text PRIMARY KEY, country_code text, vip boolean,
                     spent numeric(12,2), registered_at timestamptz, born date, tags jsonb, note text)`);
      await s.query(`INSERT INTO user_profile VALUES
        ('u1', 'TH', true, 12.50, '2024-12-01 10:00:00+07', '2000-01-31', '{"a": [1, 2]}', ''),
        ('u2', NULL, false, 0, NULL, NULL, NULL, NULL),
        ('u3', 'VN', NULL, 1234567.89, '2024-12-29 23:59:59+00', '1999-12-31', '[]', 'line1
line2, "quoted"')`);
    });
    const file = ws.layout('jdbc_source', {
      name: 'jdbc_source',
      inputSources: [{ name: 'profile', type: 'jdbc', connection: 'OPS', query: "SELECT * FROM user_profile WHERE registered_at IS NULL OR registered_at < '{cutoff}';" }],
      vars: { cutoff: { type: 'date', default: '2025-01-01' } },
      transformSql: `SELECT user_id, country_code, vip, spent, typeof(spent) AS spent_type, registered_at, born,
                            tags->>'$.a[1]' AS tag, note, note IS NULL AS note_null, length(note) AS note_len
                     FROM profile ORDER BY user_id`,
      output: out('jdbc_source'),
    });
    const result = await ws.run(file);
    expect(result.sources).toEqual([{ name: 'profile', kind: 'jdbc', rows: 3 }]);
    const rows = await ws.query<Record<string, unknown>>('SELECT * FROM jdbc_source ORDER BY user_id');
    expect(rows.map((r) => [r.user_id, r.country_code, r.vip, Number(r.spent), r.spent_type, r.tag, r.note_null, r.note_len === null ? null : Number(r.note_len)])).toEqual([
      ['u1', 'TH', true, 12.5, 'DECIMAL(38,10)', '2', false, 0],
      ['u2', null, false, 0, 'DECIMAL(38,10)', null, true, null],
      ['u3', 'VN', null, 1234567.89, 'DECIMAL(38,10)', null, false, 21],
    ]);
    expect(new Date(rows[0]!.registered_at as string).toISOString()).toBe('2024-12-01T03:00:00.000Z');
    expect(rows[2]!.note).toBe('line1\nline2, "quoted"');
  });

  it('lets a missing optional source be empty with its declared columns', async () => {
    const file = ws.layout('optional', {
      name: 'optional',
      inputSources: [{ name: 'late', type: 'file', path: '{lake}/nothing/ds={logDate}', format: 'parquet', required: false, columns: { user_id: 'VARCHAR', n: 'BIGINT' } }],
      transformSql: 'SELECT count(*) AS rows, sum(n) AS total FROM late',
      output: out('optional'),
    });
    await ws.run(file, { logDate: '2024-12-29' });
    expect(await ws.query('SELECT rows::int AS rows, total FROM optional')).toEqual([{ rows: 0, total: null }]);
  });

  it('names the source, path and job when an input partition is missing', async () => {
    const file = ws.layout('missing', {
      name: 'missing',
      inputSources: [{ name: 'payments', type: 'file', path: '{lake}/bronze/payments/ds={logDate}', format: 'parquet' }],
      transformSql: 'SELECT * FROM payments',
      output: out('missing'),
    });
    const text = await errorText(() => ws.run(file, { logDate: '2030-01-01' }));
    expect(text).toContain(`${file}: $.inputSources[0].path: job missing: missing input: source "payments" found no parquet files at`);
    expect(text).toContain('ds=2030-01-01');
    expect(text).toMatch(/expected: the input partition to exist/);
  });
});
