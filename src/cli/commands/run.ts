import type { Command } from 'commander';
import { compileLayout } from '../../engine/compile.js';
import { describePlan } from '../../engine/describePlan.js';
import { loadLayout } from '../../layout/load.js';
import { parseVarsArg } from '../../layout/vars.js';
import { pipelineOfLayout } from '../../pipeline/definition.js';
import { executeJob } from '../../pipeline/executeJob.js';
import { formatCount, formatDuration, printJson, printLine } from '../output.js';
import { withConnections } from '../options.js';

interface RunOptions {
  layout: string;
  vars?: string[];
  dryRun?: boolean;
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one layout (job) for the given vars, under its lock, recorded in the run log')
    .requiredOption('-l, --layout <file>', 'layout JSON file')
    .option('--vars <k=v,...>', 'vars, e.g. logDate=2024-12-29 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--dry-run', 'print the rendered SQL and the read/write plan without touching data')
    .option('--json', 'machine-readable output')
    .action(async (opts: RunOptions) => {
      await withConnections(async ({ paths, connections }) => {
        const vars = parseVarsArg(opts.vars);
        const job = compileLayout(loadLayout(opts.layout), vars, paths);
        if (opts.dryRun) {
          const plan = describePlan(job, connections);
          if (opts.json) printJson({ job: job.name, dryRun: true, plan });
          else printLine(plan);
          return;
        }
        const outcome = await executeJob({ pipeline: pipelineOfLayout(opts.layout), job, vars }, { paths, connections });
        if (outcome.status === 'failed') throw outcome.cause;
        const result = outcome.result!;
        if (opts.json) {
          printJson(result);
        } else {
          const vars = Object.entries(result.vars).map(([k, v]) => `${k}=${v}`).join(',');
          printLine(
            `✔ ${result.job}${vars ? ` [${vars}]` : ''}: read ${formatCount(result.rowsRead)} rows, ` +
              `wrote ${formatCount(result.rowsWritten)} rows to ${result.target} in ${formatDuration(result.durationMs)}`,
          );
        }
      });
    });
}
