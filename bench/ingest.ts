/**
 * Ingestion benchmark: events/s and peak RSS for the three steps of the bronze/silver path on
 * generated dirty data (2% defects):
 *
 *   1. generate   the event generator writes one NDJSON file per day
 *   2. ingest     NDJSON → bronze (+ quarantine), src/ingest
 *   3. silver     bronze → silver for every day, the silver_events layout run by the engine
 *
 *   npx tsx bench/ingest.ts                  # 10M events over 3 days
 *   npx tsx bench/ingest.ts --events 1M --days 7 --threads 2 --keep
 *
 * Each step runs in a child process of its own, so its peak RSS is its own. Figures depend on
 * the machine and on what else runs on it: the `cpu s` column (user + system seconds of the step,
 * all threads) tells a slow machine from a busy one. Nothing is asserted except that no line is
 * lost (lines = bronze + quarantine + blank, and silver has every bronze row).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConnectionRegistry } from '../src/connections/registry.js';
import { resolvePaths } from '../src/core/paths.js';
import { generateEvents, writeGenerated } from '../src/events/generator/index.js';
import { ingestFiles } from '../src/ingest/ingest.js';
import { buildSilverDay } from '../src/quality/silver.js';
import { int, parseCount, table } from './lib/format.js';
import { eventDays } from '../src/lake/zones.js';

const USAGE = `usage: npx tsx bench/ingest.ts [options]
  --events N    events to generate, approximately (default 10M; 1M, 200k… accepted)
  --days N      days the events span, one NDJSON file per day (default 3)
  --dirty R     fraction of events with an injected defect (default 0.02)
  --threads N   DuckDB threads (default: all cores)
  --dir PATH    work folder (default: a temporary folder, removed afterwards)
  --keep        keep the work folder`;

const START = '2024-05-01';
const SEED = 42;
const GAMES = 3;

interface StepResult {
  step: string;
  /** Events (lines) the step handled. */
  events: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  detail: string;
}

interface Options {
  events: number;
  days: number;
  dirty: number;
  threads: number | undefined;
  dir: string | undefined;
  keep: boolean;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '10M' },
      days: { type: 'string', default: '3' },
      dirty: { type: 'string', default: '0.02' },
      threads: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      step: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const days = Number(values.days);
  const dirty = Number(values.dirty);
  if (!Number.isInteger(days) || days < 1) throw new Error(`--days: "${values.days}" is not a whole number of days`);
  if (!(dirty >= 0 && dirty <= 0.5)) throw new Error(`--dirty: "${values.dirty}" is not a fraction from 0 to 0.5`);
  return {
    events: parseCount(values.events, '--events'),
    days,
    dirty,
    threads: values.threads === undefined ? undefined : parseCount(values.threads, '--threads'),
    dir: values.dir,
    keep: values.keep,
  };
}

/** Accounts for about `events` events over `days` days, measured on a small sample run. */
function usersFor(events: number, days: number): number {
  const sampleUsers = 2000;
  let n = 0;
  const gen = generateEvents({ games: GAMES, users: sampleUsers, days, start: START, seed: SEED });
  for (let r = gen.next(); !r.done; r = gen.next()) n += r.value.size;
  return Math.max(10, Math.round((events / n) * sampleUsers));
}

