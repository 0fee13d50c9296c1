import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { backend, createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';
import { dailyPipeline, textRows } from './helpers/dailyRun.js';
import { writeSilverDay, type SilverRow } from './helpers/silverFixture.js';

/**
 * The reference data behind the daily KPIs: VIP tiers (reference/vip_tiers.csv, published as
 * WAREHOUSE.vip_tiers; docs/metrics.md) and currency conversion at the rate valid on the purchase day.
 */
describe(`VIP tiers (${backend})`, () => {
  let ws: Workspace;
  const D = '2024-05-01';
  // Lifetime revenues in USD chosen on both sides of every shipped cut-off (0, 10, 50, 100, 500, 1,000, 5,000).
  const totals: Record<string, string> = {
    p1: '0.0100', p2: '9.9900', p3: '10.0000', p4: '49.9900', p5: '50.0000', p6: '99.9900', p7: '100.0000',
    p8: '499.9900', p9: '500.0000', p10: '999.9900', p11: '1000.0000', p12: '4999.9900', p13: '5000.0000', p14: '123456.0000',
  };
  const VIP_JOBS = ['currency_rates', 'vip_tiers', 'user_day', 'economy_events', 'recharge', 'cumulative_revenue', 'item_flow'];

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const rows: SilverRow[] = Object.entries(totals).map(([user, amount]) => ({
      event_name: 'purchase', event_ts: '12:00:00', game_id: 'g', user_id: user, session_id: user, server_id: 's1',
      amount, currency: 'USD', payment_channel: 'google_play', transaction_id: `t-${user}`,
    }));
    // a key-item gain of a payer (p3) and of a user who never paid (n1)
    for (const user of ['p3', 'n1']) {
      rows.push({ event_name: 'item_gain', event_ts: '13:00:00', game_id: 'g', user_id: user, session_id: user, item_id: 'booster_hammer', quantity: 1, reason_id: 1 });
    }
    await writeSilverDay(ws.paths.lake, D, rows);
  });
  afterAll(() => ws.close());

  async function runWith(referenceDir: string): Promise<{ tiers: string[]; items: string[] }> {
    const result = await runPipeline(dailyPipeline(), { paths: ws.paths, connections: ws.connections }, {
      varSets: [{ logDate: D, referenceDir }],
      only: VIP_JOBS,
    });
    expect(result.ok, JSON.stringify(result.tasks.filter((t) => t.status === 'failed').map((t) => `${t.job}: ${t.error}`))).toBe(true);
    const tiers = await textRows(ws, 'cumulative_revenue', ['user_id', 'total_revenue_usd', 'vip_tier'], `ds = '${D}'`);
    const items = await textRows(ws, 'item_flow', ['vip_tier', 'users'], `ds = '${D}'`);
    return {
      tiers: tiers.sort((a, b) => Number(a[1]) - Number(b[1])).map((r) => `${r[0]} ${r[1]} ${r[2]}`),
      items: items.map((r) => `${r[0]} ${r[1]}`),
    };
  }

  it('ships seed 000\'s tiers: Free, then A–G from 0, 10, 50, 100, 500, 1,000 and 5,000 USD of lifetime revenue', async () => {
    const { tiers, items } = await runWith('reference');
    expect(tiers).toEqual([
      'p1 0.010000 A', 'p2 9.990000 A', 'p3 10.000000 B', 'p4 49.990000 B', 'p5 50.000000 C', 'p6 99.990000 C',
      'p7 100.000000 D', 'p8 499.990000 D', 'p9 500.000000 E', 'p10 999.990000 E', 'p11 1000.000000 F',
      'p12 4999.990000 F', 'p13 5000.000000 G', 'p14 123456.000000 G',
    ]);
    // p3 is B; n1 never paid: the tier without a minimum
    expect(items).toEqual(['B 1', 'Free 1']);
    expect(await textRows(ws, 'vip_tiers', ['tier', 'min_total_usd'])).toEqual([
      ['A', '0.000000'], ['B', '10.000000'], ['C', '50.000000'], ['D', '100.000000'], ['E', '500.000000'],
      ['F', '1000.000000'], ['Free', null], ['G', '5000.000000'],
    ]);
  });

  it('a studio\'s own tier file sets the names and cut-offs', async () => {
    const own = path.join(ws.dir, 'studio_reference');
    writeFiles(own, {
      'vip_tiers.csv': 'tier,min_total_usd\nnon-payer,\nminnow,0\ndolphin, 49.99\nwhale,1000\n',
      'currency_rates.csv': fs.readFileSync('reference/currency_rates.csv', 'utf8'),
      'key_items.csv': fs.readFileSync('reference/key_items.csv', 'utf8'),
      'key_currencies.csv': fs.readFileSync('reference/key_currencies.csv', 'utf8'),
      'reasons.csv': fs.readFileSync('reference/reasons.csv', 'utf8'),
    });
    const { tiers, items } = await runWith(own);
    expect(tiers).toEqual([
      'p1 0.010000 minnow', 'p2 9.990000 minnow', 'p3 10.000000 minnow', 'p4 49.990000 dolphin', 'p5 50.000000 dolphin',
      'p6 99.990000 dolphin', 'p7 100.000000 dolphin', 'p8 499.990000 dolphin', 'p9 500.000000 dolphin', 'p10 999.990000 dolphin',
      'p11 1000.000000 whale', 'p12 4999.990000 whale', 'p13 5000.000000 whale', 'p14 123456.000000 whale',
    ]);
    expect(items).toEqual(['minnow 1', 'non-payer 1']);
  });

  it.each([
    ['two tiers without a minimum', 'tier,min_total_usd\nFree,\nNone,\nA,0\n', 'one_non_paying_tier'],
    ['paying tiers that do not start at 0', 'tier,min_total_usd\nFree,\nA,5\n', 'paying_tiers_start_at_zero'],
    ['two tiers at the same revenue', 'tier,min_total_usd\nFree,\nA,0\nB,10\nC,10\n', 'unique'],
  ])('refuses a tier file with %s, naming the check', async (_what, csv, check) => {
    const bad = path.join(ws.dir, `bad_${check}`);
    writeFiles(bad, { 'vip_tiers.csv': csv });
    const result = await runPipeline(dailyPipeline(), { paths: ws.paths, connections: ws.connections }, {
      varSets: [{ logDate: D, referenceDir: bad }],
      only: ['vip_tiers'],
    });
    expect(result.ok).toBe(false);
    expect(result.tasks[0]!.error).toContain(check);
  });
});

