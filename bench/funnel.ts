/**
 * `npm run bench:funnel` — the level funnel at 100× the studio's data: 36M level events over a
 * year (about 520,000 players), one game.
 *
 *   1. Data: silver-shaped level events generated in DuckDB (src/funnel/synthetic.ts), cached
 *      in the data folder and reused while the options match (--fresh regenerates).
 *   2. Aggregation: a backfill of every day the first time (timed), then the nightly run of
 *      one day as the 02:00 schedule runs it (level_players, level_metrics_daily, index rebuild).
 *   3. Queries: a fixed mix — no filter, one filter, all filters × 1, 30 and 365 days — and other
 *      shapes (install cohorts, funnel pairs; every answer carries the horizon churn) through
 *      the raw path (silver) and the fast path (pre-aggregates), p50 / p95 and the speedup; the
 *      fast mix again through the HTTP route; and a check that fast == raw on every query.
 *
 * PostgreSQL (WAREHOUSE) is GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL (a
 * schema of its own, kept with the data for reuse), else the embedded PGlite. Figures are
 * printed, never asserted.
 *
 *   npm run bench:funnel -- [--scale 1] [--runs 30] [--raw-runs 1] [--data DIR] [--fresh] [--embedded] [--threads N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { ConnectionRegistry } from '../src/connections/registry.js';
import { resolvePaths, type GamepipePaths } from '../src/core/paths.js';
import { DuckEngine } from '../src/engine/duckdb.js';
import { aggregateLevelFunnel, type AggregateResult } from '../src/funnel/aggregate.js';

import type { LevelMetrics } from '../src/funnel/metrics.js';
import type { FunnelFilters, FunnelQuery } from '../src/funnel/params.js';
import { levelFunnelIndexDir } from '../src/funnel/paths.js';
import { silverFiles } from '../src/lake/zones.js';
import { LevelFunnelService } from '../src/funnel/service.js';
import { writeSyntheticLevelEvents } from './lib/syntheticLevelEvents.js';
import { levelFunnelRoutes } from '../src/server/routes/levelFunnel.js';
import { int, secs, table } from './lib/format.js';
import { adminQuery, hidePassword, progress, withSearchPath } from './lib/postgres.js';
import { sqlString } from '../src/sql/quote.js';
import { addDays, dateRange } from '../src/core/dates.js';

const USAGE = `usage: npm run bench:funnel -- [options]
  --scale X      fraction of the full size: 1 = 36M level events, ~520,000 players (default 1; e.g. 0.01)
  --days N       days of data (default 365)
  --runs N       runs of each fast query (default 30)
  --raw-runs N   runs of each raw query (default 1: a year of raw events takes minutes)
  --data DIR     where the generated lake and embedded database are kept (default: $TMPDIR/gamepipe-bench-funnel/scale-X)
  --fresh        regenerate and re-aggregate everything
  --embedded     use the embedded PGlite even when a database URL is set
  --threads N    DuckDB threads of the query service (default: all cores)
PostgreSQL: GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL, else embedded PGlite.`;

const GAME = 'game_1';
const START = '2024-01-01';
const SEED = 42;
const FULL_USERS = 520_000;
const DATA_VERSION = 2;

interface Options {
  scale: number;
  days: number;
  runs: number;
  rawRuns: number;
  data: string;
  fresh: boolean;
  embedded: boolean;
  threads: number | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1' },
      days: { type: 'string', default: '365' },
      runs: { type: 'string', default: '30' },
      'raw-runs': { type: 'string', default: '1' },
      data: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      embedded: { type: 'boolean', default: false },
      threads: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const num = (v: string, flag: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag}: "${v}" must be a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const scale = num(values.scale!, '--scale', 0.0001);
  return {
    scale,
    days: Math.round(num(values.days!, '--days', 31)),
    runs: Math.round(num(values.runs!, '--runs', 1)),
    rawRuns: Math.round(num(values['raw-runs']!, '--raw-runs', 1)),
    data: path.resolve(values.data ?? path.join(os.tmpdir(), 'gamepipe-bench-funnel', `scale-${scale}`)),
    fresh: values.fresh!,
    embedded: values.embedded!,
    threads: values.threads ? Math.round(num(values.threads, '--threads', 1)) : undefined,
  };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Nearest-rank percentile of samples in ms. */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : int(x)) + ' ms';

