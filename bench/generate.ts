/**
 * Event generator benchmark: events/s and peak RSS for NDJSON and Parquet output.
 *
 *   npx tsx bench/generate.ts                       # 1M and 10M events, both formats
 *   npx tsx bench/generate.ts --sizes 1M --formats parquet --dirty 0.02 --out /tmp/gen
 *   npx tsx bench/generate.ts --sizes 1M --formats parquet --parquet-writer duckdb
 *
 * Each run is a separate child process so that its peak RSS is its own. Output goes to a
 * temporary directory that is removed afterwards (unless --keep). Figures depend on the
 * machine and on what else runs on it. `cpu s` is the user + system CPU of all the run's
 * threads and `main cpu s` that of the main thread (Linux); `idle estimate` is the rate those
 * allow on an otherwise idle machine (events / max(main cpu, cpu / cores)): on a busy shared
 * machine the wall-clock rate understates the code.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGenerated, type OutputFormat } from '../src/events/generator/index.js';

/** Accounts per size: about 115 events per account over 30 days (3 games). */
const SIZES: Record<string, number> = { '100k': 870, '1M': 8_700, '10M': 87_000, '100M': 870_000 };

interface RunResult {
  size: string;
  format: OutputFormat;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  cpuSeconds: number;
  /** CPU seconds of the main thread alone (Linux), undefined elsewhere. */
  mainCpuSeconds: number | undefined;
  peakRssMb: number;
  outputMb: number;
}

/** User + system CPU seconds of the process's main thread, from /proc (Linux only). */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0], utime [11], stime [12] (in clock ticks, 100/s on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function dirSize(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

async function child(spec: { size: string; format: OutputFormat; out: string; dirty: number; seed: number; parquetWriter: 'native' | 'duckdb' }): Promise<void> {
  const users = SIZES[spec.size];
  if (users === undefined) throw new Error(`unknown size ${spec.size} (${Object.keys(SIZES).join(', ')})`);
  // CPU is counted from here: module loading and transpiling are not the generator's.
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuSeconds();
  const stats = await writeGenerated({
    games: 3,
    users,
    days: 30,
    start: '2024-05-01',
    seed: spec.seed,
    dirtyRate: spec.dirty,
    out: spec.out,
    format: spec.format,
    parquetWriter: spec.parquetWriter,
  });
  const usage = process.resourceUsage();
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuSeconds();
  const result: RunResult = {
    size: spec.size,
    format: spec.format,
    events: stats.events,
    seconds: stats.seconds,
    eventsPerSecond: stats.eventsPerSecond,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainCpuSeconds: mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
    peakRssMb: usage.maxRSS / 1024,
    outputMb: dirSize(spec.out) / 1e6,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/**
 * What the run would reach with both cores to itself: the main thread cannot go faster than
 * its own CPU time, and all threads together share two cores. CPU time also grows on a busy
 * machine (caches, shared cores), so this stays on the conservative side.
 */
function idleEstimate(r: RunResult): string {
  if (r.mainCpuSeconds === undefined) return '-';
  const cores = Math.min(2, os.cpus().length);
  const bound = Math.max(r.mainCpuSeconds, r.cpuSeconds / cores);
  return `${Math.round(r.events / bound).toLocaleString('en-US')}/s`;
}

function main(): void {
  const sizes = arg('sizes', '1M,10M').split(',');
  const formats = arg('formats', 'ndjson,parquet').split(',') as OutputFormat[];
  const dirty = Number(arg('dirty', '0'));
  const seed = Number(arg('seed', '42'));
  const parquetWriter = arg('parquet-writer', 'native') as 'native' | 'duckdb';
  const keep = process.argv.includes('--keep');
  const root = arg('out', fs.mkdtempSync(path.join(os.tmpdir(), 'gamepipe-bench-generate-')));
  const self = fileURLToPath(import.meta.url);

  console.log(`event generator benchmark: ${os.cpus().length} CPU(s), Node ${process.version}, dirty ${dirty}, parquet writer ${parquetWriter}`);
  console.log('size  format    events        seconds  events/s    cpu s  main cpu s  idle estimate  peak RSS  output');
  for (const size of sizes) {
    for (const format of formats) {
      const out = path.join(root, `${size}-${format}`);
      const spec = JSON.stringify({ size, format, out, dirty, seed, parquetWriter });
      const run = spawnSync(process.execPath, [...process.execArgv, self, '--child', spec], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (run.status !== 0 || line === undefined) {
        console.error(run.stdout, run.stderr);
        process.exitCode = 1;
        continue;
      }
      const r = JSON.parse(line.slice(7)) as RunResult;
      console.log(
        [
          r.size.padEnd(5),
          r.format.padEnd(9),
          r.events.toLocaleString('en-US').padStart(12),
          r.seconds.toFixed(2).padStart(9),
          Math.round(r.eventsPerSecond).toLocaleString('en-US').padStart(10),
          r.cpuSeconds.toFixed(1).padStart(8),
          (r.mainCpuSeconds?.toFixed(1) ?? '-').padStart(11),
          idleEstimate(r).padStart(14),
          `${Math.round(r.peakRssMb)} MB`.padStart(9),
          `${Math.round(r.outputMb)} MB`.padStart(8),
        ].join(' '),
      );
      if (!keep) fs.rmSync(out, { recursive: true, force: true });
    }
  }
  if (!keep && !process.argv.includes('--out')) fs.rmSync(root, { recursive: true, force: true });
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  await child(JSON.parse(process.argv[childIndex + 1]!) as Parameters<typeof child>[0]);
} else {
  main();
}
