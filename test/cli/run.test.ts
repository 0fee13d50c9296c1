import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gamepipe } from '../helpers/cli.js';
import { createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';

/** The CLI as a user runs it: exit codes, human and JSON output, dry runs, templates, errors. */
describe('gamepipe run / validate', () => {
  let ws: Workspace;
  let layout: string;
  const cli = (...args: string[]) => gamepipe(args, { cwd: ws.dir, env: ws.env });

  beforeAll(async () => {
    ws = await createWorkspace();
    writeFiles(ws.dir, {
      'raw/ds=2024-12-29/a.ndjson': '{"user_id":"u1","amount":2}\n{"user_id":"u2","amount":3}\n{"user_id":"u1","amount":4}\n',
      'layouts/templates/revenue.sql.j2': [
        '-- {{ logDate }} and the day before: {{ logDate | addDays(-1) }}',
        'CREATE TEMP TABLE totals AS SELECT user_id, sum(amount) AS amount FROM ev GROUP BY ALL;',
        "SELECT DATE '{{ logDate }}' AS ds, user_id, amount{% if withRank == 'yes' %}, rank() OVER (ORDER BY amount DESC) AS rnk{% endif %}",
        'FROM totals ORDER BY user_id',
      ].join('\n'),
    });
    layout = ws.layout('revenue', {
      name: 'revenue',
      layer: 'cons',
      vars: { withRank: { type: 'identifier', default: 'yes', values: ['yes', 'no'] } },
      inputSources: [{ name: 'ev', type: 'file', path: 'raw/ds={logDate}', format: 'ndjson' }],
      transformTemplate: 'templates/revenue.sql.j2',
      output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'revenue', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
    });
  });
  afterAll(() => ws.close());

  it('--dry-run prints the rendered SQL and the plan, and touches nothing', () => {
    const res = cli('run', '--layout', layout, '--vars', 'logDate=2024-12-29', '--dry-run');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('-- 2024-12-29 and the day before: 2024-12-28');
    expect(res.stdout).toContain("SELECT DATE '2024-12-29' AS ds, user_id, amount, rank() OVER (ORDER BY amount DESC) AS rnk");
    expect(res.stdout).toContain('DELETE FROM "revenue" WHERE "ds" = $1   -- "2024-12-29"');
    expect(res.stdout).toMatch(/WAREHOUSE\.revenue \((embedded|server)/);
    // no embedded database was even opened, no lake written
    expect(fs.existsSync(path.join(ws.paths.home, 'pglite'))).toBe(false);
  });

  it('runs a template job with several statements and prints a summary (and JSON)', async () => {
    const human = cli('run', '--layout', layout, '--vars', 'logDate=2024-12-29');
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✔ revenue \[logDate=2024-12-29,withRank=yes\]: read 3 rows, wrote 2 rows to WAREHOUSE\.revenue/);
    const json = cli('run', '--layout', layout, '--vars', 'logDate=2024-12-29,withRank=no', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ job: 'revenue', rowsRead: 3, rowsWritten: 2, replaced: { rowsDeleted: 2 } });
    const rows = await ws.query<{ user_id: string; amount: unknown }>('SELECT user_id, amount::float8 AS amount FROM revenue ORDER BY user_id');
    expect(rows).toEqual([{ user_id: 'u1', amount: 6 }, { user_id: 'u2', amount: 3 }]);
    // each run is recorded like a pipeline job: a layout outside a pipeline folder is "standalone"
    const runs = await ws.query<{ pipeline: string; job: string; vars: unknown; status: string; rows_written: number }>(
      'SELECT pipeline, job, vars, status, rows_written::float8 AS rows_written FROM etl_run_log ORDER BY started_at',
    );
    expect(runs).toEqual([
      { pipeline: 'standalone', job: 'revenue', vars: { logDate: '2024-12-29' }, status: 'succeeded', rows_written: 2 },
      { pipeline: 'standalone', job: 'revenue', vars: { logDate: '2024-12-29', withRank: 'no' }, status: 'succeeded', rows_written: 2 },
    ]);
    await ws.connections.closeAll(); // release the embedded database for the next CLI process
  });

  it('refuses an injected var with a clear message and touches nothing', async () => {
    const res = cli('run', '--layout', layout, '--vars', "logDate=2024-12-29'; drop table revenue; --");
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`job revenue: var "logDate" has an invalid value "2024-12-29'; drop table revenue; --"`);
    expect(res.stderr).toContain('expected: a calendar date YYYY-MM-DD');
    expect(await ws.query('SELECT count(*)::int AS n FROM revenue')).toEqual([{ n: 2 }]);
    await ws.connections.closeAll();
  });

  it('shows an SQL error with the job, the file and the rendered SQL around the failing line', () => {
    const broken = ws.layout('broken', {
      name: 'broken',
      inputSources: [{ name: 'ev', type: 'file', path: 'raw/ds={logDate}', format: 'ndjson' }],
      transformSql: "SELECT user_id,\n       sum(amount) AS amount,\n       sum(nope) AS bad\nFROM ev\nWHERE ds = '{logDate}'\nGROUP BY ALL",
      output: { type: 'file', path: '{lake}/broken', mode: 'overwrite' },
    });
    const res = cli('run', '--layout', broken, '--vars', 'logDate=2024-12-29');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${broken}: $.transformSql: job broken: transform failed: Binder Error: Referenced column "nope" not found`);
    expect(res.stderr).toMatch(/> 4 \|\s+sum\(nope\) AS bad/);
    expect(res.stderr).toContain("WHERE ds = '2024-12-29'");
  });

  it('validate checks format, template and SQL syntax of several files', () => {
    const typo = ws.layout('typo', { name: 'typo', inputSources: [], transformSql: 'SELECT 1 FORM x', output: { type: 'file', path: '/tmp/x', mode: 'overwrite' } });
    const unknownKey = ws.layout('unknown_key', { name: 'k', inputSource: [], transformSql: 'SELECT 1', output: { type: 'file', path: '/tmp/x', mode: 'overwrite' } });
    const ok = cli('validate', layout);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✔');
    const bad = cli('validate', layout, typo, unknownKey);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${typo}: $.transformSql: job typo: SQL syntax of transform statement 1 failed: Parser Error`);
    expect(bad.stdout).toContain(`${unknownKey}: $: unknown key "inputSource"`);
    expect(bad.stderr).toContain('2 of 3 layouts invalid');
  });

  it('exits non-zero with usage help for a missing --layout', () => {
    const res = cli('run');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/required option '-l, --layout <file>' not specified/);
  });
});
