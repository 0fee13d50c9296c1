import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/engine/checks/runChecks.js';
import { createWorkspace, writeFiles, type Workspace } from '../../helpers/workspace.js';
import { errorText } from '../../helpers/errors.js';

/**
 * Checks declared in a layout, through runJob: a failed error-level check stops the job
 * before anything is written.
 */
describe('checks in a job run', () => {
  let ws: Workspace;
  let rawDir: string;

  const layout = (name: string, checks: unknown[], output: Record<string, unknown>) =>
    ws.layout(name, {
      name,
      inputSources: [{ name: 'main_data', type: 'file', path: `${rawDir}/ds={logDate}`, format: 'ndjson' }],
      transformSql: 'SELECT CAST(ds AS DATE) AS ds, user_id, amount FROM main_data',
      output,
      checks,
    });

  beforeAll(async () => {
    ws = await createWorkspace();
    rawDir = path.join(ws.dir, 'raw');
    writeFiles(rawDir, {
      'ds=2024-12-28/a.ndjson': '{"user_id":"u1","amount":1}\n{"user_id":"u2","amount":2}\n{"user_id":"u2","amount":3}\n',
    });
  });
  afterAll(() => ws.close());

  it('a failed error-level check means no PostgreSQL table is written', async () => {
    const file = layout('guarded', [
      { type: 'unique', columns: ['user_id'] },
      { type: 'reconcile', left: 'SELECT sum(amount) FROM $output', right: "SELECT sum(amount) FROM main_data WHERE ds = '{logDate}'" },
    ], { type: 'jdbc', connection: 'WAREHOUSE', table: 'guarded', mode: 'overwrite' });
    const text = await errorText(() => ws.run(file, { logDate: '2024-12-28' }));
    expect(text).toContain('$.checks[0]: job guarded: check unique(user_id) failed: 1 duplicate key (2 rows)');
    expect(text).toContain('{"user_id":"u2","copies":2}');
    expect(await ws.query(`SELECT to_regclass('guarded')::text AS t`)).toEqual([{ t: null }]);
  });

  it('a failed error-level check means no files are written; warn failures come back in the result', async () => {
    const out = path.join(ws.dir, 'lake/out');
    const bad = layout('guarded_file', [{ type: 'rowCount', min: 10 }], { type: 'file', path: out, mode: 'overwrite' });
    expect(await errorText(() => ws.run(bad, { logDate: '2024-12-28' }))).toContain('job guarded_file: check row_count(>=10) failed: 3 rows, fewer than 10');
    expect(fs.existsSync(out)).toBe(false);

    const warned = layout('warned_file', [{ type: 'unique', columns: ['user_id'], level: 'warn' }, { type: 'rowCount' }], { type: 'file', path: out, mode: 'overwrite' });
    const result = await ws.run(warned, { logDate: '2024-12-28' });
    expect(result.rowsWritten).toBe(3);
    const checks = (result as unknown as { checks: CheckResult[] }).checks;
    expect(checks.map((c) => [c.name, c.level, c.passed])).toEqual([['unique(user_id)', 'warn', false], ['row_count(>=1)', 'error', true]]);
  });

  it('names $.checks paths for a malformed check and an unknown placeholder', async () => {
    const typo = layout('typo', [{ type: 'notNull', column: ['x'] }], { type: 'file', path: 'x', mode: 'overwrite' });
    expect(await errorText(() => ws.run(typo, { logDate: '2024-12-28' }))).toContain('$.checks[0]: unknown key "column"');
    const placeholder = layout('placeholder', [{ type: 'expression', sql: "SELECT 1 WHERE '{nope}' = ''" }], { type: 'file', path: 'x', mode: 'overwrite' });
    expect(await errorText(() => ws.run(placeholder, { logDate: '2024-12-28' }))).toContain('$.checks[0].sql: job placeholder: unknown placeholder {nope}');
  });
});
