import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';
import { errorText } from '../helpers/errors.js';

/** PostgreSQL outputs: every mode, idempotent re-runs, and atomicity when the write fails. */
describe(`jdbc outputs (${backend})`, () => {
  let ws: Workspace;
  let rawDir: string;

  const job = (name: string, output: Record<string, unknown>, transformSql?: string) =>
    ws.layout(name, {
      name,
      inputSources: [{ name: 'ev', type: 'file', path: `${rawDir}/ds={logDate}`, format: 'ndjson' }],
      transformSql: transformSql ?? 'SELECT CAST(ds AS DATE) AS ds, user_id, CAST(sum(amount) AS DECIMAL(12,2)) AS amount FROM ev GROUP BY ALL',
      output: { type: 'jdbc', connection: 'WAREHOUSE', ...output },
    });

  const rows = async (table: string) =>
    (await ws.query<{ ds: unknown; user_id: string; amount: unknown }>(
      `SELECT to_char(ds, 'YYYY-MM-DD') AS ds, user_id, amount::float8 AS amount FROM ${table} ORDER BY ds, user_id`,
    )).map((r) => `${r.ds} ${r.user_id} ${r.amount}`);

  beforeAll(async () => {
    ws = await createWorkspace();
    rawDir = path.join(ws.dir, 'raw');
    writeFiles(rawDir, {
      'ds=2024-12-28/a.ndjson': '{"user_id":"u1","amount":1}\n{"user_id":"u2","amount":2}\n',
      'ds=2024-12-29/a.ndjson': '{"user_id":"u1","amount":4}\n{"user_id":"u3","amount":5}\n',
      'ds=2024-12-30/a.ndjson': '{"user_id":"u1","amount":-1}\n',
    });
  });
  afterAll(() => ws.close());

  it('deleteInsert replaces one partition atomically and idempotently', async () => {
    const file = job('daily_rev', { table: 'daily_rev', mode: 'deleteInsert', partition: { ds: '{logDate}' } });
    const created = await ws.run(file, { logDate: '2024-12-28' });
    expect(created.rowsWritten).toBe(2);
    await ws.run(file, { logDate: '2024-12-29' });
    const again = await ws.run(file, { logDate: '2024-12-29' });
    expect(again.replaced.rowsDeleted).toBe(2);
    expect(await rows('daily_rev')).toEqual(['2024-12-28 u1 1', '2024-12-28 u2 2', '2024-12-29 u1 4', '2024-12-29 u3 5']);
    // the table was created from the result schema, with an index on the partition column
    const cols = await ws.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'daily_rev' AND table_schema = current_schema() ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => `${c.column_name}:${c.data_type}`)).toEqual(['ds:date', 'user_id:text', 'amount:numeric']);
    const idx = await ws.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'daily_rev' AND schemaname = current_schema()`);
    expect(idx).toEqual([{ indexname: 'daily_rev_partition_idx' }]);
  });

  it('deleteInsert adds a partition column the result lacks, and refuses rows outside the partition', async () => {
    const file = job('by_user', { table: 'by_user', mode: 'deleteInsert', partition: { ds: '{logDate}' } }, 'SELECT user_id, sum(amount) AS amount FROM ev GROUP BY ALL');
    await ws.run(file, { logDate: '2024-12-28' });
    expect(await ws.query(`SELECT ds, count(*)::int AS n FROM by_user GROUP BY ds`)).toEqual([{ ds: '2024-12-28', n: 2 }]);

    const wrong = job('wrong_partition', { table: 'by_user', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
      "SELECT '2024-12-01' AS ds, user_id, sum(amount) AS amount FROM ev GROUP BY ALL");
    const text = await errorText(() => ws.run(wrong, { logDate: '2024-12-28' }));
    expect(text).toContain('$.output.partition: job wrong_partition: 2 result rows fall outside the partition being replaced (ds = 2024-12-28)');
    expect(text).toContain('sample rows:');
    expect(await ws.query(`SELECT count(*)::int AS n FROM by_user`)).toEqual([{ n: 2 }]);
  });

  it('keeps the old partition when the write fails after the delete (atomicity)', async () => {
    // The table's CHECK constraint rejects the negative amount of 2024-12-30 during the INSERT
    // that follows the DELETE, inside the same transaction.
    const ddl = `CREATE TABLE guarded_rev (ds date NOT NULL, user_id text NOT NULL, amount numeric(12,2) CHECK (amount >= 0))`;
    const file = job('guarded_rev', { table: 'guarded_rev', mode: 'deleteInsert', partition: { ds: '{logDate}' }, ddl },
      "SELECT DATE '{logDate}' AS ds, user_id, sum(amount) AS amount FROM ev GROUP BY ALL");
    await ws.run(file, { logDate: '2024-12-28' });
    // Point the same job at a day whose data breaks the constraint, writing into 2024-12-28's partition.
    const breaking = job('guarded_rev_bad', { table: 'guarded_rev', mode: 'deleteInsert', partition: { ds: '2024-12-28' } },
      "SELECT DATE '2024-12-28' AS ds, user_id, sum(amount) AS amount FROM ev GROUP BY ALL");
    const text = await errorText(() => ws.run(breaking, { logDate: '2024-12-30' }));
    expect(text).toMatch(/writing guarded_rev on connection WAREHOUSE \(merge \(deleteInsert\)\) failed: .*check constraint.*; rolled back, guarded_rev is unchanged/);
    expect(await rows('guarded_rev')).toEqual(['2024-12-28 u1 1', '2024-12-28 u2 2']);
    // a value PostgreSQL cannot parse fails during COPY into staging: also nothing changed
    const badType = job('guarded_rev_type', { table: 'guarded_rev', mode: 'deleteInsert', partition: { ds: '2024-12-28' } },
      "SELECT DATE '2024-12-28' AS ds, user_id, 'lots' AS amount FROM ev");
    expect(await errorText(() => ws.run(badType, { logDate: '2024-12-29' }))).toMatch(/COPY into staging/);
    expect(await rows('guarded_rev')).toEqual(['2024-12-28 u1 1', '2024-12-28 u2 2']);
  });

  it('upsert updates rows by key and inserts new ones; duplicate keys are refused', async () => {
    const file = job('user_totals', { table: 'user_totals', mode: 'upsert', keys: ['user_id'] },
      "SELECT DATE '{logDate}' AS ds, user_id, sum(amount) AS amount FROM ev GROUP BY ALL");
    await ws.run(file, { logDate: '2024-12-28' });
    await ws.run(file, { logDate: '2024-12-29' });
    await ws.run(file, { logDate: '2024-12-29' });
    expect(await rows('user_totals')).toEqual(['2024-12-28 u2 2', '2024-12-29 u1 4', '2024-12-29 u3 5']);
    const dup = job('user_totals_dup', { table: 'user_totals', mode: 'upsert', keys: ['user_id'] },
      "SELECT DATE '{logDate}' AS ds, user_id, amount FROM ev UNION ALL SELECT DATE '{logDate}', user_id, amount FROM ev");
    expect(await errorText(() => ws.run(dup, { logDate: '2024-12-28' }))).toMatch(/2 upsert keys appear more than once in the result[\s\S]*expected: one row per \(user_id\)/);
  });

  it('overwrite replaces the whole table; append accumulates', async () => {
    const snap = job('snapshot', { table: 'snapshot', mode: 'overwrite' });
    await ws.run(snap, { logDate: '2024-12-28' });
    await ws.run(snap, { logDate: '2024-12-29' });
    await ws.run(snap, { logDate: '2024-12-29' });
    expect(await rows('snapshot')).toEqual(['2024-12-29 u1 4', '2024-12-29 u3 5']);

    const log = job('event_log', { table: 'event_log', mode: 'append' });
    await ws.run(log, { logDate: '2024-12-28' });
    await ws.run(log, { logDate: '2024-12-28' });
    expect(await rows('event_log')).toEqual(['2024-12-28 u1 1', '2024-12-28 u1 1', '2024-12-28 u2 2', '2024-12-28 u2 2']);
  });

  it('maps DuckDB types to PostgreSQL, nested values as jsonb', async () => {
    const file = job('typed', { table: 'typed', mode: 'overwrite' }, `SELECT
        1::INTEGER AS i, 9007199254740993::BIGINT AS big, 1.25::DOUBLE AS d, 12.345::DECIMAL(10,3) AS money,
        true AS flag, 'it''s "q", ok' AS txt, '' AS empty, NULL::VARCHAR AS nothing,
        DATE '2024-12-29' AS day, TIMESTAMPTZ '2024-12-29 10:00:00+07' AS at,
        [1, 2, 3] AS list, {'k': 'v', 'n': 1} AS obj FROM ev LIMIT 1`);
    await ws.run(file, { logDate: '2024-12-28' });
    const [row] = await ws.query<Record<string, unknown>>(`SELECT i, big::text AS big, d, money::text AS money, flag, txt, empty, nothing,
        day::text AS day, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at, list, obj,
        pg_typeof(list)::text AS list_type FROM typed`);
    expect(row).toEqual({
      i: 1, big: '9007199254740993', d: 1.25, money: '12.345', flag: true, txt: `it's "q", ok`, empty: '', nothing: null,
      day: '2024-12-29', at: '2024-12-29 03:00', list: [1, 2, 3], obj: { k: 'v', n: 1 }, list_type: 'jsonb',
    });
  });

  it('names missing table columns, and a missing connection', async () => {
    const extra = job('daily_rev_extra', { table: 'daily_rev', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
      'SELECT CAST(ds AS DATE) AS ds, user_id, sum(amount) AS amount, 1 AS surprise FROM ev GROUP BY ALL');
    expect(await errorText(() => ws.run(extra, { logDate: '2024-12-28' }))).toMatch(/table daily_rev has no column surprise[\s\S]*expected: result columns among the table's: ds, user_id, amount/);

    const nowhere = job('nowhere', { connection: 'ANALYTICS', table: 't', mode: 'overwrite' });
    const text = await errorText(() => ws.run(nowhere, { logDate: '2024-12-28' }));
    expect(text).toContain('job nowhere: connection ANALYTICS is not configured');
    expect(text).toContain('GAMEPIPE_CONN_ANALYTICS=postgres://');
  });
});