describe(`currency conversion (${backend})`, () => {
  let ws: Workspace;
  let referenceDir: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    // A rate change on 2024-05-02; KRW has no rate at all.
    referenceDir = path.join(ws.dir, 'reference');
    writeFiles(referenceDir, {
      'currency_rates.csv': 'currency,usd_per_unit,valid_from\nUSD,1,2024-01-01\nthb,0.03,2024-01-01\nTHB,0.02,2024-05-02\n',
      'key_items.csv': fs.readFileSync('reference/key_items.csv', 'utf8'),
      'key_currencies.csv': fs.readFileSync('reference/key_currencies.csv', 'utf8'),
    });
    const purchase = (user: string, amount: number, currency: string) => ({
      event_name: 'purchase', event_ts: '12:00:00', game_id: 'g', user_id: user, session_id: user, server_id: 's1',
      amount, currency, payment_channel: 'google_play', transaction_id: `${user}-${currency}`,
    });
    await writeSilverDay(ws.paths.lake, '2024-05-01', [purchase('a', 100, 'THB'), purchase('b', 1000, 'KRW')]);
    await writeSilverDay(ws.paths.lake, '2024-05-02', [purchase('a', 100, 'THB')]);
  });
  afterAll(() => ws.close());

  it('converts at the rate with the latest valid_from on or before the day; a currency without a rate is reported, not guessed', async () => {
    const result = await runPipeline(dailyPipeline(), { paths: ws.paths, connections: ws.connections }, {
      varSets: ['2024-05-01', '2024-05-02'].map((logDate) => ({ logDate, referenceDir })),
      only: ['currency_rates', 'economy_events', 'recharge'],
    });
    expect(result.ok).toBe(true);
    // 100 THB × 0.03 on May 1, × 0.02 from May 2; KRW: amount kept, USD unknown
    expect(await textRows(ws, 'recharge', ['ds', 'user_id', 'currency', 'amount', 'amount_usd', 'usd_per_unit'])).toEqual([
      ['2024-05-01', 'a', 'THB', '100.0000', '3.000000', '0.030000000'],
      ['2024-05-01', 'b', 'KRW', '1000.0000', null, null],
      ['2024-05-02', 'a', 'THB', '100.0000', '2.000000', '0.020000000'],
    ]);
    const may1 = result.tasks.find((t) => t.job === 'recharge' && t.vars.logDate === '2024-05-01')!;
    const warned = may1.result!.checks.find((c) => c.name === 'every_currency_has_a_rate')!;
    expect(warned.passed).toBe(false);
    expect(warned.sample).toEqual([{ currency: 'KRW', purchases: '1', amount: '1000.0000' }]);
  });
});
