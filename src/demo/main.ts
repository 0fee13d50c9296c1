#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatError } from '../core/errors.js';
import { resolvePaths } from '../core/paths.js';
import { ConnectionRegistry } from '../connections/registry.js';
import { compileLayout } from '../engine/compile.js';
import { runJob } from '../engine/runJob.js';
import { loadLayout } from '../layout/load.js';
import { formatCount, formatDuration } from '../cli/output.js';
import { writeSampleEvents } from './sampleEvents.js';

/**
 * `npm start`: the end-to-end demo on the embedded defaults (DuckDB + PGlite under
 * ./.gamepipe). Writes three days of sample events, runs the demo layouts for each day
 * (raw NDJSON → Parquet silver → KPIs in the WAREHOUSE PostgreSQL), then prints the table.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const days = ['2024-12-27', '2024-12-28', '2024-12-29'];

async function main(): Promise<void> {
  process.chdir(root); // layouts use paths relative to the project (reference/…)
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  const layouts = ['currency_rates', 'active_users', 'kpi_daily'].map((name) => loadLayout(`layouts/demo/${name}.json`));
  const info = connections.describe('WAREHOUSE');
  console.log(`gamepipe demo — lake ${paths.lake}, WAREHOUSE ${info.kind} (${info.location})\n`);
  try {
    for (const day of days) {
      await writeSampleEvents(paths.lake, paths.tmp, day);
      for (const loaded of layouts) {
        if (loaded.layout.name === 'currency_rates' && day !== days[0]) continue;
        const result = await runJob(compileLayout(loaded, { logDate: day }, paths), { paths, connections });
        console.log(
          `  ✔ ${day} ${result.job.padEnd(18)} read ${formatCount(result.rowsRead).padStart(6)} rows, ` +
            `wrote ${formatCount(result.rowsWritten).padStart(5)} → ${result.target.replace(paths.lake, '{lake}')} (${formatDuration(result.durationMs)})`,
        );
      }
    }
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
