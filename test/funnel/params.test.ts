import { describe, expect, it } from 'vitest';
import { filteredBits, normalizeFilters, parseFunnelQuery, parseMethod } from '../../src/funnel/params.js';
import { rollupFor, splitRange } from '../../src/funnel/fastIndex.js';

/** The question's edge: every problem named, values deduplicated (case is folded later, by DuckDB: caseFold.ts). */

const parse = (params: Record<string, unknown>, gameId: unknown = 'game_1') => parseFunnelQuery({ gameId, params, extra: ['method'] });

describe('parseFunnelQuery', () => {
  it('splits comma lists and repeated parameters, drops duplicates and blanks, keeps case for the fold', () => {
    const r = parse({ from: '2024-01-01', to: '2024-01-31', platform: ['IOS, android', 'IOS'], country: 'us,,TR ', levelFunnelVersion: '01,2' });
    expect(r).toEqual({
      ok: true,
      value: { gameId: 'game_1', from: '2024-01-01', to: '2024-01-31', filters: { platform: ['IOS', 'android'], country: ['us', 'TR'], levelFunnelVersion: ['1', '2'] } },
    });
  });

  it('names every problem at once', () => {
    const r = parse({ from: '2024-02-30', to: 'x', plattform: 'ios', levelFunnelVersion: '1.5', appVersion: '' }, 'a/b');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      'unknown parameter "plattform"; expected from, to, installFrom, installTo, funnel, levelLimit, platform, country, appVersion, levelFunnel, levelFunnelVersion, method',
      'gameId: "a/b" is not a game id (letters, digits and _ . : @ + -)',
      'from: "2024-02-30" is not a calendar date YYYY-MM-DD',
      'to: "x" is not a calendar date YYYY-MM-DD',
      'appVersion: empty; expected one or more comma-separated values, e.g. appVersion=1.2.0',
      'levelFunnelVersion: "1.5" is not an integer (funnel versions are whole numbers, e.g. levelFunnelVersion=1,2)',
    ]);
  });

  it('reads funnel pairs and install cohorts', () => {
    expect(parse({ from: '2024-01-01', to: '2024-01-31', funnel: 'live_v1:15, LIVE_V2:016,live_v1:15', installFrom: '2023-12-01' })).toEqual({
      ok: true,
      value: { gameId: 'game_1', from: '2024-01-01', to: '2024-01-31', filters: {}, install: { from: '2023-12-01' },
        funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 15 }, { levelFunnel: 'LIVE_V2', levelFunnelVersion: 16 }] },
    });
    expect(parse({ from: '2024-01-01', to: '2024-01-31', funnel: 'a:b:3' })).toMatchObject({ ok: true, value: { funnelPairs: [{ levelFunnel: 'a:b', levelFunnelVersion: 3 }] } });
    expect(parse({ from: '2024-01-01', to: '2024-01-31', funnel: ':3,x:1.5', installTo: '2024-02-30' })).toMatchObject({
      ok: false, errors: ['installTo: "2024-02-30" is not a calendar date YYYY-MM-DD', 'funnel: ":3" is not a levelFunnel:version pair; expected levelFunnel:version pairs, e.g. funnel=live_v1:15,live_v2:16'],
    });
    expect(parse({ from: '2024-01-01', to: '2024-01-31', levelLimit: '20' })).toMatchObject({ ok: true, value: { levelLimit: 20 } });
    for (const bad of ['0', '-1', '2.5', 'ten', '10001']) {
      expect(parse({ from: '2024-01-01', to: '2024-01-31', levelLimit: bad })).toMatchObject({ ok: false, errors: [`levelLimit: "${bad}" is not a whole number from 1 to 10000`] });
    }
    expect(filteredBits({}, { funnelPairs: [{ levelFunnel: 'a', levelFunnelVersion: 1 }] })).toBe(3);
    expect(filteredBits({ platform: ['ios'] }, { install: { from: '2024-01-01' } })).toBe(48);
    expect([32, 48, 35, 3].map(rollupFor)).toEqual([32, 63, 63, 7]);
  });

  it('refuses reversed and overlong ranges', () => {
    expect(parse({ from: '2024-02-02', to: '2024-02-01' })).toMatchObject({ ok: false, errors: ['from 2024-02-02 is after to 2024-02-01'] });
    expect(parse({ from: '2000-01-01', to: '2024-01-01' })).toMatchObject({ ok: false, errors: [expect.stringMatching(/spans more than 3660 days/)] });
  });

  it('method defaults to fast', () => {
    const errors: string[] = [];
    expect(parseMethod(undefined, errors)).toBe('fast');
    expect(parseMethod('raw', errors)).toBe('raw');
    expect(errors).toEqual([]);
    parseMethod('RAW', errors);
    expect(errors).toEqual(['method: "RAW" is not one of fast, raw']);
  });

  it('normalizes filters built in code too, and routes them to the right rollup', () => {
    expect(normalizeFilters({ platform: ['IOS', 'IOS', 'ios'], levelFunnelVersion: ['02'] })).toEqual({ platform: ['IOS', 'ios'], levelFunnelVersion: ['2'] });
    expect(filteredBits({})).toBe(0);
    expect(filteredBits({ platform: ['ios'] })).toBe(16);
    expect(filteredBits({ country: ['us'], levelFunnelVersion: ['1'] })).toBe(9);
    expect([0, 16, 8, 4, 2, 1, 9, 31, 6, 7, 5, 20].map(rollupFor)).toEqual([0, 16, 8, 4, 2, 1, 31, 31, 7, 7, 7, 31]);
  });
});

describe('splitRange', () => {
  it('reads whole months from the monthly rollup and only the edge days from the daily one', () => {
    expect(splitRange('2024-01-01', '2024-12-31')).toEqual({ days: [], months: ['2024-01-01', '2024-12-01'] });
    expect(splitRange('2024-01-05', '2024-12-30')).toEqual({ days: [['2024-01-05', '2024-01-31'], ['2024-12-01', '2024-12-30']], months: ['2024-02-01', '2024-11-01'] });
    expect(splitRange('2024-02-01', '2024-02-29')).toEqual({ days: [], months: ['2024-02-01', '2024-02-01'] });
    expect(splitRange('2024-02-02', '2024-03-30')).toEqual({ days: [['2024-02-02', '2024-03-30']], months: null });
    expect(splitRange('2024-03-01', '2024-03-01')).toEqual({ days: [['2024-03-01', '2024-03-01']], months: null });
    expect(splitRange('2023-12-15', '2024-02-29')).toEqual({ days: [['2023-12-15', '2023-12-31']], months: ['2024-01-01', '2024-02-01'] });
  });
});