function usage(startCpu: NodeJS.CpuUsage): { cpuSeconds: number; peakRssMb: number } {
  const cpu = process.cpuUsage(startCpu);
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** One step, inside its own child process; prints its StepResult as JSON on the last line. */
async function runStep(step: string, opts: Options): Promise<StepResult> {
  const dir = opts.dir!;
  const input = path.join(dir, 'ndjson');
  const env = { GAMEPIPE_HOME: path.join(dir, 'home') };
  const paths = resolvePaths(env);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const threads = opts.threads ? { threads: opts.threads } : {};

  if (step === 'generate') {
    const users = usersFor(opts.events, opts.days);
    const cpuGen = process.cpuUsage();
    const t1 = performance.now();
    const stats = await writeGenerated({ games: GAMES, users, days: opts.days, start: START, seed: SEED, dirtyRate: opts.dirty, out: input, format: 'ndjson' });
    const seconds = (performance.now() - t1) / 1000;
    const mb = stats.files.reduce((s, f) => s + fs.statSync(path.join(input, f)).size, 0) / 2 ** 20;
    return { step, events: stats.events, seconds, ...usage(cpuGen), detail: `${users.toLocaleString('en-US')} users, ${stats.files.length} files, ${int(mb)} MiB NDJSON` };
  }
  if (step === 'ingest') {
    const files = fs.readdirSync(input).filter((f) => f.endsWith('.ndjson')).sort().map((f) => path.join(input, f));
    const results = await ingestFiles(files, paths, { source: 'bench', ...threads });
    const lines = results.reduce((s, r) => s + r.lines, 0);
    const events = results.reduce((s, r) => s + r.events, 0);
    const quarantined = results.reduce((s, r) => s + r.quarantined, 0);
    const blank = results.reduce((s, r) => s + r.blankLines, 0);
    if (lines !== events + quarantined + blank) throw new Error(`lost lines: ${lines} ≠ ${events} + ${quarantined} + ${blank}`);
    const bronzeMb = dirBytes(path.join(paths.lake, 'bronze')) / 2 ** 20;
    return {
      step,
      events: lines,
      seconds: elapsed(),
      ...usage(cpu0),
      detail: `${int(events)} to bronze (${int(bronzeMb)} MiB), ${int(quarantined)} quarantined`,
    };
  }
  if (step === 'silver') {
    const connections = new ConnectionRegistry(paths, { ...env, GAMEPIPE_CONN_WAREHOUSE: 'embedded' }, { connections: {} });
    const days = eventDays(paths.lake, 'bronze');
    let rows = 0;
    let biggest = 0;
    try {
      for (const day of days) {
        const s = await buildSilverDay(day, { paths, connections, ...threads });
        rows += s.rows;
        biggest = Math.max(biggest, s.rows);
      }
    } finally {
      await connections.closeAll();
    }
    const silverMb = dirBytes(path.join(paths.lake, 'silver')) / 2 ** 20;
    return { step, events: rows, seconds: elapsed(), ...usage(cpu0), detail: `${days.length} days (largest ${int(biggest)} events), ${int(silverMb)} MiB Parquet` };
  }
  throw new Error(`unknown step ${step}`);
}

function dirBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((s, e) => s + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
}

function child(step: string, argv: string[]): StepResult {
  const script = fileURLToPath(import.meta.url);
  const res = spawnSync(process.execPath, [...process.execArgv, script, ...argv, '--step', step], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (res.status !== 0) throw new Error(`step ${step} failed (exit ${res.status})\n${res.stdout}`);
  const last = res.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as StepResult;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const stepIndex = argv.indexOf('--step');
  const opts = options(argv);
  if (stepIndex >= 0) {
    process.stdout.write(JSON.stringify(await runStep(argv[stepIndex + 1]!, opts)) + '\n');
    return;
  }
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-ingest-'));
  const childArgv = [...argv.filter((a, i) => a !== '--dir' && argv[i - 1] !== '--dir'), '--dir', dir];
  // A fresh lake every run: a kept folder would otherwise skip re-ingestion of the same files.
  fs.rmSync(path.join(dir, 'home'), { recursive: true, force: true });
  console.log(
    `bench:ingest — ~${int(opts.events)} events over ${opts.days} day(s), ${(opts.dirty * 100).toFixed(1)}% dirty, ` +
      `DuckDB threads ${opts.threads ?? `all (${os.cpus().length} cores)`}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n` +
      `work folder ${dir}\n`,
  );
  try {
    const results: StepResult[] = [];
    for (const step of ['generate', 'ingest', 'silver']) {
      const r = child(step, childArgv);
      results.push(r);
      console.log(`  ${r.step.padEnd(8)} ${int(r.events)} events in ${r.seconds.toFixed(1)} s`);
    }
    console.log(
      '\n' +
        table(
          ['step', 'events', 'seconds', 'events/s', 'cpu s', 'peak RSS MiB', 'detail'],
          results.map((r) => [r.step, int(r.events), r.seconds.toFixed(1), int(r.events / r.seconds), r.cpuSeconds.toFixed(1), int(r.peakRssMb), r.detail]),
        ),
    );
    console.log(`\nload average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    if (!opts.keep && !opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
