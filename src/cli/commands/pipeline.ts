import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { resolvePaths } from '../../core/paths.js';
import { loadPipeline } from '../../pipeline/definition.js';
import { runPipeline, type PipelineRunResult } from '../../pipeline/runPipeline.js';
import { compileLayout } from '../../engine/compile.js';
import { buildGraph } from '../../pipeline/graph.js';
import { withSampleVars } from '../../engine/validateLayout.js';
import { parseVarsArg, type Vars } from '../../layout/vars.js';
import { collect, positiveInt, progressReporter, withConnections } from '../options.js';
import { formatCount, formatDuration, printJson, printLine } from '../output.js';
import { dateRange } from '../../core/dates.js';

interface RunOptions {
  only?: string[];
  concurrency?: number;
  json?: boolean;
}

/** `pipeline run` and `backfill`: run the var sets, print the summary, fail on a failed job. */
async function runAndReport(name: string, varSets: Vars[], opts: RunOptions & { fromFailure?: boolean; dateVar?: string }): Promise<void> {
  await withConnections(async (ctx) => {
    const result = await runPipeline(loadPipeline(name), ctx, {
      varSets,
      ...(opts.dateVar ? { dateVar: opts.dateVar } : {}),
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.fromFailure ? { fromFailure: true } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      reporter: progressReporter(opts.json),
    });
    printSummary(result, opts.json);
    failIfNot(result);
  });
}

function printSummary(result: PipelineRunResult, json: boolean | undefined): void {
  if (json || !process.stderr.isTTY) {
    // The last JSON line of the run, like the progress lines before it.
    const tasks = result.tasks.map(({ result: r, cause: _cause, ...t }) => ({ ...t, rowsRead: r?.rowsRead, rowsWritten: r?.rowsWritten, durationMs: r?.durationMs }));
    printLine(JSON.stringify({ event: 'run_finished', ...result, tasks, at: new Date().toISOString() }));
    return;
  }
  for (const t of result.tasks) {
    const date = t.vars.logDate ? `${t.vars.logDate} ` : '';
    const mark = { succeeded: '✔', failed: '✘', skipped: '–' }[t.status];
    const detail = t.status === 'succeeded'
      ? `wrote ${formatCount(t.result!.rowsWritten)} rows in ${formatDuration(t.result!.durationMs)}${t.attempts > 1 ? ` (attempt ${t.attempts})` : ''}`
      : (t.error ?? '').split('\n')[0];
    printLine(`${mark} ${date}${t.job}: ${detail}`);
  }
  const counts = ['succeeded', 'failed', 'skipped'].map((s) => `${result.tasks.filter((t) => t.status === s).length} ${s}`).join(', ');
  printLine(`${result.ok ? '✔' : '✘'} pipeline ${result.pipeline}: ${counts} in ${formatDuration(result.durationMs)} (run ${result.pipelineRunId})`);
}

function failIfNot(result: PipelineRunResult): void {
  if (!result.ok) {
    const failed = result.tasks.filter((t) => t.status === 'failed');
    throw new GamepipeError(`pipeline ${result.pipeline} failed: ${failed.map((t) => t.job).join(', ')}`, {
      detail: failed.map((t) => t.error).join('\n\n'),
    });
  }
}

export function registerPipeline(program: Command): void {
  const pipeline = program.command('pipeline').description('run and inspect pipelines (folders of layouts)');

  pipeline
    .command('run')
    .description('run every job of a pipeline in dependency order, independent jobs in parallel')
    .argument('<name>', 'pipeline folder, or a name under ./pipelines')
    .option('--vars <k=v,...>', 'vars, e.g. logDate=2024-12-29', collect)
    .option('--only <job...>', 'run only these jobs (their inputs must exist)')
    .option('--from-failure', 'skip jobs whose latest run for these vars succeeded')
    .option('--concurrency <n>', 'jobs at once', positiveInt('--concurrency'))
    .option('--json', 'JSON lines instead of the progress display')
    .action(async (name: string, opts: RunOptions & { vars?: string[]; fromFailure?: boolean }) => {
      await runAndReport(name, [parseVarsArg(opts.vars)], opts);
    });

  pipeline
    .command('graph')
    .description('print the inferred job graph (what each job waits for, and why)')
    .argument('<name>', 'pipeline folder, or a name under ./pipelines')
    .option('--vars <k=v,...>', 'vars (others get sample values)', collect)
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { vars?: string[]; json?: boolean }) => {
      const paths = resolvePaths();
      const def = loadPipeline(name);
      const given = parseVarsArg(opts.vars);
      const graph = buildGraph(def.layouts.map((l) => compileLayout(l, withSampleVars(l.layout, { ...def.settings.vars, ...given }), paths)));
      const nodes = graph.order.map((n) => {
        const node = graph.nodes.get(n)!;
        return { job: n, layer: node.job.layer ?? null, partitionedBy: node.job.layout.partitionedBy ?? null, dependsOn: node.dependsOn, reasons: node.reasons, stateful: node.stateful };
      });
      if (opts.json) return printJson({ pipeline: def.name, jobs: nodes });
      printLine(`pipeline ${def.name}: ${nodes.length} jobs`);
      for (const n of nodes) {
        const per = n.partitionedBy ? ` (once per ${n.partitionedBy.join(', ')}, after all its upstream tasks)` : '';
        printLine(`  ${n.job}${n.layer ? ` [${n.layer}]` : ''}${per}${n.stateful ? ' (stateful: reads its own output)' : ''}`);
        for (const dep of n.dependsOn) printLine(`    ← ${dep}: ${n.reasons[dep]}`);
      }
    });

  program
    .command('backfill')
    .description('run a pipeline once per date; dates overlap unless a job carries state from the day before')
    .argument('<name>', 'pipeline folder, or a name under ./pipelines')
    .requiredOption('--from <date>', 'first date (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last date (YYYY-MM-DD)')
    .option('--vars <k=v,...>', 'other vars', collect)
    .option('--date-var <name>', 'the var each date is given as', 'logDate')
    .option('--only <job...>', 'run only these jobs')
    .option('--resume', 'skip (date, job) runs that already succeeded')
    .option('--concurrency <n>', 'jobs at once', positiveInt('--concurrency'))
    .option('--json', 'JSON lines instead of the progress display')
    .action(async (name: string, opts: RunOptions & { from: string; to: string; vars?: string[]; dateVar: string; resume?: boolean }) => {
      const base = parseVarsArg(opts.vars);
      const varSets = dateRange(opts.from, opts.to, { from: '--from', to: '--to' }).map((d) => ({ ...base, [opts.dateVar]: d }));
      await runAndReport(name, varSets, { ...opts, fromFailure: opts.resume ?? false });
    });
}
