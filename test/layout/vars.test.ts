import { describe, expect, it } from 'vitest';
import { GamepipeError } from '../../src/core/errors.js';
import { checkVarValue, parseVarsArg, resolveVars } from '../../src/layout/vars.js';
import { renderPlaceholders } from '../../src/layout/render.js';
import { errorText } from '../helpers/errors.js';
import { addDays } from '../../src/core/dates.js';

describe('vars', () => {
  it('parses k=v lists and repeated flags', () => {
    expect(parseVarsArg(['logDate=2024-12-29,gameId=game_1', 'level=3'])).toEqual({
      logDate: '2024-12-29',
      gameId: 'game_1',
      level: '3',
    });
  });

  it('types logDate as a real calendar date', async () => {
    expect(resolveVars({ logDate: '2024-12-29' }, {}, {})).toEqual({ logDate: '2024-12-29' });
    expect(() => resolveVars({ logDate: '2024-02-30' }, {}, {})).toThrow(/invalid value "2024-02-30"/);
    expect(await errorText(() => resolveVars({ logDate: '29/12/2024' }, {}, {}))).toMatch(/expected: a calendar date YYYY-MM-DD/);
  });

  it('refuses SQL injection in any var', () => {
    const attack = "2024-12-29'; drop table x; --";
    expect(() => resolveVars({ logDate: attack }, {}, {})).toThrow(GamepipeError);
    expect(() => resolveVars({ gameId: "g1' OR '1'='1" }, {}, {})).toThrow(/invalid value/);
    expect(() => resolveVars({ dir: '../../etc' }, {}, {})).toThrow(/invalid value/);
    expect(checkVarValue('string', 'game_1')).toBe(true);
    expect(checkVarValue('string', 'a;b')).toBe(false);
  });

  it('applies declared types, defaults, enumerations and required vars', async () => {
    const specs = {
      minLevel: { type: 'integer' as const, default: '1' },
      tier: { type: 'identifier' as const, values: ['A', 'B'] },
    };
    expect(resolveVars({ tier: 'A' }, specs, {})).toEqual({ minLevel: '1', tier: 'A' });
    expect(await errorText(() => resolveVars({ tier: 'C' }, specs, {}))).toMatch(/expected: one of A, B/);
    expect(() => resolveVars({}, specs, {})).toThrow(/var "tier" is required/);
    expect(await errorText(() => resolveVars({ tier: 'A', minLevel: '1.5' }, specs, {}))).toMatch(/expected: an integer/);
  });

  it('does not let built-in vars be overridden', () => {
    expect(() => resolveVars({ lake: '/tmp' }, {}, { lake: '/data/lake' })).toThrow(/built in/);
  });

  it('renders placeholders and names an unknown one', async () => {
    expect(renderPlaceholders("ds = '{logDate}'", { logDate: '2024-12-29' }, { jsonPath: '$.transformSql' })).toBe("ds = '2024-12-29'");
    // DuckDB struct literals are not placeholders
    expect(renderPlaceholders("SELECT {'a': 1}", {}, { jsonPath: '$.transformSql' })).toBe("SELECT {'a': 1}");
    expect(await errorText(() => renderPlaceholders('{nope}', {}, { file: 'x.json', jsonPath: '$.transformSql' }))).toMatch(/x\.json: \$\.transformSql: unknown placeholder \{nope\}/);
  });

  it('adds days across month and year ends', () => {
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
  });
});
