/**
 * `npm run bench:daily` — the whole daily pipeline (pipelines/daily: silver_events, then every
 * KPI job) on one generated day of events: wall time, events/s, peak RSS and where the time
 * goes (every job with its time, slowest first, and the silver / gold split), plus the bot-farmer
 * detection's precision and recall against the generator's ground truth.
 *
 *   npm run bench:daily -- [--events 10M] [--data DIR] [--skip-silver] [--concurrency N] [--threads N] [--embedded]
 *
 * Steps (only the pipeline run is the benchmark; the rest is set-up, timed for information):
 *   1. generate one day of NDJSON events (all accounts install that day; 2% defects), unless
 *      --data already holds them;
 *   2. ingest them into bronze, unless --data already holds that day's bronze;
 *   3. in a child process (so that its peak RSS is the pipeline's own): run the daily pipeline for
 *      the day on a fresh WAREHOUSE, record when each job started and ended.
 *
 * PostgreSQL is GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL (a fresh schema,
 * dropped at the end), else the embedded PGlite (a fresh database under the data folder).
 * --skip-silver reuses the silver partition of an earlier run with the same --data and runs
 * only the jobs after it. Figures are printed, never asserted; they depend on the machine and on
 * what else runs on it (the `cpu` figure, user + system seconds, helps tell the two apart).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConnectionRegistry } from '../src/connections/registry.js';
import { resolvePaths } from '../src/core/paths.js';
import { DuckEngine } from '../src/engine/duckdb.js';
import { writeGenerated, type Manifest } from '../src/events/generator/index.js';
import { ingestFiles } from '../src/ingest/index.js';
import { evaluateFarmerDetection, farmersFromManifest, formatFarmerAccuracy, type FarmerAccuracy } from './lib/farmerAccuracy.js';
import { loadPipeline } from '../src/pipeline/definition.js';
import type { ProgressEvent, ProgressReporter } from '../src/pipeline/progress.js';
import { runPipeline } from '../src/pipeline/runPipeline.js';
import { int, parseCount, secs, table } from './lib/format.js';
import { withSearchPath } from './lib/postgres.js';
import { sqlString } from '../src/sql/quote.js';
import { eventsDayDir } from '../src/lake/zones.js';

const USAGE = `usage: npm run bench:daily -- [options]
  --events N       events of the generated day (default 10M; about 36.35 per account on its install day)
  --data DIR       keep the generated events and the lake there, and reuse them on the next run
                   (default: a temporary folder, removed at the end)
  --skip-silver    reuse the silver partition already in --data; run only the jobs after it
  --concurrency N  jobs at once (default: the pipeline's default)
  --threads N      DuckDB threads of every job (default: all cores)
  (DuckDB memory: GAMEPIPE_DUCKDB_MEMORY, split between concurrent jobs; default half of RAM)
  --embedded       use the embedded PGlite even when a database URL is set
PostgreSQL: GAMEPIPE_BENCH_DATABASE_URL, else GAMEPIPE_TEST_DATABASE_URL, else embedded PGlite.`;

const DAY = '2024-05-01';
const EVENTS_PER_ACCOUNT = 36.35; // measured: 9,669,574 events from 266,000 accounts (seed 42)
const SEED = 42;
const GAMES = 3;
const DIRTY = 0.02;

interface ChildSpec {
  home: string;
  manifestPath: string;
  databaseUrl: string | null;
  skipSilver: boolean;
  concurrency: number | null;
  threads: number | null;
}

interface TaskTiming {
  job: string;
  status: string;
  startMs: number;
  endMs: number;
  rowsWritten: number | null;
  error: string | null;
}

interface ChildResult {
  wallMs: number;
  events: number;
  tasks: TaskTiming[];
  peakRssMb: number;
  cpuSeconds: number;
  farmers: FarmerAccuracy;
  farms: number;
  warehouse: string;
}

/** Records when each job starts and ends (the pipeline's progress events). */
class Timings implements ProgressReporter {
  readonly started = new Map<string, number>();
  readonly tasks: TaskTiming[] = [];
  constructor(private readonly t0: number) {}
  start(): void {}
  stop(): void {}
  update(e: ProgressEvent): void {
    const now = performance.now() - this.t0;
    if (e.event === 'task_started') this.started.set(e.task, now);
    else {
      this.tasks.push({
        job: e.task,
        status: e.status ?? 'unknown',
        startMs: this.started.get(e.task) ?? now,
        endMs: now,
        rowsWritten: e.rowsWritten ?? null,
        error: e.error ?? null,
      });
    }
  }
}

