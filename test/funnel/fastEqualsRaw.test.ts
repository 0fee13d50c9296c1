import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { aggregateLevelFunnel } from '../../src/funnel/aggregate.js';
import { BASE_FIELDS, type LevelMetrics } from '../../src/funnel/metrics.js';
import type { FunnelFilters, FunnelPair, FunnelQuery, InstallRange } from '../../src/funnel/params.js';
import { LevelFunnelService } from '../../src/funnel/service.js';
import { APP_VERSIONS, COUNTRIES, FUNNELS, FUNNEL_VERSIONS, PLATFORMS, pick, prng, randomLevelEvents, writeSilverRows, INSTALL_INGESTIONS, randomInstalls, writeInstallIndex } from './helpers/silverFixture.js';
import { addDays, dateRange } from '../../src/core/dates.js';

/**
 * The property: for random filter sets and date ranges over random level events, the fast path
 * (pre-aggregates) gives exactly the raw path's numbers (silver, the reference): counts equal,
 * ratios within 1e-9. Seeded: a failure prints the seed and the query to replay it.
 */

const SEEDS = (process.env.FUNNEL_PROPERTY_SEEDS ?? '11,29').split(',').map(Number);
const QUERIES = Number(process.env.FUNNEL_PROPERTY_QUERIES ?? 60);
/** Dense: six consecutive days (across Feb 29). */
const DENSE = dateRange('2024-02-26', '2024-03-02');
/** Sparse: 14 days over four months, so ranges hold whole months and players come back after 31+ days. */
const SPARSE = ['2024-01-03', '2024-01-17', '2024-01-31', '2024-02-01', '2024-02-14', '2024-02-29', '2024-03-01',
  '2024-03-09', '2024-03-21', '2024-03-31', '2024-04-01', '2024-04-11', '2024-04-29', '2024-04-30'];

/**
 * Letters whose lower case JavaScript and DuckDB disagree on (İ; a final Σ) and one whose upper
 * case is two letters (ß): the fast and raw paths must fold case alike.
 */
const APP_VERSIONS_WIDE = [...APP_VERSIONS, 'Straße'] as const;
const FUNNELS_WIDE = [...FUNNELS, 'İstanbul_v1', 'ΟΔΟΣ'] as const;

/** A value as a user might type it: any case, sometimes one no row has. */
function typed(rand: () => number, value: string | number): string {
  const s = String(value);
  const r = rand();
  return r < 0.3 ? s.toLowerCase() : r < 0.5 ? s.toUpperCase() : s;
}

function randomFilters(rand: () => number): FunnelFilters {
  const filters: FunnelFilters = {};
  const choose = <T>(pool: readonly (T | null)[], extra: string): string[] => {
    const values = new Set<string>();
    const k = 1 + Math.floor(rand() * 2.5);
    for (let i = 0; i < k; i++) {
      const v = pick(rand, pool);
      values.add(v === null || rand() < 0.07 ? extra : typed(rand, v as string | number));
    }
    return [...values];
  };
  if (rand() < 0.35) filters.platform = choose(PLATFORMS, 'switch').map((v) => v.toLowerCase());
  if (rand() < 0.35) filters.country = choose(COUNTRIES, 'zz').map((v) => v.toLowerCase());
  if (rand() < 0.35) filters.appVersion = choose(APP_VERSIONS_WIDE, '9.9.9');
  if (rand() < 0.35) filters.levelFunnel = choose(FUNNELS_WIDE, 'nope');
  if (rand() < 0.3) filters.levelFunnelVersion = choose(FUNNEL_VERSIONS, '7');
  return filters;
}

/** Exact funnel pairs, as typed (any case), sometimes one no row has. */
function randomPairs(rand: () => number): FunnelPair[] | undefined {
  if (rand() >= 0.4) return undefined;
  const k = 1 + Math.floor(rand() * 3);
  return Array.from({ length: k }, () => {
    const name = pick(rand, FUNNELS_WIDE);
    const version = pick(rand, FUNNEL_VERSIONS);
    return { levelFunnel: name === null || rand() < 0.07 ? 'nope' : typed(rand, name), levelFunnelVersion: version === null ? 7 : version };
  });
}

/** An install cohort around the data: both ends, one end, or none. */
function randomInstall(rand: () => number, days: string[]): InstallRange | undefined {
  const r = rand();
  if (r >= 0.4) return undefined;
  const { from, to } = randomRange(rand, days);
  return r < 0.25 ? { from, to } : r < 0.32 ? { from } : { to };
}

