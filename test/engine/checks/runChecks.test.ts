import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamepipeError } from '../../../src/core/errors.js';
import { DuckEngine } from '../../../src/engine/duckdb.js';
import { runChecks } from '../../../src/engine/checks/runChecks.js';
import { checkSchema, type CheckInput } from '../../../src/layout/checks.js';
import { errorText } from '../../helpers/errors.js';

/** Data checks on a job's result, against a real in-memory DuckDB with small fixtures. */
describe('runChecks', () => {
  let dir: string;
  let engine: DuckEngine;
  const context = { file: 'layouts/daily_rev.json', job: 'daily_rev' };

  const run = (relation: string, checks: CheckInput[]) => runChecks(engine, relation, z.array(checkSchema).parse(checks), context);
  const one = async (relation: string, check: CheckInput) => (await run(relation, [{ ...check, level: 'warn' } as CheckInput]))[0]!;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-checks-'));
    engine = await DuckEngine.open(dir, { threads: 1 });
    // A source table and a source view, as the job's sources would be.
    await engine.run(`CREATE TABLE users AS SELECT * FROM (VALUES ('u1', 'vn'), ('u2', 'th'), ('u3', 'vn')) v(user_id, country)`);
    await engine.run(`CREATE VIEW payments AS SELECT * FROM (VALUES
      ('u1', 10.50::DECIMAL(12,2)), ('u2', 5.00), ('u2', 0.25), ('u3', 1.00)) v(user_id, amount)`);
    // A clean result, as the transform would leave it in __gamepipe_output.
    await engine.run(`CREATE TABLE __gamepipe_output AS SELECT DATE '2024-12-29' AS ds, * FROM (VALUES
      ('u1', 'ios', 10.50::DECIMAL(12,2)), ('u2', 'android', 5.25), ('u3', 'ios', 1.00)) v(user_id, platform, amount)`);
    // A result with every kind of problem.
    await engine.run(`CREATE TABLE bad AS SELECT * FROM (VALUES
      ('u1', 'ios', 10.5), ('u1', 'ios', 1.0), ('u2', 'ps5', 2.0), (NULL, 'wii', 3.0),
      ('u9', 'android', 4.0), ('u9', NULL, 5.0), ('u8', 'ps5', 6.0)) v(user_id, platform, amount)`);
    await engine.run(`CREATE TABLE empty AS SELECT * FROM __gamepipe_output WHERE false`);
  });
  afterAll(() => {
    engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('returns one passing result per check on a clean result', async () => {
    const results = await run('__gamepipe_output', [
      { type: 'rowCount' },
      { type: 'notNull', columns: ['ds', 'user_id'] },
      { type: 'unique', columns: ['user_id'] },
      { type: 'acceptedValues', column: 'platform', values: ['ios', 'android'] },
      { type: 'relationships', column: 'user_id', to: 'users', field: 'user_id' },
      { type: 'reconcile', left: 'SELECT sum(amount) FROM $output', right: 'SELECT sum(amount) FROM payments' },
      { type: 'expression', sql: 'SELECT * FROM $output WHERE amount < 0' },
    ]);
    expect(results.map((r) => [r.name, r.type, r.level, r.passed, r.failingRows])).toEqual([
      ['row_count(>=1)', 'rowCount', 'error', true, 0],
      ['not_null(ds, user_id)', 'notNull', 'error', true, 0],
      ['unique(user_id)', 'unique', 'error', true, 0],
      ['accepted_values(platform)', 'acceptedValues', 'error', true, 0],
      ['relationships(user_id -> users.user_id)', 'relationships', 'error', true, 0],
      ['reconcile[5]', 'reconcile', 'error', true, 0],
      ['expression[6]', 'expression', 'error', true, 0],
    ]);
    expect(results.every((r) => r.sample === undefined)).toBe(true);
    expect(results[0]!.message).toBe('3 rows');
    expect(results[5]!.message).toBe('left 16.75, right 16.75');
  });

  describe('rowCount', () => {
    it('fails on an empty result by default, and outside min..max', async () => {
      const empty = await one('empty', { type: 'rowCount' });
      expect(empty).toMatchObject({ passed: false, failingRows: 1, message: '0 rows, fewer than 1' });
      const tooMany = await one('__gamepipe_output', { type: 'rowCount', min: 1, max: 2 });
      expect(tooMany).toMatchObject({ name: 'row_count(1..2)', passed: false, failingRows: 1, message: '3 rows, more than 2' });
      expect((await one('__gamepipe_output', { type: 'rowCount', min: 3, max: 3 })).passed).toBe(true);
      expect((await one('empty', { type: 'rowCount', min: 0 })).passed).toBe(true);
    });

    it('names the job, the check and what was expected', async () => {
      const text = await errorText(() => run('empty', [{ type: 'rowCount', min: 10 }]));
      expect(text).toBe('layouts/daily_rev.json: $.checks[0]: job daily_rev: check row_count(>=10) failed: 0 rows, fewer than 10\n  expected: at least 10 rows');
    });
  });

  describe('notNull', () => {
    it('counts rows with a NULL in any of the columns, per column', async () => {
      const single = await one('bad', { type: 'notNull', columns: ['user_id'] });
      expect(single).toMatchObject({ passed: false, failingRows: 1, message: '1 row with NULL user_id' });
      expect(single.sample).toEqual([{ user_id: null, platform: 'wii', amount: '3.0' }]);
      const both = await one('bad', { type: 'notNull', columns: ['user_id', 'platform'] });
      expect(both).toMatchObject({ passed: false, failingRows: 2, message: '2 rows with NULLs (user_id: 1, platform: 1)' });
      expect(both.sample).toHaveLength(2);
    });

    it('shows the offending rows in the error', async () => {
      const text = await errorText(() => run('bad', [{ type: 'notNull', columns: ['user_id'] }]));
      expect(text).toBe([
        'layouts/daily_rev.json: $.checks[0]: job daily_rev: check not_null(user_id) failed: 1 row with NULL user_id',
        '  expected: no NULL in user_id',
        'sample rows:',
        '  {"user_id":null,"platform":"wii","amount":"3.0"}',
      ].join('\n'));
    });
  });

  describe('unique', () => {
    it('finds duplicated keys of one column or a combination', async () => {
      const byUser = await one('bad', { type: 'unique', columns: ['user_id'] });
      expect(byUser).toMatchObject({ passed: false, failingRows: 4, message: '2 duplicate keys (4 rows)' });
      expect(byUser.sample).toEqual([{ user_id: 'u1', copies: 2 }, { user_id: 'u9', copies: 2 }]);
      const byPair = await one('bad', { type: 'unique', columns: ['user_id', 'platform'] });
      expect(byPair).toMatchObject({ passed: false, failingRows: 2, message: '1 duplicate key (2 rows)' });
      expect(byPair.sample).toEqual([{ user_id: 'u1', platform: 'ios', copies: 2 }]);
      expect((await one('bad', { type: 'unique', columns: ['user_id', 'amount'] })).passed).toBe(true);
    });

    it('puts the duplicate keys in the error detail', async () => {
      const err = await run('bad', [{ type: 'unique', columns: ['user_id'] }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GamepipeError);
      const { message, context: ctx } = err as GamepipeError;
      expect(message).toBe('check unique(user_id) failed: 2 duplicate keys (4 rows)');
      expect(ctx).toMatchObject({ job: 'daily_rev', file: 'layouts/daily_rev.json', jsonPath: '$.checks[0]', expected: 'one row per (user_id)' });
      expect(ctx.detail).toBe('sample keys:\n  {"user_id":"u1","copies":2}\n  {"user_id":"u9","copies":2}');
    });
  });

  describe('acceptedValues', () => {
    it('lists the values not accepted, NULL being accepted', async () => {
      const result = await one('bad', { type: 'acceptedValues', column: 'platform', values: ['ios', 'android'] });
      expect(result).toMatchObject({ passed: false, failingRows: 3, message: '3 rows with 2 values not accepted: "ps5", "wii"' });
      expect(result.sample).toEqual([{ platform: 'ps5', rows: 2 }, { platform: 'wii', rows: 1 }]);
      expect((await one('bad', { type: 'acceptedValues', column: 'platform', values: ['ios', 'android', 'ps5', 'wii'] })).passed).toBe(true);
    });

    it('casts the values to the column type (numbers, booleans, strings)', async () => {
      await engine.run(`CREATE TABLE typed AS SELECT * FROM (VALUES (1, true, 'a'), (2, false, '1'), (3, NULL, NULL)) v(n, flag, s)`);
      expect((await one('typed', { type: 'acceptedValues', column: 'n', values: [1, 2, '3'] })).passed).toBe(true);
      expect((await one('typed', { type: 'acceptedValues', column: 'n', values: [1, 2] })).message).toBe('1 row with 1 value not accepted: 3');
      expect((await one('typed', { type: 'acceptedValues', column: 'flag', values: [true] })).failingRows).toBe(1);
      expect((await one('typed', { type: 'acceptedValues', column: 's', values: ['a', 1] })).passed).toBe(true);
      const text = await errorText(() => run('typed', [{ type: 'acceptedValues', column: 'n', values: [1, 'two'] }]));
      expect(text).toMatch(/^layouts\/daily_rev.json: \$.checks\[0\].values: job daily_rev: running check accepted_values\(n\) failed: Conversion Error: .*'two'/);
    });
  });

  describe('relationships', () => {
    it('finds values missing from another table, ignoring NULLs', async () => {
      const result = await one('bad', { type: 'relationships', column: 'user_id', to: 'users', field: 'user_id' });
      expect(result).toMatchObject({ passed: false, failingRows: 3, message: '3 rows with 2 user_id values missing from users.user_id' });
      expect(result.sample).toEqual([{ user_id: 'u9', rows: 2 }, { user_id: 'u8', rows: 1 }]);
    });

    it('works against a view (a file source) and a relation named in another case', async () => {
      const result = await one('__gamepipe_output', { type: 'relationships', column: 'user_id', to: 'Payments', field: 'USER_ID' });
      expect(result.passed).toBe(true);
    });

    it('names an unknown relation or field, whatever the level', async () => {
      const missing = await errorText(() => run('bad', [{ type: 'relationships', column: 'user_id', to: 'userz', field: 'user_id', level: 'warn' }]));
      expect(missing).toContain('$.checks[0].to: job daily_rev: check relationships(user_id -> userz.user_id): relation userz not found');
      expect(missing).toMatch(/expected: a source of the layout or a table the transform created \(.*\bpayments\b.*\busers\b/);
      expect(missing).not.toContain('__gamepipe_output');
      const field = await errorText(() => run('bad', [{ type: 'relationships', column: 'user_id', to: 'users', field: 'id' }]));
      expect(field).toContain('$.checks[0].field: job daily_rev: check relationships(user_id -> users.id): column id not in users');
      expect(field).toContain('expected: a column of users: user_id, country');
    });
  });

  describe('reconcile', () => {
    const check = (right: string, tolerance?: number): CheckInput => ({
      type: 'reconcile',
      name: 'revenue_matches',
      left: 'SELECT sum(amount) FROM $output',
      right,
      ...(tolerance !== undefined ? { tolerance } : {}),
    });

    it('compares two scalar queries exactly by default', async () => {
      const result = await one('__gamepipe_output', check('SELECT sum(amount) - 0.05 FROM payments'));
      expect(result).toMatchObject({ passed: false, failingRows: 1, message: 'left 16.75 ≠ right 16.70 (difference 0.05)' });
      expect(result.sample).toEqual([{ left: '16.75', right: '16.70', difference: '0.05' }]);
    });

    it('accepts an absolute difference up to the tolerance', async () => {
      expect((await one('__gamepipe_output', check('SELECT sum(amount) - 0.05 FROM payments', 0.05))).passed).toBe(true);
      expect((await one('__gamepipe_output', check('SELECT sum(amount) + 0.05 FROM payments', 0.05))).passed).toBe(true);
      const over = await one('__gamepipe_output', check('SELECT sum(amount) + 0.06 FROM payments', 0.05));
      expect(over).toMatchObject({ passed: false, message: 'left 16.75 ≠ right 16.81 (difference -0.06, tolerance 0.05)' });
      // doubles
      expect((await one('__gamepipe_output', check('SELECT 16.75::DOUBLE + 1e-9', 1e-6))).passed).toBe(true);
    });

    it('treats NULL as equal only to NULL, and compares non-numbers', async () => {
      expect((await one('empty', check('SELECT NULL'))).passed).toBe(true);
      expect((await one('empty', check('SELECT 0', 1))).message).toBe('left null ≠ right 0');
      expect((await one('__gamepipe_output', { type: 'reconcile', left: 'SELECT max(ds) FROM __gamepipe_output', right: "SELECT DATE '2024-12-29'" })).passed).toBe(true);
      const text = (await one('__gamepipe_output', { type: 'reconcile', left: 'SELECT max(user_id) FROM $output', right: "SELECT 'u4';" })).message;
      expect(text).toBe('left u3 ≠ right u4');
    });

    it('shows both queries in the error', async () => {
      const text = await errorText(() => run('__gamepipe_output', [check('SELECT sum(amount) FROM payments WHERE user_id <> $$u3$$', 0.5)]));
      expect(text).toBe([
        'layouts/daily_rev.json: $.checks[0]: job daily_rev: check revenue_matches failed: left 16.75 ≠ right 15.75 (difference 1.00, tolerance 0.5)',
        '  expected: |left - right| <= 0.5',
        'left:  SELECT sum(amount) FROM $output',
        "right: SELECT sum(amount) FROM payments WHERE user_id <> $$u3$$",
        'values:',
        '  {"left":"16.75","right":"15.75","difference":"1.00"}',
      ].join('\n'));
    });

    it('names the check when a query is not scalar', async () => {
      const text = await errorText(() => run('bad', [{ type: 'reconcile', left: 'SELECT amount FROM $output', right: 'SELECT 1' }]));
      expect(text).toContain('$.checks[0]: job daily_rev: running check reconcile[0] failed:');
      expect(text).toContain('More than one row returned by a subquery');
      expect(text).toContain('rendered SQL');
    });
  });

  describe('expression', () => {
    it('fails when the query returns rows, showing them', async () => {
      const result = await one('bad', { type: 'expression', name: 'no_big_amounts', sql: 'SELECT user_id, amount FROM $output WHERE amount > 5 ORDER BY amount;' });
      expect(result).toMatchObject({ name: 'no_big_amounts', passed: false, failingRows: 2, message: 'the query returned 2 rows' });
      expect(result.sample).toEqual([{ user_id: 'u8', amount: '6.0' }, { user_id: 'u1', amount: '10.5' }]);
    });

    it('can join the result with sources, and keeps `$output_x` names alone', async () => {
      await engine.run('CREATE TABLE "$output_x" AS SELECT 1 AS one');
      const sql = `SELECT o.user_id FROM $output o JOIN users u USING (user_id)
        WHERE u.country = 'vn' AND o.platform <> 'ios'
        -- a trailing comment
      `;
      expect((await one('__gamepipe_output', { type: 'expression', sql })).passed).toBe(true);
      expect((await one('__gamepipe_output', { type: 'expression', sql: 'SELECT * FROM "$output_x"' })).failingRows).toBe(1);
    });

    it('shows the SQL when the query does not run', async () => {
      const text = await errorText(() => run('bad', [{ type: 'expression', sql: 'SELECT nope FROM $output' }]));
      expect(text).toContain('$.checks[0].sql: job daily_rev: running check expression[0] failed: Binder Error: Referenced column "nope" not found');
      expect(text).toContain('SELECT nope FROM "bad"');
    });
  });

  it('warn-level failures do not throw; they come back with their samples', async () => {
    const results = await run('bad', [
      { type: 'unique', columns: ['user_id'], level: 'warn' },
      { type: 'notNull', columns: ['platform'], level: 'warn' },
      { type: 'rowCount' },
    ]);
    expect(results.map((r) => [r.name, r.level, r.passed])).toEqual([
      ['unique(user_id)', 'warn', false],
      ['not_null(platform)', 'warn', false],
      ['row_count(>=1)', 'error', true],
    ]);
    expect(results[1]!.sample).toEqual([{ user_id: 'u9', platform: null, amount: '5.0' }]);
  });

  /** The GamepipeError a run throws. */
  const failure = async (relation: string, checks: CheckInput[]): Promise<GamepipeError> => {
    const err = await run(relation, checks).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GamepipeError);
    return err as GamepipeError;
  };

  it('runs every check, then lists all error-level failures (not the warn ones)', async () => {
    const err = await failure('bad', [
      { type: 'rowCount' },
      { type: 'unique', columns: ['user_id'], description: 'one row per user and day' },
      { type: 'notNull', columns: ['platform'], level: 'warn' },
      { type: 'acceptedValues', column: 'platform', values: ['ios', 'android'] },
      { type: 'relationships', column: 'user_id', to: 'users', field: 'user_id', name: 'known_users' },
    ]);
    expect(err.message).toBe('3 checks failed: unique(user_id): 2 duplicate keys (4 rows); '
      + 'accepted_values(platform): 3 rows with 2 values not accepted: "ps5", "wii"; '
      + 'known_users: 3 rows with 2 user_id values missing from users.user_id');
    expect(err.context.jsonPath).toBe('$.checks[1]');
    expect(err.format()).toBe([
      `layouts/daily_rev.json: $.checks[1]: job daily_rev: ${err.message}`,
      '$.checks[1] check unique(user_id) failed: 2 duplicate keys (4 rows)',
      '  expected: one row per (user_id)',
      '  description: one row per user and day',
      '  sample keys:',
      '    {"user_id":"u1","copies":2}',
      '    {"user_id":"u9","copies":2}',
      '$.checks[3] check accepted_values(platform) failed: 3 rows with 2 values not accepted: "ps5", "wii"',
      '  expected: platform in ("ios", "android") or NULL',
      '  sample values:',
      '    {"platform":"ps5","rows":2}',
      '    {"platform":"wii","rows":1}',
      '$.checks[4] check known_users failed: 3 rows with 2 user_id values missing from users.user_id',
      '  expected: every non-NULL user_id to exist in users.user_id',
      '  sample values:',
      '    {"user_id":"u9","rows":2}',
      '    {"user_id":"u8","rows":1}',
    ].join('\n'));
  });

  it('caps samples at 5 rows', async () => {
    await engine.run('CREATE TABLE many AS SELECT i % 7 AS k FROM range(100) t(i)');
    const result = await one('many', { type: 'unique', columns: ['k'] });
    expect(result).toMatchObject({ failingRows: 100, message: '7 duplicate keys (100 rows)' });
    expect(result.sample).toHaveLength(5);
    const expr = await one('many', { type: 'expression', sql: 'SELECT * FROM $output' });
    expect(expr.failingRows).toBe(100);
    expect(expr.sample).toHaveLength(5);
  });

  it('names a column the result lacks, whatever the level', async () => {
    const text = await errorText(() => run('bad', [{ type: 'notNull', columns: ['user_id', 'ds'], level: 'warn' }]));
    expect(text).toBe('layouts/daily_rev.json: $.checks[0].columns: job daily_rev: check not_null(user_id, ds): column ds not in the result\n'
      + "  expected: columns among the result's: user_id, platform, amount");
  });

  it('returns no results for no checks', async () => {
    expect(await run('bad', [])).toEqual([]);
  });
});
