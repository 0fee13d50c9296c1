import type { Command } from 'commander';
import { resolvePaths } from '../../core/paths.js';
import { ConnectionRegistry, WAREHOUSE } from '../../connections/registry.js';
import { RunLog } from '../../pipeline/runLog.js';
import { formatCount, printJson, printLine } from '../output.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list recent job runs from the run log (etl_run_log in WAREHOUSE)')
    .option('--failed', 'only failed runs')
    .option('--job <name>', 'only this job')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--limit <n>', 'rows', (v: string) => Number(v), 30)
    .option('--json', 'machine-readable output')
    .action(async (opts: { failed?: boolean; job?: string; pipeline?: string; limit: number; json?: boolean }) => {
      const connections = new ConnectionRegistry(resolvePaths());
      try {
        const rows = await new RunLog(connections.get(WAREHOUSE)).list({
          ...(opts.failed ? { failed: true } : {}),
          ...(opts.job ? { job: opts.job } : {}),
          ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
          limit: opts.limit,
        });
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return printLine('no runs');
        for (const r of rows) {
          const vars = Object.entries(r.vars).map(([k, v]) => `${k}=${v}`).join(',');
          const secs = r.ended_at ? ((Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000).toFixed(1) + 's' : '';
          const rows = r.rows_written === null ? '' : `${formatCount(r.rows_written)} rows`;
          printLine(
            [r.started_at.slice(0, 19).replace('T', ' '), r.status.padEnd(9), `${r.pipeline}/${r.job}`.padEnd(36), vars.padEnd(20), rows.padStart(12), secs.padStart(7)]
              .join('  ') + (r.error && r.status !== 'succeeded' ? `\n    ${r.error.split('\n')[0]}` : ''),
          );
        }
      } finally {
        await connections.closeAll();
      }
    });
}
