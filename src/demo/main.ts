#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatError, GamepipeError } from '../core/errors.js';
import { resolvePaths } from '../core/paths.js';
import { ConnectionRegistry, WAREHOUSE } from '../connections/registry.js';
import { writeGenerated } from '../events/generator/index.js';
import { ingestFiles } from '../ingest/index.js';
import { aggregateLevelFunnel } from '../funnel/aggregate.js';
import { addDays, checkDate, dateRange } from '../core/dates.js';
import { loadPipeline } from '../pipeline/definition.js';
import { TtyProgress } from '../cli/progress.js';
import { SilentProgress } from '../pipeline/progress.js';
import { runPipeline } from '../pipeline/runPipeline.js';
import { formatCount, formatDuration } from '../cli/output.js';
import { printKpiSummary } from './summary.js';

/**
 * `npm start`: the end-to-end demo on the embedded defaults (DuckDB + PGlite under ./.gamepipe),
 * no server needed. Generates a few weeks of dirty events for a few thousand players, ingests
 * them into bronze, backfills the `daily` pipeline over every day (silver, then the KPI jobs)
 * with a progress display, and prints a KPI summary. A re-run skips the files already
 * ingested and replaces each day's partitions, so the numbers stay the same.
 *
 *   npm start -- [--players N] [--days N] [--start YYYY-MM-DD]
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const USAGE = 'usage: npm start -- [--players N (default 3000)] [--days N (default 21)] [--start YYYY-MM-DD (default 2024-12-01)]';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new GamepipeError(`--${name} ${value}`, { expected: `a positive integer; ${USAGE}` });
  return n;
}

async function main(): Promise<void> {
  let values: { players?: string; days?: string; start?: string };
  try {
    ({ values } = parseArgs({ options: { players: { type: 'string' }, days: { type: 'string' }, start: { type: 'string' } } }));
  } catch (err) {
    throw new GamepipeError(err instanceof Error ? err.message : String(err), { expected: USAGE });
  }
  const players = positiveInt('players', values.players, 3_000);
  const days = positiveInt('days', values.days, 21);
  const start = checkDate(values.start ?? '2024-12-01', '--start');
  const logDates = dateRange(start, addDays(start, days - 1));
  process.chdir(root); // layouts use paths relative to the project (reference/…)
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  const info = connections.describe(WAREHOUSE);
  console.log(`gamepipe demo — lake ${paths.lake}, WAREHOUSE ${info.kind} (${info.location})\n`);
  const began = Date.now();
  try {
    // 1. Raw events, as a studio's collectors would deliver them: one NDJSON file per day, 2% defective.
    const incoming = path.join(paths.home, 'demo', 'incoming');
    const generated = await writeGenerated({ games: 2, users: players, days, start, seed: 2024, dirtyRate: 0.02, out: incoming, format: 'ndjson' });
    const defects = generated.manifest.totals.defectLines;
    console.log(`1. generated ${formatCount(generated.events)} events of ${formatCount(players)} players over ${days} days ` +
      `(${formatCount(defects)} with a known defect) → ${incoming} in ${formatDuration(Math.round(generated.seconds * 1000))}`);

    // 2. Bronze: every line kept, bad lines quarantined with their reason; a file seen before is skipped.
    const ingested = await ingestFiles(generated.files.map((f) => path.resolve(incoming, f)), paths);
    const fresh = ingested.filter((r) => r.status === 'ingested');
    const sum = (f: (r: (typeof ingested)[number]) => number) => formatCount(fresh.reduce((s, r) => s + f(r), 0));
    const skipped = ingested.length - fresh.length;
    console.log(fresh.length === 0
      ? `2. bronze: all ${skipped} files already ingested (same content), skipped`
      : `2. ingested ${fresh.length} files: ${sum((r) => r.events)} events in bronze, ${sum((r) => r.quarantined)} lines quarantined` +
        (skipped ? `; ${skipped} already ingested, skipped` : ''));

    // 3. The daily pipeline for every day: one DAG over (day, job); stateful jobs run their days in order.
    const daily = loadPipeline('pipelines/daily');
    console.log(`3. backfill daily ${start} … ${logDates.at(-1)} (${logDates.length} days × ${daily.layouts.length} jobs)`);
    const result = await runPipeline(daily, { paths, connections }, {
      varSets: logDates.map((logDate) => ({ logDate })),
      dateVar: 'logDate',
      reporter: process.stderr.isTTY ? new TtyProgress() : new SilentProgress(),
    });
    const failed = result.tasks.filter((t) => t.status !== 'succeeded');
    console.log(`   ${result.tasks.length - failed.length} of ${result.tasks.length} jobs succeeded in ${formatDuration(result.durationMs)} (run ${result.pipelineRunId})`);
    if (!result.ok) {
      for (const t of failed.slice(0, 5)) console.log(`   ✘ ${t.vars.logDate} ${t.job}: ${(t.error ?? t.status).split('\n')[0]}`);
      throw new GamepipeError('the daily pipeline failed (see above; `npx gamepipe runs --failed` lists every failure)');
    }

    // 4. The level funnel's pre-aggregates and per-player index, for the dashboard's funnel page.
    const funnel = await aggregateLevelFunnel({ paths, connections }, { dates: logDates });
    console.log(`4. level funnel aggregated for ${funnel.games.join(', ') || 'no game'} in ${formatDuration(funnel.durationMs)}${funnel.ok ? '' : ' (with failures: npx gamepipe runs --failed)'}`);

    // 5. What the studio reads every morning.
    console.log('');
    await printKpiSummary(connections.get(WAREHOUSE), logDates);
    console.log(`\nDone in ${formatDuration(Date.now() - began)}. Re-run \`npm start\`: ingestion skips the same files and every job replaces its own day, so the numbers stay the same.`);
    console.log('Explore: npx gamepipe runs · npx gamepipe pipeline graph daily');
    console.log('The dashboard on this data: npx gamepipe token create --role admin --name me   (prints your token)');
    console.log('                            npx gamepipe serve --live-demo   then open http://127.0.0.1:8080/ and paste the token');
  } finally {
    await connections.closeAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`gamepipe demo: ${formatError(err)}\n`);
  process.exitCode = 1;
});