interface MixQuery {
  name: string;
  q: FunnelQuery;
}

/** The all-filters values: the biggest iOS / US app version and live_v1 funnel version of the last day. */
async function allFilters(paths: GamepipePaths, last: string): Promise<FunnelFilters> {
  const engine = await DuckEngine.open(paths.tmp);
  try {
    const files = silverFiles(paths.lake, [last]);
    const top = async (column: string, where: string) =>
      String((await engine.rows<{ v: string }>(
        `SELECT CAST(${column} AS VARCHAR) AS v FROM read_parquet([${files.map(sqlString).join(', ')}])
         WHERE game_id = ${sqlString(GAME)} AND ${column} IS NOT NULL AND ${where}
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      ))[0]!.v);
    return {
      platform: ['ios'],
      country: ['us'],
      appVersion: [(await top('app_version', "platform = 'iOS' AND country_code = 'US'")).toLowerCase()],
      levelFunnel: ['live_v1'],
      levelFunnelVersion: [await top('level_funnel_version', "level_funnel = 'live_v1'")],
    };
  } finally {
    engine.close();
  }
}

function taskSeconds(result: AggregateResult, job: string): number {
  return (result.pipeline?.tasks ?? []).filter((t) => t.job === job).reduce((s, t) => s + (t.result?.durationMs ?? 0), 0) / 1000;
}

async function main(): Promise<void> {
  const opts = options();
  const users = Math.max(100, Math.round(FULL_USERS * opts.scale));
  const last = addDays(START, opts.days - 1);
  fs.mkdirSync(opts.data, { recursive: true });
  const home = path.join(opts.data, 'home');
  const dataMarker = path.join(opts.data, 'bench-data.json');
  const aggMarker = path.join(opts.data, 'bench-aggregated.json');
  if (opts.fresh) {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(dataMarker, { force: true });
    fs.rmSync(aggMarker, { force: true });
  }

  // WAREHOUSE: a server schema kept with the data, or the embedded database under the data folder.
  const serverUrl = opts.embedded ? undefined : process.env.GAMEPIPE_BENCH_DATABASE_URL ?? process.env.GAMEPIPE_TEST_DATABASE_URL;
  const env: NodeJS.ProcessEnv = { GAMEPIPE_HOME: home };
  let warehouse = 'embedded PGlite';
  if (serverUrl) {
    const schema = `bench_funnel_${String(opts.scale).replace(/\W/g, '_')}`;
    if (opts.fresh) await adminQuery(serverUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await adminQuery(serverUrl, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    env.GAMEPIPE_CONN_WAREHOUSE = withSearchPath(serverUrl, schema);
    warehouse = `PostgreSQL ${hidePassword(serverUrl)} (schema ${schema})`;
  } else {
    env.GAMEPIPE_CONN_WAREHOUSE = 'embedded';
  }
  const paths = resolvePaths(env);
  const connections = new ConnectionRegistry(paths, env, { connections: {} });

  // 1. data
  const wanted = { version: DATA_VERSION, users, days: opts.days, start: START, seed: SEED, game: GAME };
  let data = readJson<typeof wanted & { events: number; levelEvents: number; seconds: number }>(dataMarker);
  let generated = false;
  if (!data || JSON.stringify({ ...data, events: undefined, levelEvents: undefined, seconds: undefined }) !== JSON.stringify({ ...wanted, events: undefined, levelEvents: undefined, seconds: undefined })) {
    progress(`generating ${int(users)} players × ${opts.days} days of level events into ${paths.lake} …`);
    fs.rmSync(aggMarker, { force: true });
    const t0 = performance.now();
    const r = await writeSyntheticLevelEvents({ lake: paths.lake, gameId: GAME, users, days: opts.days, start: START, seed: SEED, tmpDir: paths.tmp });
    data = { ...wanted, events: r.events, levelEvents: r.levelEvents, seconds: (performance.now() - t0) / 1000 };
    fs.writeFileSync(dataMarker, JSON.stringify(data, null, 2));
    generated = true;
    progress(`generated ${int(r.levelEvents)} valid level events (${int(r.events)} rows with invalid and duplicates) in ${secs(data.seconds)} s`);
  } else {
    progress(`reusing ${int(data.levelEvents)} level events in ${paths.lake} (--fresh to regenerate)`);
  }

  // 2. aggregation: the whole range once, then one nightly day
  const days = dateRange(START, last);
  let backfill = readJson<{ seconds: number; days: number; pipelineSeconds: number; indexSeconds: number; levelMetricsRows: number }>(aggMarker);
  const indexThere = fs.existsSync(levelFunnelIndexDir(paths, GAME));
  let backfilled = false;
  if (!backfill || !indexThere) {
    progress(`backfilling ${days.length} days (level_players → level_metrics_daily in ${warehouse}, then the index) …`);
    const t0 = performance.now();
    let done = 0;
    const result = await aggregateLevelFunnel({ paths, connections }, {
      games: [GAME],
      dates: days,
      reporter: {
        start: () => undefined,
        update: (e) => {
          if (e.event === 'task_finished' && ++done % 100 === 0) progress(`  ${done}/${days.length * 2} jobs`);
        },
        stop: () => undefined,
      },
    });
    if (!result.ok) throw new Error(`backfill failed: ${JSON.stringify(result.indexes)} ${result.pipeline?.tasks.find((t) => t.status === 'failed')?.error ?? ''}`);
    const rows = (result.pipeline?.tasks ?? []).filter((t) => t.job === 'level_metrics_daily').reduce((s, t) => s + (t.result?.rowsWritten ?? 0), 0);
    backfill = {
      seconds: (performance.now() - t0) / 1000,
      days: days.length,
      pipelineSeconds: (result.pipeline?.durationMs ?? 0) / 1000,
      indexSeconds: (result.indexes[0]?.durationMs ?? 0) / 1000,
      levelMetricsRows: rows,
    };
    fs.writeFileSync(aggMarker, JSON.stringify(backfill, null, 2));
    backfilled = true;
  } else {
    progress(`reusing the aggregates of ${backfill.days} days (--fresh to time the backfill again)`);
  }
  progress(`nightly run for ${last} (as the 02:00 schedule runs it) …`);
  const nightlyStart = performance.now();
  const nightly = await aggregateLevelFunnel({ paths, connections }, { games: [GAME], dates: [last] });
  const nightlySeconds = (performance.now() - nightlyStart) / 1000;
  if (!nightly.ok) throw new Error('nightly aggregation failed');
  await connections.closeAll();

  // 3. queries
  const service = await LevelFunnelService.open(paths, opts.threads ? { threads: opts.threads } : {});
  const all = await allFilters(paths, last);
  const timeIt = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const ranges: [string, number][] = [['1 day', 1], ['30 days', 30], ['365 days', Math.min(365, opts.days)]];
  const shapes: [string, FunnelFilters][] = [['no filter', {}], ['one filter', { platform: ['ios'] }], ['all filters', all]];
  const mix: MixQuery[] = shapes.flatMap(([shape, filters]) =>
    ranges.map(([range, n]) => ({ name: `${shape}, ${range}`, q: { gameId: GAME, from: addDays(last, -(n - 1)), to: last, filters } })));
  const extra: MixQuery[] = [
    { name: 'country=US,TR,MX, 365 days', q: { gameId: GAME, from: addDays(last, -364), to: last, filters: { country: ['us', 'tr', 'mx'] } } },
    { name: 'appVersion+levelFunnel, 365 days', q: { gameId: GAME, from: addDays(last, -364), to: last, filters: { appVersion: all.appVersion!, levelFunnel: ['live_v1'] } } },
    { name: 'appVersion only, 365 days', q: { gameId: GAME, from: addDays(last, -364), to: last, filters: { appVersion: all.appVersion! } } },
    // install cohorts: the players installed in one month, over the year and over their first 30 days
    { name: 'install cohort (1 month), 365 days', q: { gameId: GAME, from: addDays(last, -364), to: last, filters: {}, install: { from: addDays(START, 59), to: addDays(START, 89) } } },
    { name: 'install cohort + platform, 30 days', q: { gameId: GAME, from: addDays(START, 59), to: addDays(START, 88), filters: { platform: ['ios'] }, install: { from: addDays(START, 59), to: addDays(START, 89) } } },
    { name: 'funnel pairs live_v1:1,live_v1:2, 365 days', q: { gameId: GAME, from: addDays(last, -364), to: last, filters: {},
      funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 1 }, { levelFunnel: 'live_v1', levelFunnelVersion: 2 }] } },
  ];

  progress('opening the index (first answers straight from Parquet, copy into memory in the background) …');
  const openStart = performance.now();
  await service.fastBases(mix[mix.length - 1]!.q);
  const firstMs = performance.now() - openStart;
  const parquetSamples: number[] = [];
  for (const m of mix) parquetSamples.push(await timeIt(() => service.query(m.q, 'fast')));
  const index = (await service.indexes.ready(GAME))!;
  const loadMs = index.storage === 'memory' ? index.loadMs : Number.NaN;
  const indexRows = (await service.indexes.rowCounts(GAME))!;

  const fastSamples = new Map<string, number[]>();
  const rawSamples = new Map<string, number[]>();
  const mismatches: string[] = [];

  progress(`raw path: ${opts.rawRuns} run(s) of ${mix.length + extra.length} queries (a year of raw events takes minutes) …`);
  for (let run = 0; run < opts.rawRuns; run++) {
    for (const m of [...mix, ...extra]) {
      let raw: LevelMetrics[] = [];
      const t = await timeIt(async () => (raw = (await service.query(m.q, 'raw')).levels));
      (rawSamples.get(m.name) ?? rawSamples.set(m.name, []).get(m.name)!).push(t);
      progress(`  raw ${m.name}: ${ms(t)}`);
      // every field of every level, fast against raw
      if (run === 0 && JSON.stringify((await service.query(m.q, 'fast')).levels) !== JSON.stringify(raw)) mismatches.push(m.name);
    }
  }
  progress(`fast path: ${opts.runs} runs of ${mix.length + extra.length} queries …`);
  for (const m of [...mix, ...extra]) await service.query(m.q, 'fast'); // warm-up
  for (let run = 0; run < opts.runs; run++) {
    for (const m of [...mix, ...extra]) {
      const t = await timeIt(() => service.query(m.q, 'fast'));
      (fastSamples.get(m.name) ?? fastSamples.set(m.name, []).get(m.name)!).push(t);
    }
  }

  progress('fast path through HTTP (GET /api/games/:gameId/level-funnel) …');
  const app = Fastify();
  await app.register(levelFunnelRoutes, { paths, service });
  await app.ready();
  const httpSamples: number[] = [];
  const url = (q: FunnelQuery) => {
    const params = new URLSearchParams({ from: q.from, to: q.to });
    for (const [k, v] of Object.entries(q.filters)) params.set(k, (v as string[]).join(','));
    return `/api/games/${q.gameId}/level-funnel?${params}`;
  };
  for (let run = 0; run < opts.runs; run++) {
    for (const m of mix) {
      const t = performance.now();
      const res = await app.inject({ method: 'GET', url: url(m.q) });
      httpSamples.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body}`);
    }
  }
  await app.close();
  await service.close();

  // report
  const mixFast = mix.flatMap((m) => fastSamples.get(m.name)!);
  const mixRaw = mix.flatMap((m) => rawSamples.get(m.name)!);
  const row = (m: MixQuery) => {
    const f = fastSamples.get(m.name)!;
    const r = rawSamples.get(m.name)!;
    return [m.name, ms(percentile(r, 50)), ms(percentile(r, 95)), ms(percentile(f, 50)), ms(percentile(f, 95)), `${int(percentile(r, 50) / percentile(f, 50))}x`];
  };
  const header = ['query', 'raw p50', 'raw p95', 'fast p50', 'fast p95', 'speedup p50'];
  const lines: string[] = [];
  lines.push(`level funnel benchmark: ${int(data.levelEvents)} level events (scale ${opts.scale}, ${int(users)} players, ${opts.days} days ${START}..${last}, game ${GAME})`);
  lines.push(`machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; WAREHOUSE: ${warehouse}`);
  lines.push(`data: ${paths.lake}${generated ? ` (generated in ${secs(data.seconds)} s)` : ' (reused)'}`);
  lines.push('');
  lines.push('aggregation');
  lines.push(`  backfill of ${backfill.days} days${backfilled ? '' : ' (earlier run, reused)'}: ${secs(backfill.seconds)} s = ${secs(backfill.pipelineSeconds / backfill.days)} s per day (level_players + level_metrics_daily, ${int(backfill.levelMetricsRows)} rows) + index rebuild ${secs(backfill.indexSeconds)} s`);
  lines.push(`  nightly run of one day (${last}): ${secs(nightlySeconds)} s = level_players ${secs(taskSeconds(nightly, 'level_players'))} s + level_metrics_daily ${secs(taskSeconds(nightly, 'level_metrics_daily'))} s + index rebuild over all ${backfill.days} days ${secs((nightly.indexes[0]?.durationMs ?? 0) / 1000)} s`);
  lines.push(`  index: ${int(indexRows.counts)} count rows, ${int(indexRows.links)} link rows, ${int(indexRows.pairs)} pair rows`);
  lines.push(`  after a rebuild: first answer ${ms(firstMs)}, the mix from Parquet p50 ${ms(percentile(parquetSamples, 50))} / p95 ${ms(percentile(parquetSamples, 95))} while the copy into memory runs (${ms(loadMs)}, in the background)`);
  lines.push('');
  lines.push(`queries (service level; raw ${opts.rawRuns} run(s), fast ${opts.runs} runs each)`);
  lines.push(table(header, [
    ...mix.map(row),
    ['mix of the 9 above', ms(percentile(mixRaw, 50)), ms(percentile(mixRaw, 95)), ms(percentile(mixFast, 50)), ms(percentile(mixFast, 95)), `${int(percentile(mixRaw, 50) / percentile(mixFast, 50))}x`],
  ]));
  lines.push('');
  lines.push('other shapes (not in the mix)');
  lines.push(table(header, extra.map(row)));
  lines.push('');
  lines.push(`fast mix through HTTP (fastify inject): p50 ${ms(percentile(httpSamples, 50))}, p95 ${ms(percentile(httpSamples, 95))}`);
  lines.push(`target fast p95 < 50 ms: ${percentile(mixFast, 95) < 50 ? 'met' : 'NOT met'} (${ms(percentile(mixFast, 95))})`);
  lines.push(mismatches.length ? `fast == raw: MISMATCH on ${mismatches.join(', ')}` : `fast == raw: every field of every level identical on all ${mix.length + extra.length} queries`);
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify({
    bench: 'funnel', scale: opts.scale, levelEvents: data.levelEvents, players: users, days: opts.days, warehouse: serverUrl ? 'server' : 'embedded',
    backfill, nightlySeconds, indexRows, firstMs, parquetP95: percentile(parquetSamples, 95), loadMs,
    mix: { rawP50: percentile(mixRaw, 50), rawP95: percentile(mixRaw, 95), fastP50: percentile(mixFast, 50), fastP95: percentile(mixFast, 95) },
    http: { p50: percentile(httpSamples, 50), p95: percentile(httpSamples, 95) },
    queries: Object.fromEntries([...mix, ...extra].map((m) => [m.name, { rawP50: percentile(rawSamples.get(m.name)!, 50), fastP50: percentile(fastSamples.get(m.name)!, 50), fastP95: percentile(fastSamples.get(m.name)!, 95) }])),
    equal: mismatches.length === 0,
  }) + '\n');
  if (mismatches.length) process.exitCode = 1;
}

await main();
