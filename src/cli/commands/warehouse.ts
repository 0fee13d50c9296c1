import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { WAREHOUSE } from '../../connections/registry.js';
import { exampleQueryReport } from '../../warehouse/queries.js';
import { simulateActivity } from '../../warehouse/simulate.js';
import { GAME_SERVICE, initSources, USER_SERVICE } from '../../warehouse/sourceSchema.js';
import { checkSourceSystem, syncWarehouse } from '../../warehouse/sync.js';
import type { PipelineRunResult } from '../../pipeline/runPipeline.js';
import { positiveInt, withConnections } from '../options.js';
import { formatCount, formatDuration, printJson, printLine } from '../output.js';

function printSync(result: PipelineRunResult, json: boolean | undefined): void {
  if (json) return printJson(result.tasks.map(({ result: r, ...t }) => ({ ...t, load: r?.load, rowsRead: r?.rowsRead, rowsWritten: r?.rowsWritten, durationMs: r?.durationMs })));
  for (const t of result.tasks) {
    const mark = { succeeded: '✔', failed: '✘', skipped: '–' }[t.status];
    const detail = t.status === 'succeeded'
      ? `${t.result!.load}, read ${formatCount(t.result!.rowsRead)}, wrote ${formatCount(t.result!.rowsWritten)} rows in ${formatDuration(t.result!.durationMs)}`
      : (t.error ?? '').split('\n')[0];
    printLine(`${mark} ${t.job}: ${detail}`);
  }
  printLine(`sync ${result.ok ? 'succeeded' : 'failed'} in ${formatDuration(result.durationMs)}`);
}

function failIfNot(result: PipelineRunResult): void {
  if (!result.ok) {
    const failed = result.tasks.filter((t) => t.status === 'failed');
    throw new GamepipeError(`warehouse sync failed: ${failed.map((t) => t.job).join(', ')}`, { detail: failed.map((t) => `  ${t.job}: ${t.error}`).join('\n') });
  }
}

export function registerWarehouse(program: Command): void {
  const warehouse = program
    .command('warehouse')
    .description('the star-schema warehouse loaded from the operational databases USER_SERVICE and GAME_SERVICE (docs/warehouse.md)');

  warehouse
    .command('init-sources')
    .description('create the operational source tables in USER_SERVICE and GAME_SERVICE (demos and tests)')
    .action(async () => {
      await withConnections(async ({ connections }) => {
        await initSources(connections.get(USER_SERVICE), connections.get(GAME_SERVICE));
        printLine(`source tables ready in ${USER_SERVICE} (${connections.describe(USER_SERVICE).location}) and ${GAME_SERVICE} (${connections.describe(GAME_SERVICE).location})`);
      });
    });

  warehouse
    .command('simulate')
    .description('write realistic activity into the source databases: sign-ups, profile changes, bans, deletions, logins, transactions, games')
    .requiredOption('--minutes <n>', 'simulated minutes of activity', positiveInt('--minutes'))
    .option('--users <n>', 'population (users are signed up until there are this many)', positiveInt('--users'), 1000)
    .option('--seed <n>', 'random seed', (v: string) => Number.parseInt(v, 10), 1)
    .option('--json', 'machine-readable output')
    .action(async (opts: { minutes: number; users: number; seed: number; json?: boolean }) => {
      await withConnections(async ({ connections }) => {
        const result = await simulateActivity(connections.get(USER_SERVICE), connections.get(GAME_SERVICE), opts);
        if (opts.json) return printJson(result);
        printLine(`simulated ${result.from} → ${result.to}: ${result.signups} sign-ups, ${result.profileChanges} profile changes, ` +
          `${result.accessEvents} access events, ${result.transactions} transactions, ${result.gamesStarted} games started, ` +
          `${result.gamesEnded} ended, ${result.actions} actions`);
      });
    });

  warehouse
    .command('sync')
    .description('load the warehouse: incremental (rows changed since each watermark) or --full')
    .option('--full', 'read every source table whole: repairs drift and detects hard deletes')
    .option('--source <system>', 'only the jobs reading user_service or game_service')
    .option('--json', 'machine-readable output')
    .action(async (opts: { full?: boolean; source?: string; json?: boolean }) => {
      await withConnections(async (ctx) => {
        const result = await syncWarehouse(ctx, {
          ...(opts.full ? { full: true } : {}),
          ...(opts.source ? { source: checkSourceSystem(opts.source) } : {}),
        });
        printSync(result, opts.json);
        failIfNot(result);
      });
    });

  warehouse
    .command('demo')
    .description('create the sources, simulate activity, sync (full, then incremental after more activity) and print the example queries')
    .option('--users <n>', 'population', positiveInt('--users'), 500)
    .option('--minutes <n>', 'simulated minutes before the first sync', positiveInt('--minutes'), 120)
    .option('--seed <n>', 'random seed', (v: string) => Number.parseInt(v, 10), 1)
    .action(async (opts: { users: number; minutes: number; seed: number }) => {
      await withConnections(async (ctx) => {
        const result = await runWarehouseDemo(ctx, opts, printLine);
        failIfNot(result);
      });
    });
}

/** The warehouse demo: the same library calls as the commands above. */
export async function runWarehouseDemo(
  ctx: Parameters<typeof syncWarehouse>[0],
  opts: { users: number; minutes: number; seed: number },
  print: (line: string) => void,
): Promise<PipelineRunResult> {
  const { connections } = ctx;
  await initSources(connections.get(USER_SERVICE), connections.get(GAME_SERVICE));
  const first = await simulateActivity(connections.get(USER_SERVICE), connections.get(GAME_SERVICE), opts);
  print(`simulated ${opts.minutes} minutes (${first.signups} sign-ups, ${first.transactions} transactions, ${first.gamesStarted} games)`);
  const full = await syncWarehouse(ctx, { full: true });
  print(`full load: ${full.ok ? 'ok' : 'FAILED'} in ${formatDuration(full.durationMs)}`);
  if (!full.ok) return full;
  const more = await simulateActivity(connections.get(USER_SERVICE), connections.get(GAME_SERVICE), { ...opts, minutes: 15, seed: opts.seed + 1 });
  print(`simulated 15 more minutes (${more.profileChanges} profile changes, ${more.transactions} transactions, ${more.gamesEnded} games ended)`);
  const inc = await syncWarehouse(ctx, {});
  const loaded = inc.tasks.reduce((sum, t) => sum + (t.result?.rowsWritten ?? 0), 0);
  print(`incremental sync: ${inc.ok ? 'ok' : 'FAILED'}, ${formatCount(loaded)} rows merged in ${formatDuration(inc.durationMs)}`);
  if (!inc.ok) return inc;
  print('');
  print(await exampleQueryReport(connections.get(WAREHOUSE)));
  return inc;
}