async function child(spec: ChildSpec): Promise<void> {
  const env: NodeJS.ProcessEnv = { GAMEPIPE_HOME: spec.home };
  let schema: string | null = null;
  if (spec.databaseUrl) {
    schema = `bench_daily_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const client = new pg.Client({ connectionString: spec.databaseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    env.GAMEPIPE_CONN_WAREHOUSE = withSearchPath(spec.databaseUrl, schema);
  } else {
    fs.rmSync(path.join(spec.home, 'pglite'), { recursive: true, force: true });
    env.GAMEPIPE_CONN_WAREHOUSE = 'embedded';
  }
  const paths = resolvePaths(env);
  const connections = new ConnectionRegistry(paths, env, { connections: {} });
  try {
    const def = loadPipeline('pipelines/daily');
    const only = spec.skipSilver ? def.layouts.map((l) => l.layout.name).filter((n) => n !== 'silver_events') : undefined;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const timings = new Timings(t0);
    const result = await runPipeline(def, { paths, connections, ...(spec.threads ? { threads: spec.threads } : {}) }, {
      varSets: [{ logDate: DAY }],
      ...(only ? { only } : {}),
      ...(spec.concurrency ? { concurrency: spec.concurrency } : {}),
      reporter: timings,
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    // What was measured: the day's silver rows, and the detection against the ground truth.
    const engine = await DuckEngine.open(paths.tmp);
    let events = 0;
    try {
      const dir = eventsDayDir(paths.lake, 'silver', DAY);
      events = Number(await engine.scalar(`SELECT count(*) FROM read_parquet(${sqlString(dir + '/*.parquet')})`));
    } finally {
      engine.close();
    }
    const manifest = JSON.parse(fs.readFileSync(spec.manifestPath, 'utf8')) as Manifest;
    const warehouse = connections.get('WAREHOUSE');
    const rows = async (sql: string) => warehouse.withSession(async (s) => (await s.query<{ game_id: string; user_id: string }>(sql)).rows);
    const farmers = result.ok
      ? evaluateFarmerDetection({
          detected: (await rows('SELECT game_id, user_id FROM farmers_snapshot')).map((r) => ({ gameId: r.game_id, userId: r.user_id })),
          truth: farmersFromManifest(manifest),
          eligible: (await rows(`SELECT game_id, user_id FROM active_users WHERE ds = '${DAY}'`)).map((r) => ({ gameId: r.game_id, userId: r.user_id })),
        })
      : evaluateFarmerDetection({ detected: [], truth: [] });
    const out: ChildResult = {
      wallMs,
      events,
      tasks: timings.tasks,
      peakRssMb,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      farmers,
      farms: manifest.population.botFarmers.clusters.length,
      warehouse: spec.databaseUrl ? 'PostgreSQL server' : 'embedded PGlite',
    };
    process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  } finally {
    await connections.closeAll();
    if (spec.databaseUrl && schema) {
      const client = new pg.Client({ connectionString: spec.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  }
}

function mb(n: number): string {
  return `${int(n)} MB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10M' },
      data: { type: 'string' },
      'skip-silver': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      threads: { type: 'string' },
      embedded: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const events = parseCount(values.events!, '--events');
  const users = Math.max(100, Math.round(events / EVENTS_PER_ACCOUNT / 1000) * 1000);
  const data = path.resolve(values.data ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-daily-')));
  const temporary = values.data === undefined;
  const raw = path.join(data, 'raw');
  const home = path.join(data, 'home');
  const databaseUrl = values.embedded ? null : process.env.GAMEPIPE_BENCH_DATABASE_URL || process.env.GAMEPIPE_TEST_DATABASE_URL || null;

  console.log(`daily pipeline benchmark: ${os.cpus().length} CPU(s), ${mb(os.totalmem() / 1e6)} RAM, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  try {
    // 1. Events of one day (reused when --data already has them).
    const manifestPath = path.join(raw, 'manifest.json');
    const existing = fs.existsSync(manifestPath) ? (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest) : null;
    const same = existing && existing.options.users === users && existing.options.seed === SEED && existing.options.days === 1 && existing.options.start === DAY;
    if (same) {
      console.log(`events: reusing ${int(existing.totals.lines)} generated events in ${raw}`);
    } else {
      const g = await writeGenerated({ games: GAMES, users, days: 1, start: DAY, seed: SEED, dirtyRate: DIRTY, out: raw, format: 'ndjson' });
      console.log(`events: generated ${int(g.events)} (${int(users)} accounts, ${GAMES} games, ${DIRTY * 100}% defects) in ${secs(g.seconds)} s`);
    }
    // 2. Bronze (reused when the lake already has the day).
    const bronze = eventsDayDir(path.join(home, 'lake'), 'bronze', DAY);
    if (fs.existsSync(bronze) && same) {
      console.log(`bronze: reusing ${bronze}`);
    } else {
      const file = path.join(raw, `events-${DAY}.ndjson`);
      const t = performance.now();
      const [r] = await ingestFiles([file], resolvePaths({ GAMEPIPE_HOME: home }));
      console.log(`bronze: ingested ${int(r!.events)} events (${int(r!.quarantined)} quarantined) in ${secs((performance.now() - t) / 1000)} s (set-up, not part of the daily run)`);
    }
    if (values['skip-silver'] && !fs.existsSync(eventsDayDir(path.join(home, 'lake'), 'silver', DAY))) {
      throw new Error('--skip-silver: no silver partition in --data yet; run once without it');
    }

    // 3. The daily pipeline, in a child process.
    const spec: ChildSpec = {
      home,
      manifestPath,
      databaseUrl,
      skipSilver: values['skip-silver']!,
      concurrency: values.concurrency ? Number(values.concurrency) : null,
      threads: values.threads ? Number(values.threads) : null,
    };
    const self = fileURLToPath(import.meta.url);
    const run = spawnSync(process.execPath, [...process.execArgv, self, '--child', JSON.stringify(spec)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (run.status !== 0 || line === undefined) {
      console.error(run.stdout);
      throw new Error(`the pipeline run failed (exit ${run.status})`);
    }
    const r = JSON.parse(line.slice(7)) as ChildResult;
    report(r, spec);
  } finally {
    if (temporary) fs.rmSync(data, { recursive: true, force: true });
  }
}

function report(r: ChildResult, spec: ChildSpec): void {
  const wall = r.wallMs / 1000;
  const failed = r.tasks.filter((t) => t.status !== 'succeeded');
  const settings = `concurrency ${spec.concurrency ?? 'default'}, DuckDB threads per job ${spec.threads ?? 'all cores'}, memory ${process.env.GAMEPIPE_DUCKDB_MEMORY ?? 'half of RAM'} shared`;
  console.log(`\npipeline daily for ${DAY} (${spec.skipSilver ? 'gold jobs only, silver reused' : 'silver + gold'}), WAREHOUSE = ${r.warehouse}, ${settings}:`);
  console.log(`  wall time   ${secs(wall)} s`);
  console.log(`  events      ${int(r.events)} (silver rows of the day)`);
  console.log(`  events/s    ${int(r.events / wall)}`);
  console.log(`  peak RSS    ${mb(r.peakRssMb)}`);
  console.log(`  cpu         ${secs(r.cpuSeconds)} s (user + system, all threads)`);
  console.log(`  jobs        ${r.tasks.length - failed.length} succeeded, ${failed.length} failed`);
  for (const f of failed) console.log(`    ✘ ${f.job}: ${f.error?.split('\n')[0]}`);
  const silver = r.tasks.find((t) => t.job === 'silver_events');
  const gold = r.tasks.filter((t) => t.job !== 'silver_events');
  if (gold.length) {
    const start = Math.min(...gold.map((t) => t.startMs));
    const end = Math.max(...gold.map((t) => t.endMs));
    console.log(`  phases      ${silver ? `silver_events ${secs((silver.endMs - silver.startMs) / 1000)} s, ` : ''}gold ${secs((end - start) / 1000)} s (${gold.length} jobs, overlapping)`);
  }
  console.log('\nwhere the time goes (each job start → end; jobs overlap, so the shares add up to more than 100%):');
  const rows = [...r.tasks]
    .sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))
    .map((t) => [
      t.job,
      secs((t.endMs - t.startMs) / 1000),
      `${(((t.endMs - t.startMs) / r.wallMs) * 100).toFixed(0)}%`,
      `${secs(t.startMs / 1000)} → ${secs(t.endMs / 1000)}`,
      t.rowsWritten === null ? '' : int(t.rowsWritten),
    ]);
  console.log(table(['job', 'seconds', 'of wall', 'started → ended (s)', 'rows written'], rows));
  console.log(`\nbot farmers vs the generator's ground truth (${r.farms} farms): ${formatFarmerAccuracy(r.farmers)}`);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  await child(JSON.parse(process.argv[childIndex + 1]!) as ChildSpec);
} else {
  await main().catch((err: unknown) => {
    console.error(`bench:daily: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
