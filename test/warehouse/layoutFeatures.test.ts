import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/core/paths.js';
import { warehouseSchedules } from '../../src/warehouse/schedule.js';
import { withPipelineSchedules } from '../../src/scheduler/pipelineSchedules.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { errorText } from '../helpers/errors.js';

/**
 * The layout features the warehouse is built from, on hand-computed fixtures: an incremental
 * jdbc source with its watermark, the scd2 output mode, point-in-time lookups (including the
 * refresh after a back-dated version), and the errors of a missing column / duplicate key.
 */
describe(`incremental sources, scd2 and lookups (${backend})`, () => {
  let ws: Workspace;
  const ops = (sql: string) => ws.query(sql, 'OPS');
  const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;

  let dim: string;
  let fact: string;
  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE', 'OPS']);
    await ops(`CREATE TABLE people (id bigint, name text, tier text, note text, gone bool NOT NULL DEFAULT false, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`);
    await ops(`CREATE TABLE buys (id bigint PRIMARY KEY, person_id bigint, bought_at timestamptz NOT NULL, loaded timestamptz NOT NULL DEFAULT now())`);
    await ops(`INSERT INTO people VALUES (1, 'ann', 'a', NULL, false, '2024-01-01 00:00Z', '2024-01-02 00:00Z'), (2, 'bob', 'b', NULL, false, '2024-01-01 00:00Z', '2024-01-01 00:00Z')`);
    dim = ws.layout('dim_people', {
      name: 'dim_people',
      inputSources: [{ name: 'p', type: 'jdbc', connection: 'OPS', table: 'people', query: 'SELECT * FROM people', incremental: { column: 'updated_at' } }],
      transformSql: 'SELECT id AS person_id, name, tier, note, gone, created_at, updated_at FROM p',
      output: {
        type: 'jdbc', connection: 'WAREHOUSE', table: 'dim_people', mode: 'scd2', keys: ['person_id'],
        scd2: { tracked: ['name', 'tier'], surrogateKey: 'person_key', validFrom: 'updated_at', firstValidFrom: 'created_at', deleted: 'gone' },
        deleteMissingOnFullLoad: true,
      },
    });
    fact = ws.layout('fact_buys', {
      name: 'fact_buys',
      inputSources: [{ name: 'b', type: 'jdbc', connection: 'OPS', table: 'buys', query: 'SELECT id, person_id, bought_at, loaded FROM buys', incremental: { column: 'loaded' } }],
      transformSql: 'SELECT id AS buy_id, person_id, bought_at FROM b',
      output: {
        type: 'jdbc', connection: 'WAREHOUSE', table: 'fact_buys', mode: 'upsert', keys: ['buy_id'],
        lookups: [{ column: 'person_key', table: 'dim_people', match: { person_id: 'person_id' }, at: 'bought_at', value: 'person_key' }],
      },
    });
  });
  afterAll(() => ws?.close());

  const versions = async () =>
    (await ws.query<{ v: string }>(`SELECT concat_ws(' ', person_key, person_id, name, tier, coalesce(note, '-'), ${ts('valid_from')}, coalesce(${ts('valid_to')}, 'open'), CASE WHEN is_current THEN 'current' ELSE 'closed' END) AS v
                                      FROM dim_people ORDER BY person_id, valid_from`)).map((r) => r.v);
  const updatedAt = async (id: number) => (await ops(`SELECT ${ts('updated_at')} AS t FROM people WHERE id = ${id}`))[0]!.t as string;

  it('scd2: a version per tracked state, untracked columns in place, deletes close, re-reads change nothing', async () => {
    const first = await ws.run(dim);
    expect(first.load).toBe('full');
    // First versions start at created_at (not updated_at).
    expect(await versions()).toEqual([
      '1 1 ann a - 2024-01-01 00:00:00.000000 open current',
      '2 2 bob b - 2024-01-01 00:00:00.000000 open current',
    ]);
    await ops(`UPDATE people SET name = 'anna', updated_at = now() WHERE id = 1`);
    await ops(`UPDATE people SET note = 'vip', updated_at = now() WHERE id = 2`);
    const second = await ws.run(dim);
    expect(second.load).toBe('incremental');
    expect(second.rowsRead).toBe(2); // only the two changed rows
    const t1 = await updatedAt(1);
    expect(await versions()).toEqual([
      `1 1 ann a - 2024-01-01 00:00:00.000000 ${t1} closed`,
      `3 1 anna a - ${t1} open current`,
      '2 2 bob b vip 2024-01-01 00:00:00.000000 open current',
    ]);
    // The same rows read again (a full read) change nothing.
    await ws.run(dim);
    expect(await versions()).toHaveLength(3);

    await ops(`UPDATE people SET gone = true, updated_at = now() WHERE id = 1`);
    await ops(`INSERT INTO people VALUES (3, 'cy', 'c', NULL, false, now(), now())`);
    await ws.run(dim);
    const gone = await updatedAt(1);
    const t3 = await updatedAt(3);
    expect(await versions()).toEqual([
      `1 1 ann a - 2024-01-01 00:00:00.000000 ${t1} closed`,
      `3 1 anna a - ${t1} ${gone} closed`,
      '2 2 bob b vip 2024-01-01 00:00:00.000000 open current',
      `4 3 cy c - ${t3} open current`,
    ]);
    // A hard delete is only seen by a full load, which closes the key's current version.
    await ops(`DELETE FROM people WHERE id = 2`);
    await ws.run(dim);
    expect((await versions())[2]).toBe('2 2 bob b vip 2024-01-01 00:00:00.000000 open current');
    const full = await ws.run(dim, {}, { load: 'full' });
    expect(full.load).toBe('full');
    const bob = await ws.query<{ closed: boolean; current: boolean }>(`SELECT valid_to IS NOT NULL AS closed, is_current AS current FROM dim_people WHERE person_id = 2`);
    expect(bob).toEqual([{ closed: true, current: false }]);
    // watermarks per (system, table, job); etl_run_log-style record through the job result
    const wm = await ws.query<{ k: string }>(`SELECT source_system || '.' || table_name || '.' || job AS k FROM etl_watermarks ORDER BY 1`);
    expect(wm).toEqual([{ k: 'ops.people.dim_people' }]);
  });

  it('lookups: the version valid at the event, the first one before it, refreshed when a back-dated version arrives', async () => {
    // person 3 (cy) has one version from t3; person 1 has versions ann [2024-01-01, t1), anna [t1, gone)
    await ops(`INSERT INTO buys (id, person_id, bought_at) VALUES (1, 1, '2024-06-01Z'), (2, 1, now() + interval '1 day'), (3, 3, '2023-01-01Z'), (4, 99, now())`);
    await ws.run(fact);
    const keys = async () => (await ws.query<{ k: string }>(`SELECT buy_id || ':' || coalesce(person_key::text, 'null') AS k FROM fact_buys ORDER BY buy_id`)).map((r) => r.k);
    // 1: ann (key 1) was valid on 2024-06-01; 2: after the delete, the last version (3);
    // 3: before cy's first version → that first version (4); 4: unknown person → null.
    expect(await keys()).toEqual(['1:1', '2:3', '3:4', '4:null']);

    // cy changes with a back-dated updated_at (a late commit): buy 5 at now is already loaded with key 4.
    await ops(`INSERT INTO buys (id, person_id, bought_at) VALUES (5, 3, now())`);
    await ws.run(fact);
    expect((await keys())[4]).toBe('5:4');
    await ops(`UPDATE people SET tier = 'z', updated_at = now() - interval '1 hour' WHERE id = 3`);
    await ws.run(dim);
    const cyKey = (await ws.query<{ k: string }>(`SELECT person_key::text AS k FROM dim_people WHERE person_id = 3 AND is_current`))[0]!.k;
    await ws.run(fact); // no new buys: the refresh alone moves buy 5 to the new version
    expect((await keys())[4]).toBe(`5:${cyKey}`);
  });

  it('names the table and column a source lacks, and refuses duplicate natural keys without writing', async () => {
    const missing = ws.layout('missing_col', {
      name: 'missing_col',
      inputSources: [{ name: 'p', type: 'jdbc', connection: 'OPS', table: 'people', query: 'SELECT id, email FROM people' }],
      transformSql: 'SELECT * FROM p',
      output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'nothing', mode: 'append' },
    });
    expect(await errorText(() => ws.run(missing))).toContain('source "p": table people on connection OPS has no column email');

    await ops(`INSERT INTO people VALUES (3, 'cy2', 'c', NULL, false, now(), now())`); // people has no primary key: a duplicate id
    const before = await versions();
    const wmBefore = await ws.query(`SELECT watermark FROM etl_watermarks`);
    const text = await errorText(() => ws.run(dim, {}, { load: 'full' }));
    expect(text).toContain('1 scd2 keys appear more than once in the result; nothing was written');
    expect(await versions()).toEqual(before);
    expect(await ws.query(`SELECT watermark FROM etl_watermarks`)).toEqual(wmBefore);
  });
});

