#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatError } from '../core/errors.js';
import { resolvePaths } from '../core/paths.js';
import { ConnectionRegistry } from '../connections/registry.js';
import { loadPipeline } from '../pipeline/definition.js';
import { runPipeline } from '../pipeline/runPipeline.js';
import { formatCount, formatDuration } from '../cli/output.js';
import { writeSampleEvents } from './sampleEvents.js';

/**
 * `npm start`: the end-to-end demo on the embedded defaults (DuckDB + PGlite under
 * ./.gamepipe). Writes three days of sample events, backfills the demo pipeline over them
 * (raw NDJSON → Parquet silver → KPIs in the WAREHOUSE PostgreSQL), then prints the table.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const days = ['2024-12-27', '2024-12-28', '2024-12-29'];

async function main(): Promise<void> {
  process.chdir(root); // layouts use paths relative to the project (reference/…)
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  const info = connections.describe('WAREHOUSE');
  console.log(`gamepipe demo — lake ${paths.lake}, WAREHOUSE ${info.kind} (${info.location})\n`);
  try {
    for (const day of days) await writeSampleEvents(paths.lake, paths.tmp, day);
    const result = await runPipeline(loadPipeline('pipelines/demo'), { paths, connections }, { varSets: days.map((logDate) => ({ logDate })) });
    for (const t of result.tasks) {
      const detail = t.result
        ? `read ${formatCount(t.result.rowsRead).padStart(6)} rows, wrote ${formatCount(t.result.rowsWritten).padStart(5)} → ${t.result.target.replace(paths.lake, '{lake}')} (${formatDuration(t.result.durationMs)})`
        : `${t.status}: ${t.error?.split('\n')[0]}`;
      console.log(`  ${t.status === 'succeeded' ? '✔' : '✘'} ${t.vars.logDate} ${t.job.padEnd(18)} ${detail}`);
    }
    if (!result.ok) throw new Error('the demo pipeline failed (see above)');
    const kpis = await connections.get('WAREHOUSE').withSession((s) =>
      s.query(`SELECT to_char(ds, 'YYYY-MM-DD') AS ds, game_id, dau, paying_users AS pu, revenue_usd, arpu
                 FROM demo_kpi_daily ORDER BY ds, game_id`),
    );
    console.log('\nWAREHOUSE.demo_kpi_daily');
    console.table(kpis.rows);
    console.log('Re-run `npm start`: every job replaces its own partition, so the numbers stay the same.');
  } finally {
    await connections.closeAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`gamepipe demo: ${formatError(err)}\n`);
  process.exitCode = 1;
});