/** Any range from a few days before the data to a few days after it: empty days and partial months included. */
function randomRange(rand: () => number, days: string[]): { from: string; to: string } {
  const first = addDays(days[0]!, -3);
  const span = dateRange(first, addDays(days[days.length - 1]!, 3)).length;
  const a = Math.floor(rand() * span);
  const b = Math.floor(rand() * span);
  return { from: addDays(first, Math.min(a, b)), to: addDays(first, Math.max(a, b)) };
}

function expectSameMetrics(fast: LevelMetrics[], raw: LevelMetrics[], context: string): void {
  expect(fast.map((l) => l.levelId), context).toEqual(raw.map((l) => l.levelId));
  for (let i = 0; i < raw.length; i++) {
    const f = fast[i]!;
    const r = raw[i]!;
    for (const [key, value] of Object.entries(r) as [keyof LevelMetrics, number | null][]) {
      const other = f[key] as number | null;
      if (value === null || other === null || Number.isInteger(value)) {
        expect(other, `${context} level ${r.levelId} ${key}`).toBe(value);
      } else {
        expect(Math.abs(other - value), `${context} level ${r.levelId} ${key}: fast ${other} raw ${value}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
      }
    }
  }
}

const CASES = SEEDS.flatMap((seed, i) => [{ seed, shape: 'dense', days: DENSE }, ...(i === 0 ? [{ seed, shape: 'sparse', days: SPARSE }] : [])]);

describe.each(CASES)(`fast == raw on random level events (seed $seed, $shape days, ${backend})`, ({ seed, days }) => {
  let ws: Workspace;
  let service: LevelFunnelService;
  let written: string[];

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    written = await writeSilverRows(ws.paths.lake, randomLevelEvents(seed, { days, events: 450, appVersions: APP_VERSIONS_WIDE, funnels: FUNNELS_WIDE }));
    await writeInstallIndex(ws.paths.lake, randomInstalls(seed, { days }), [...INSTALL_INGESTIONS.committed]);
    const result = await aggregateLevelFunnel({ paths: ws.paths, connections: ws.connections }, { games: ['g1'], dates: written });
    expect(result.ok, JSON.stringify(result.indexes)).toBe(true);
    service = await LevelFunnelService.open(ws.paths, { threads: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await ws?.close();
  });

  it('has data worth comparing: several levels, several combinations per player, a correction path', async () => {
    const all = await service.rawBases({ gameId: 'g1', from: written[0]!, to: written[written.length - 1]!, filters: {} });
    expect(all.bases.length).toBeGreaterThanOrEqual(3);
    const rows = (await service.indexes.rowCounts('g1'))!;
    expect(rows.pairs).toBeGreaterThan(0);
    expect(rows.links).toBeGreaterThan(0);
    if (days === SPARSE) expect(rows.long_links).toBeGreaterThan(0);
  });

  it(`${QUERIES} random questions: every field equal`, async () => {
    const rand = prng(seed * 7919);
    let nonEmpty = 0;
    let nonEmptyInstall = 0;
    let nonEmptyPairs = 0;
    let withHorizon = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q: FunnelQuery = { gameId: 'g1', ...randomRange(rand, written), filters: randomFilters(rand) };
      const pairs = randomPairs(rand);
      if (pairs) q.funnelPairs = pairs;
      const install = randomInstall(rand, written);
      if (install) q.install = install;
      const context = `seed ${seed} query ${i}: ${JSON.stringify(q)}`;
      const fast = await service.fastBases(q);
      const raw = await service.rawBases(q);
      // base numbers: exact
      expect(fast.bases.map((b) => b.levelId), context).toEqual(raw.bases.map((b) => b.levelId));
      for (let k = 0; k < raw.bases.length; k++) {
        for (const field of BASE_FIELDS) expect(fast.bases[k]![field], `${context} level ${raw.bases[k]!.levelId} ${field}`).toBe(raw.bases[k]![field]);
      }
      // every derived field, through the answer both paths return
      const [fa, ra] = await Promise.all([service.query(q, 'fast'), service.query(q, 'raw')]);
      expectSameMetrics(fa.levels, ra.levels, context);
      if (ra.levels.length) nonEmpty++;
      if (ra.levels.length && q.install) nonEmptyInstall++;
      if (ra.levels.length && q.funnelPairs) nonEmptyPairs++;
      if (ra.levels.some((l) => l.horizonPlayers > 0)) withHorizon++;
    }
    expect(nonEmpty).toBeGreaterThan(QUERIES / 3);
    expect(nonEmptyInstall).toBeGreaterThanOrEqual(QUERIES / 20);
    expect(nonEmptyPairs).toBeGreaterThanOrEqual(QUERIES / 30);
    // horizon churn needs first starts 7 days before the last day: the sparse days have them
    if (days === SPARSE) expect(withHorizon).toBeGreaterThan(QUERIES / 4);
  });

  it('non-ASCII values match in any case the same way on both paths (İ, final Σ, ß)', async () => {
    const range = { gameId: 'g1', from: written[0]!, to: written[written.length - 1]! };
    for (const filters of [{ levelFunnel: ['İSTANBUL_V1'] }, { levelFunnel: ['ΟΔΟΣ'] }, { levelFunnel: ['οδοσ'] }, { appVersion: ['STRAßE'] }] as FunnelFilters[]) {
      const [fa, ra] = await Promise.all([service.query({ ...range, filters }, 'fast'), service.query({ ...range, filters }, 'raw')]);
      expect(ra.levels.length, JSON.stringify(filters)).toBeGreaterThan(0);
      expectSameMetrics(fa.levels, ra.levels, JSON.stringify(filters));
    }
  });

  it('fixed shapes: no filter, each single filter, all filters, every range length', async () => {
    const first = written[0]!;
    const last = written[written.length - 1]!;
    const shapes: FunnelFilters[] = [
      {},
      { platform: ['ios'] },
      { country: ['us', 'tr'] },
      { appVersion: ['1.1.0'] },
      { levelFunnel: ['live_v1'] },
      { levelFunnelVersion: ['2'] },
      { levelFunnel: ['İSTANBUL_V1'] },
      { levelFunnel: ['istanbul_v1', 'οδοσ'] },
      { levelFunnel: ['ΟΔΟΣ'] },
      { levelFunnel: ['οδος'] },
      { appVersion: ['STRAßE'] },
      { appVersion: ['STRASSE'] },
      { platform: ['ios', 'android'], country: ['us', 'tr', 'mx'], appVersion: ['1.0.0', '1.1.0'], levelFunnel: ['live_v1', 'test_hard'], levelFunnelVersion: ['1', '2'] },
    ];
    for (const filters of shapes) {
      for (const [from, to] of [[first, first], [first, last], [addDays(first, 2), addDays(first, 3)], [last, last], [addDays(first, -1), addDays(last, 1)]] as const) {
        const q = { gameId: 'g1', from, to, filters };
        const [fa, ra] = await Promise.all([service.query(q, 'fast'), service.query(q, 'raw')]);
        expectSameMetrics(fa.levels, ra.levels, JSON.stringify(q));
      }
    }
  });

  it('fixed shapes: funnel pairs and install cohorts, alone and with filters', async () => {
    const first = written[0]!;
    const last = written[written.length - 1]!;
    const mid = written[Math.floor(written.length / 2)]!;
    const shapes: Omit<FunnelQuery, 'gameId' | 'from' | 'to'>[] = [
      { filters: {}, funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 1 }] },
      { filters: {}, funnelPairs: [{ levelFunnel: 'LIVE_v1', levelFunnelVersion: 2 }, { levelFunnel: 'test_hard', levelFunnelVersion: 1 }] },
      { filters: { platform: ['ios'] }, funnelPairs: [{ levelFunnel: 'İSTANBUL_V1', levelFunnelVersion: 1 }, { levelFunnel: 'οδοσ', levelFunnelVersion: 2 }] },
      { filters: { levelFunnelVersion: ['1'] }, funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 1 }, { levelFunnel: 'live_v1', levelFunnelVersion: 2 }] },
      { filters: {}, install: { from: first, to: mid } },
      { filters: {}, install: { from: mid } },
      { filters: {}, install: { to: mid } },
      { filters: { country: ['us', 'tr'] }, install: { from: first, to: last } },
      { filters: { appVersion: ['1.1.0'] }, funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 1 }], install: { from: first, to: last } },
    ];
    let nonEmpty = 0;
    for (const shape of shapes) {
      for (const [from, to] of [[first, last], [first, mid], [mid, last], [addDays(first, -1), addDays(last, 1)]] as const) {
        const q = { gameId: 'g1', from, to, ...shape };
        const [fa, ra] = await Promise.all([service.query(q, 'fast'), service.query(q, 'raw')]);
        expectSameMetrics(fa.levels, ra.levels, JSON.stringify(q));
        if (ra.levels.length) nonEmpty++;
      }
    }
    expect(nonEmpty).toBeGreaterThan(shapes.length * 2);
  });
});