describe('warehouse schedules', () => {
  const paths = resolvePaths({ GAMEPIPE_HOME: '/nonexistent/gamepipe-home' });
  const shipped = withPipelineSchedules([]);
  const crons = (env: NodeJS.ProcessEnv) =>
    warehouseSchedules(shipped, env, paths, { connections: {} }).filter((s) => s.pipeline === 'warehouse').map((s) => `${s.name} ${s.cron} ${s.load ?? 'incremental'}`);

  it('every 5 minutes and a full load at 02:00 UTC by default, moved by ETL_INTERVAL_MINUTES / ETL_FULL_LOAD_HOUR', () => {
    expect(crons({ GAMEPIPE_CONN_USER_SERVICE: 'postgres://x/y' })).toEqual(['warehouse-incremental */5 * * * * incremental', 'warehouse-full 0 2 * * * full']);
    expect(crons({ GAMEPIPE_CONN_GAME_SERVICE: 'embedded', ETL_INTERVAL_MINUTES: '15', ETL_FULL_LOAD_HOUR: '4' }))
      .toEqual(['warehouse-incremental */15 * * * * incremental', 'warehouse-full 0 4 * * * full']);
    expect(crons({})).toEqual([]); // no source configured or initialized: nothing to sync
    expect(() => crons({ GAMEPIPE_CONN_USER_SERVICE: 'embedded', ETL_FULL_LOAD_HOUR: '25' })).toThrow('ETL_FULL_LOAD_HOUR=25');
  });
});
