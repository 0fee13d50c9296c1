import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { backend, createWorkspace, writeFiles, type Workspace } from '../helpers/workspace.js';
import { dailyPipeline, textRows } from './helpers/dailyRun.js';
import { writeSilverDay } from './helpers/silverFixture.js';

/**
 * The reference data behind the daily KPIs: VIP tier bands (one macro, docs/metrics.md) and
 * currency conversion at the rate valid on the purchase day.
 */
describe('VIP tiers', () => {
  it('bands total_revenue_usd into Free and A–G at 10, 50, 100, 500, 1,000 and 5,000 USD', async () => {
    const env = new nunjucks.Environment(new nunjucks.FileSystemLoader('pipelines/daily/cons/templates'), { autoescape: false, throwOnUndefined: true });
    const sql = env.renderString('{% import "_vip.sql.j2" as vip %}SELECT x, {{ vip.vip_tier("x") }} AS tier FROM v', {});
    const engine = await DuckEngine.open(path.join(os.tmpdir(), 'gamepipe-vip-test'));
    try {
      const totals = ['0', '0.000001', '9.999999', '10', '49.99', '50', '99.999999', '100', '499.99', '500', '999.99', '1000', '4999.99', '5000', '123456'];
      await engine.run(`CREATE VIEW v AS SELECT CAST(x AS DECIMAL(18,6)) AS x FROM (VALUES ${totals.map((t) => `('${t}')`).join(', ')}) t(x)`);
      const rows = await engine.rows<{ x: string; tier: string }>(`SELECT CAST(x AS VARCHAR) AS x, tier FROM (${sql}) ORDER BY CAST(x AS DECIMAL(18,6))`);
      expect(rows.map((r) => `${r.x} ${r.tier}`)).toEqual([
        '0.000000 Free', '0.000001 A', '9.999999 A', '10.000000 B', '49.990000 B', '50.000000 C', '99.999999 C',
        '100.000000 D', '499.990000 D', '500.000000 E', '999.990000 E', '1000.000000 F', '4999.990000 F', '5000.000000 G', '123456.000000 G',
      ]);
    } finally {
      engine.close();
    }
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
