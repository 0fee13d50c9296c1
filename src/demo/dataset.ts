import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { GamepipePaths } from '../core/paths.js';
import { writeGenerated } from '../events/generator/index.js';
import { aggregateLevelFunnel } from '../funnel/aggregate.js';
import { ingestFiles } from '../ingest/index.js';
import { loadPipeline } from '../pipeline/definition.js';
import { runPipeline } from '../pipeline/runPipeline.js';
import { addDays, dateRange } from '../core/dates.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A demo dataset (tests, `npm run bench:api`), built the way `npm start` builds its own: generated dirty events,
 * ingested to bronze, the daily pipeline over every day (serving tables in WAREHOUSE), then
 * the level funnel's pre-aggregates and index. Returns the days.
 */
export async function buildDemoData(
  ctx: { paths: GamepipePaths; connections: ConnectionRegistry },
  options: { players?: number; days?: number; start?: string } = {},
): Promise<string[]> {
  const start = options.start ?? '2024-12-01';
  const days = options.days ?? 3;
  const logDates = dateRange(start, addDays(start, days - 1));
  const incoming = path.join(ctx.paths.home, 'demo', 'incoming');
  const generated = await writeGenerated({ games: 2, users: options.players ?? 120, days, start, seed: 2024, dirtyRate: 0.02, out: incoming, format: 'ndjson' });
  await ingestFiles(generated.files.map((f) => path.resolve(incoming, f)), ctx.paths);
  const cwd = process.cwd();
  process.chdir(root); // layouts read reference data relative to the project
  try {
    const result = await runPipeline(loadPipeline(path.join(root, 'pipelines/daily')), ctx, { varSets: logDates.map((logDate) => ({ logDate })), dateVar: 'logDate' });
    if (!result.ok) throw new Error(`demo daily pipeline failed: ${result.tasks.filter((t) => t.status !== 'succeeded').map((t) => `${t.job}: ${t.error}`).join('; ')}`);
    const funnel = await aggregateLevelFunnel(ctx, { dates: logDates });
    if (!funnel.ok) throw new Error('demo level funnel aggregation failed');
  } finally {
    process.chdir(cwd);
  }
  return logDates;
}
