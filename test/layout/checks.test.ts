import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { compileChecks } from '../../src/engine/checks/compile.js';
import { checkName, checkSchema } from '../../src/layout/checks.js';
import { errorText } from '../helpers/errors.js';

const checks = z.array(checkSchema);

describe('check schema', () => {
  it('fills in defaults: level error, rowCount min 1, reconcile tolerance 0', () => {
    expect(checks.parse([
      { type: 'rowCount' },
      { type: 'reconcile', left: ' SELECT 1 ', right: 'SELECT 1' },
      { type: 'notNull', columns: ['a'], level: 'warn', name: 'a_set', description: 'why' },
    ])).toEqual([
      { type: 'rowCount', level: 'error', min: 1 },
      { type: 'reconcile', level: 'error', left: 'SELECT 1', right: 'SELECT 1', tolerance: 0 },
      { type: 'notNull', columns: ['a'], level: 'warn', name: 'a_set', description: 'why' },
    ]);
  });

  it('is strict and checks each type\'s keys', () => {
    const issues = (input: unknown) => {
      const result = checks.safeParse([input]);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    };
    expect(issues({ type: 'notNull', column: ['a'] })).toEqual(expect.arrayContaining(['0: unrecognized_keys', '0.columns: invalid_type']));
    expect(issues({ type: 'notNull', columns: [] })).toEqual(['0.columns: too_small']);
    expect(issues({ type: 'rowCount', min: 5, max: 2 })).toEqual(['0.max: custom']);
    expect(issues({ type: 'rowCount', min: -1 })).toEqual(['0.min: too_small']);
    expect(issues({ type: 'acceptedValues', column: 'a', values: [] })).toEqual(['0.values: too_small']);
    expect(issues({ type: 'acceptedValues', column: 'a', values: [null] })).toEqual(['0.values.0: invalid_union']);
    expect(issues({ type: 'relationships', column: 'a', to: 'x.y', field: 'b' })).toEqual(['0.to: invalid_format']);
    expect(issues({ type: 'reconcile', left: '  ', right: 'SELECT 1' })).toEqual(['0.left: too_small']);
    expect(issues({ type: 'reconcile', left: 'SELECT 1', right: 'SELECT 1', tolerance: -1 })).toEqual(['0.tolerance: too_small']);
    expect(issues({ type: 'expression', sql: 'SELECT 1', level: 'fatal' })).toEqual(['0.level: invalid_value']);
    expect(issues({ type: 'notUnique' })).toEqual(['0.type: invalid_union']);
  });

  it('derives names from the type and columns', () => {
    const parsed = checks.parse([
      { type: 'rowCount' },
      { type: 'rowCount', min: 0, max: 10 },
      { type: 'notNull', columns: ['a', 'b'] },
      { type: 'unique', columns: ['ds', 'user_id'] },
      { type: 'acceptedValues', column: 'platform', values: ['ios'] },
      { type: 'relationships', column: 'user_id', to: 'users', field: 'id' },
      { type: 'reconcile', left: 'SELECT 1', right: 'SELECT 1' },
      { type: 'expression', sql: 'SELECT 1' },
      { type: 'expression', sql: 'SELECT 1', name: 'custom' },
    ]);
    expect(parsed.map(checkName)).toEqual([
      'row_count(>=1)',
      'row_count(0..10)',
      'not_null(a, b)',
      'unique(ds, user_id)',
      'accepted_values(platform)',
      'relationships(user_id -> users.id)',
      'reconcile[6]',
      'expression[7]',
      'custom',
    ]);
  });
});

describe('compileChecks', () => {
  it('renders {var} placeholders in check SQL and leaves $output and other checks alone', () => {
    const parsed = checks.parse([
      { type: 'reconcile', left: 'SELECT sum(n) FROM $output', right: "SELECT sum(n) FROM main_data WHERE ds = DATE '{logDate}'" },
      { type: 'expression', sql: "SELECT * FROM $output WHERE ds <> DATE '{logDate}'" },
      { type: 'acceptedValues', column: 'x', values: ['{kept}'] },
    ]);
    const compiled = compileChecks(parsed, { logDate: '2024-12-29' }, { file: 'l.json' });
    expect(compiled[0]).toMatchObject({ left: 'SELECT sum(n) FROM $output', right: "SELECT sum(n) FROM main_data WHERE ds = DATE '2024-12-29'" });
    expect(compiled[1]).toMatchObject({ sql: "SELECT * FROM $output WHERE ds <> DATE '2024-12-29'" });
    expect(compiled[2]).toBe(parsed[2]);
    expect(parsed[0]).toMatchObject({ right: "SELECT sum(n) FROM main_data WHERE ds = DATE '{logDate}'" });
  });

  it('names an unknown placeholder with its JSON path', async () => {
    const parsed = checks.parse([{ type: 'rowCount' }, { type: 'expression', sql: "SELECT 1 WHERE '{nope}' = ''" }]);
    const text = await errorText(() => compileChecks(parsed, { logDate: '2024-12-29' }, { file: 'l.json' }));
    expect(text).toMatch(/^l.json: \$.checks\[1\].sql: unknown placeholder \{nope\}/);
  });
});
