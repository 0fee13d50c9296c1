/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/tokens.js';
import { LevelFunnelService } from '../../src/funnel/service.js';
import type { FunnelAnswer } from '../../src/funnel/service.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { launchChromium } from './helpers/browser.js';
import { buildDemoData } from '../../src/demo/dataset.js';
import { startServe } from './helpers/serve.js';

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against
 * `gamepipe serve` on a small demo dataset. Screenshots of every page go to
 * $GAMEPIPE_SCREENSHOTS (docs/screenshots/ in the repository) or a temporary folder.
 */

const PAGES = ['overview', 'retention', 'monetization', 'economy', 'funnel', 'live', 'operations'] as const;
const GAME = 'game_1';

interface KpiRow {
  ds: string;
  dau: number;
  nru: number;
  pu: number;
  npu: number;
  revenue: number;
}

describe(`dashboard in Chromium (${backend})`, () => {
  let ws: Workspace;
  let days: string[];
  let tokens: { read: string; admin: string };
  let kpi: KpiRow[];
  let kpiRange: { dau: number; nru: number; pu: number; npu: number; revenue: number; arpu: number; arppu: number };
  let funnel: FunnelAnswer;
  let serve: Awaited<ReturnType<typeof startServe>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const shots = process.env.GAMEPIPE_SCREENSHOTS ? path.resolve(process.env.GAMEPIPE_SCREENSHOTS) : '';

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    days = await buildDemoData(ws, { players: 90, days: 3 });
    const store = new TokenStore(ws.connections.get('WAREHOUSE'));
    tokens = { read: (await store.create({ name: 'analyst', role: 'read' })).token, admin: (await store.create({ name: 'ops', role: 'admin' })).token };
    // What the pages must show, read here before the server starts (the embedded PostgreSQL has one process at a time).
    kpi = await ws.query<KpiRow>(
      `SELECT to_char(ds, 'YYYY-MM-DD') AS ds, dau::float8 AS dau, nru::float8 AS nru, pu::float8 AS pu, npu::float8 AS npu, revenue_usd::float8 AS revenue
       FROM kpi_daily WHERE game_id = '${GAME}' AND ds BETWEEN '${days[0]}' AND '${days.at(-1)}' ORDER BY ds`,
    );
    kpiRange = (await ws.query<typeof kpiRange>(
      `SELECT avg(dau)::float8 AS dau, sum(nru)::float8 AS nru, avg(pu)::float8 AS pu, sum(npu)::float8 AS npu, sum(revenue_usd)::float8 AS revenue,
         (sum(revenue_usd) / sum(dau))::float8 AS arpu, (sum(revenue_usd) / nullif(sum(pu), 0))::float8 AS arppu
       FROM kpi_daily WHERE game_id = '${GAME}' AND ds BETWEEN '${days[0]}' AND '${days.at(-1)}'`,
    ))[0]!;
    const service = await LevelFunnelService.open(ws.paths);
    try {
      funnel = await service.query({ gameId: GAME, from: days[0]!, to: days.at(-1)!, filters: {} }, 'fast');
    } finally {
      await service.close();
    }
    await ws.connections.closeAll();
    serve = await startServe(ws.env, ['--live-demo', '200']);
    browser = await launchChromium();
    context = browser.context;
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await ws?.close();
  });

  const open = async (name: string) => {
    await page.goto(`${serve.url}/?game=${GAME}&from=${days[0]}&to=${days.at(-1)}#/${name}`);
    await page.waitForSelector('main[data-ready="true"]', { timeout: 30_000 });
  };
  const cells = (tableId: string, key: string) => page.$$eval(`#${tableId} td[data-key="${key}"]`, (tds) => tds.map((td) => (td as HTMLElement).dataset.value ?? ''));
  const signIn = async (token: string) => {
    await page.goto(`${serve.url}/`);
    await page.fill('form.signin input[name="token"]', token);
    await page.click('form.signin button[type="submit"]');
    await page.waitForSelector('main[data-ready="true"]', { timeout: 30_000 });
  };

  it('asks for a token, then renders every page without console errors (screenshots)', async () => {
    await page.goto(`${serve.url}/`);
    await page.waitForSelector('form.signin');
    const cookiesBefore = await context.cookies();
    expect(cookiesBefore.filter((c) => c.name === 'gamepipe_session')).toEqual([]);
    await signIn(tokens.read);
    const session = (await context.cookies()).find((c) => c.name === 'gamepipe_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('gamepipe_session');
    if (shots) fs.mkdirSync(shots, { recursive: true });
    for (const name of PAGES) {
      await open(name);
      expect(await page.$$eval('.message.error', (els) => els.map((e) => e.textContent)), name).toEqual([]);
      if (name !== 'live') expect(await page.$$('main .chart, main table'), name).not.toHaveLength(0);
      if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`) });
    }
    expect(consoleErrors).toEqual([]);
  });

  it('Overview shows the serving table: tiles and the per-day table equal kpi_daily for the range', async () => {
    await open('overview');
    expect(await cells('overview-days', 'ds')).toEqual(kpi.map((r) => r.ds));
    expect((await cells('overview-days', 'dau')).map(Number)).toEqual(kpi.map((r) => r.dau));
    expect((await cells('overview-days', 'nru')).map(Number)).toEqual(kpi.map((r) => r.nru));
    expect((await cells('overview-days', 'revenueUsd')).map(Number)).toEqual(kpi.map((r) => r.revenue));
    const tile = async (k: string) => Number(await page.getAttribute(`#tiles [data-kpi="${k}"]`, 'data-value'));
    expect(await tile('dau')).toBeCloseTo(kpiRange.dau, 9);
    expect(await tile('nru')).toBe(kpiRange.nru);
    expect(await tile('pu')).toBeCloseTo(kpiRange.pu, 9);
    expect(await tile('npu')).toBe(kpiRange.npu);
    expect(await tile('revenueUsd')).toBeCloseTo(kpiRange.revenue, 6);
    expect(await tile('arpu')).toBeCloseTo(kpiRange.arpu, 6);
  });

  it('Level funnel shows the fast query; a filter changes the chart and matches the API', async () => {
    await open('funnel');
    expect((await cells('funnel-levels', 'levelId')).map(Number)).toEqual(funnel.levels.map((l) => l.levelId));
    for (const key of ['starts', 'completes', 'startedPlayers', 'completedPlayers', 'funnelRate', 'churnTotal'] as const) {
      expect((await cells('funnel-levels', key)).map((v) => (v === '' ? null : Number(v))), key).toEqual(funnel.levels.map((l) => l[key]));
    }
    const series = () => page.evaluate(() => {
      const box = document.querySelector('main .chart') as HTMLElement;
      const chart = (window as unknown as { echarts: { getInstanceByDom(el: HTMLElement): { getOption(): { series: { data: number[] }[] } } } }).echarts.getInstanceByDom(box);
      return chart.getOption().series[0]!.data;
    });
    const unfiltered = await series();
    expect(unfiltered).toEqual(funnel.levels.map((l) => l.startedPlayers));
    const platform = (await page.$$eval('#filter-platform option', (os) => os.map((o) => (o as HTMLOptionElement).value)))[0]!;
    await page.selectOption('#filter-platform', [platform]);
    await page.waitForFunction((p) => document.querySelector('#raw-link')?.getAttribute('href')?.includes(`platform=${p}`), platform);
    await page.waitForSelector('main[data-ready="true"]');
    const filtered = await series();
    expect(filtered).not.toEqual(unfiltered);
    const api = await page.evaluate(async (url) => (await fetch(url)).json(), `/api/games/${GAME}/level-funnel?from=${days[0]}&to=${days.at(-1)}&platform=${platform}`);
    expect(filtered).toEqual(api.levels.map((l: { startedPlayers: number }) => l.startedPlayers));
    const raw = await page.evaluate(async (url) => (await fetch(url!)).json(), await page.getAttribute('#raw-link', 'href'));
    expect(raw.method).toBe('raw');
    expect(raw.levels).toEqual(api.levels);
  });

  it('Live shows a new minute once the in-process stream produces it', async () => {
    await open('live');
    await page.waitForSelector('#newest-minute', { timeout: 60_000 });
    const first = await page.getAttribute('#newest-minute', 'data-value');
    await page.waitForFunction((before) => {
      const now = document.querySelector('#newest-minute')?.getAttribute('data-value');
      return now && now > before!;
    }, first, { timeout: 60_000 });
    expect(await page.getAttribute('#late-events', 'data-value')).toMatch(/^\d+$/);
    expect(await page.$$('#live-lag tbody tr')).not.toHaveLength(0);
  });

  it('a read token cannot start runs; an admin starts a one-day run from Operations and sees it succeed', async () => {
    await open('operations');
    expect(await page.$('#start-run')).toBeNull();
    const denied = await page.evaluate(async () => (await fetch('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'daily', from: '2024-12-01', to: '2024-12-01' }) })).status);
    expect(denied).toBe(403);
    // The browser logs that refused request as a console error: it was this test's own.
    const refused = consoleErrors.findIndex((e) => /403/.test(e));
    if (refused >= 0) consoleErrors.splice(refused, 1);
    await page.click('#who button');
    await page.waitForSelector('form.signin');
    await signIn(tokens.admin);
    await open('operations');
    await page.selectOption('#run-pipeline', 'daily');
    await page.fill('#run-from', days[1]!);
    await page.fill('#run-to', days[1]!);
    await page.click('#start-run button[type="submit"]');
    await page.waitForSelector('#launched-runs td[data-key="status"][data-value="succeeded"], #launched-runs td[data-key="status"][data-value="failed"]', { timeout: 180_000 });
    expect(await cells('launched-runs', 'status')).toEqual(['succeeded']);
    expect(await cells('launched-runs', 'from')).toEqual([days[1]]);
    const [done, total] = [Number((await cells('launched-runs', 'done'))[0]), Number(await page.$eval('#launched-runs progress', (p) => p.getAttribute('max')))];
    expect(done).toBe(total);
    expect(total).toBeGreaterThan(5);
    expect(consoleErrors).toEqual([]);
  });
});
