import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { resolvePaths } from '../../core/paths.js';
import { aggregateLevelFunnel, listGamesWithLevelEvents, rebuildFunnelIndex, type AggregateResult } from '../../funnel/aggregate.js';

import type { LevelMetrics } from '../../funnel/metrics.js';
import { parseFunnelQuery, parseMethod, type FilterName } from '../../funnel/params.js';
import { checkGameId } from '../../funnel/paths.js';
import { LevelFunnelService, type FunnelAnswer } from '../../funnel/service.js';
import type { ProgressReporter } from '../../pipeline/progress.js';
import { collect, positiveInt, progressReporter, withConnections } from '../options.js';
import { formatCount, formatDuration, printJson, printLine } from '../output.js';
import { addDays, checkDate, dateRange, todayUtc } from '../../core/dates.js';

/**
 * `gamepipe funnel …`: the level funnel (docs/metrics.md#level-funnel).
 *   aggregate  one day (default yesterday, UTC) for one or more games (default: every game with level events)
 *   backfill   a date range, re-runnable (each (game, day) replaces only itself)
 *   games      games with level events in silver
 *   index      rebuild a game's query index from its aggregated days
 *   query      the per-level metrics, fast (pre-aggregates, default) or raw (silver)
 */

function reporter(json: boolean | undefined): ProgressReporter {
  return progressReporter(json, (l) => process.stderr.write(l + '\n'));
}

interface AggregateOptions {
  game?: string[];
  resume?: boolean;
  concurrency?: number;
  json?: boolean;
}

/** `funnel aggregate` and `funnel backfill`: aggregate the days for the games, then report. */
async function aggregateAndReport(dates: string[], opts: AggregateOptions): Promise<void> {
  const games = (opts.game ?? []).map((g) => checkGameId(g));
  await withConnections(async (ctx) => {
    const result = await aggregateLevelFunnel(ctx, {
      dates,
      ...(games.length ? { games } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      reporter: reporter(opts.json),
    });
    report(result, opts.json);
  });
}

function yesterdayUtc(): string {
  return addDays(todayUtc(), -1);
}

function report(result: AggregateResult, json: boolean | undefined): void {
  if (json) {
    const tasks = (result.pipeline?.tasks ?? []).map(({ result: r, cause: _cause, ...t }) => ({ ...t, rowsWritten: r?.rowsWritten, durationMs: r?.durationMs }));
    printJson({ ...result, pipeline: result.pipeline ? { ...result.pipeline, tasks } : null });
  } else if (result.games.length === 0) {
    printLine(`no games with level events on ${result.dates[0]}${result.dates.length > 1 ? `..${result.dates[result.dates.length - 1]}` : ''}`);
  } else {
    for (const t of result.pipeline?.tasks ?? []) {
      if (t.status === 'succeeded') continue;
      printLine(`✘ ${t.vars.gameId} ${t.vars.logDate} ${t.job}: ${(t.error ?? '').split('\n')[0]}`);
    }
    for (const game of result.games) {
      const tasks = (result.pipeline?.tasks ?? []).filter((t) => t.vars.gameId === game);
      const ok = tasks.filter((t) => t.status === 'succeeded' && t.job === 'level_metrics_daily');
      const rows = ok.reduce((sum, t) => sum + (t.result?.rowsWritten ?? 0), 0);
      const index = result.indexes.find((i) => i.gameId === game);
      const indexText = index
        ? index.status === 'succeeded'
          ? `index rebuilt (${formatCount(index.rows ?? 0)} rows) in ${formatDuration(index.durationMs)}`
          : index.status === 'skipped' ? 'index not rebuilt (a day failed)' : `index failed: ${(index.error ?? '').split('\n')[0]}`
        : 'index not rebuilt';
      printLine(`${ok.length === result.dates.length ? '✔' : '✘'} ${game}: ${ok.length}/${result.dates.length} days, ${formatCount(rows)} level_metrics_daily rows; ${indexText}`);
    }
    printLine(`${result.ok ? '✔' : '✘'} level funnel: ${result.games.length} game(s) × ${result.dates.length} day(s) in ${formatDuration(result.durationMs)}`);
  }
  if (!result.ok) throw new GamepipeError('level funnel aggregation failed', { detail: 'see the failures above, or gamepipe runs --pipeline funnel --failed' });
}

const FILTER_OPTIONS: [FilterName, string][] = [
  ['platform', 'platform'],
  ['country', 'country'],
  ['appVersion', 'app-version'],
  ['levelFunnel', 'level-funnel'],
  ['levelFunnelVersion', 'level-funnel-version'],
];

/** Query parameters besides the filters: API name → CLI option (commander's camelCase key is the API name). */
const QUERY_OPTIONS: [string, string, string][] = [
  ['installFrom', 'install-from', 'install-date cohort: players whose first register is on or after this day (YYYY-MM-DD)'],
  ['installTo', 'install-to', 'install-date cohort: players whose first register is on or before this day (YYYY-MM-DD)'],
  ['funnel', 'funnel', 'exact levelFunnel:version pairs, e.g. live_v1:15,live_v2:16'],
  ['levelLimit', 'level-limit', 'list at most this many levels, the lowest first (default 100)'],
];

/** A parse error as the CLI names it: `levelFunnelVersion: …` → `--level-funnel-version: …`. */
function cliError(error: string): string {
  for (const [name, flag] of [...FILTER_OPTIONS, ...QUERY_OPTIONS, ['from', 'from'], ['to', 'to']] as [string, string][]) {
    if (error.startsWith(`${name}: `) || error.startsWith(`${name} `)) return `--${flag}${error.slice(name.length)}`;
  }
  return error;
}

const fmt = (v: number | null, digits = 1) => (v === null ? '—' : v.toFixed(digits));

export function formatLevels(answer: FunnelAnswer): string[] {
  const header = ['level', 'starts', 'completes', 'fails', 'started', 'completed', 'churnSC%', 'churnCN%', 'churnTot%', 'win%', 'fail%',
    'booster%', 'egp%', 'compl%', 'funnel%', 'apsRaw', 'apsClean', 'meanCompl(s)', 'meanFail(s)', 'churnD3%', 'churnD7%'];
  const rows = answer.levels.map((l: LevelMetrics) => [
    String(l.levelId), formatCount(l.starts), formatCount(l.completes), formatCount(l.fails), formatCount(l.startedPlayers), formatCount(l.completedPlayers),
    fmt(l.churnStartComplete), fmt(l.churnCompleteNext), fmt(l.churnTotal), fmt(l.winRate), fmt(l.failRate), fmt(l.boosterUsage), fmt(l.egpRate),
    fmt(l.completionRate), fmt(l.funnelRate), fmt(l.apsRaw, 2), fmt(l.apsClean, 2), fmt(l.meanCompletionDuration), fmt(l.meanFailDuration),
    fmt(l.churnD3), fmt(l.churnD7),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)];
}

export function registerFunnel(program: Command): void {
  const funnel = program.command('funnel').description('level funnel: daily pre-aggregation, backfill and queries (docs/metrics.md)');

  funnel
    .command('aggregate')
    .description('aggregate one day of level events (silver → lake per-player rows → level_metrics_daily) and rebuild the query index')
    .option('--game <id>', 'a game (repeatable); default: every game with level events that day', collect)
    .option('--date <date>', 'the UTC day (YYYY-MM-DD); default: yesterday')
    .option('--concurrency <n>', 'jobs at once', positiveInt('--concurrency'))
    .option('--json', 'machine-readable output')
    .action(async (opts: AggregateOptions & { date?: string }) => {
      await aggregateAndReport([checkDate(opts.date ?? yesterdayUtc(), '--date')], opts);
    });

  funnel
    .command('backfill')
    .description('aggregate every day of a range (idempotent: re-run any range, each (game, day) replaces only itself)')
    .option('--game <id>', 'a game (repeatable); default: every game with level events in the range', collect)
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last day (YYYY-MM-DD)')
    .option('--resume', 'skip (game, day) jobs whose latest run succeeded')
    .option('--concurrency <n>', 'jobs at once', positiveInt('--concurrency'))
    .option('--json', 'machine-readable output')
    .action(async (opts: AggregateOptions & { from: string; to: string }) => {
      await aggregateAndReport(dateRange(checkDate(opts.from, '--from'), checkDate(opts.to, '--to'), { from: '--from', to: '--to' }), opts);
    });

  funnel
    .command('games')
    .description('games with valid level events in silver')
    .option('--from <date>', 'first day (default: all days)')
    .option('--to <date>', 'last day (default: --from)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { from?: string; to?: string; json?: boolean }) => {
      if (opts.to && !opts.from) throw new GamepipeError('--to needs --from', { expected: '--from D1 [--to D2]' });
      const days = opts.from ? dateRange(checkDate(opts.from, '--from'), checkDate(opts.to ?? opts.from, '--to'), { from: '--from', to: '--to' }) : undefined;
      const games = await listGamesWithLevelEvents(resolvePaths(), days);
      if (opts.json) return printJson(games);
      if (games.length === 0) return printLine('no games with level events');
      for (const g of games) printLine(`${g.gameId.padEnd(24)} ${formatCount(g.levelEvents).padStart(14)} level events  ${g.firstDay}..${g.lastDay}`);
    });

  funnel
    .command('index')
    .description("rebuild a game's query index from its aggregated days (aggregate and backfill do it)")
    .requiredOption('--game <id>', 'the game')
    .option('--json', 'machine-readable output')
    .action(async (opts: { game: string; json?: boolean }) => {
      await withConnections(async ({ paths, connections }) => {
        const outcome = await rebuildFunnelIndex({ paths, connections }, checkGameId(opts.game));
        if (opts.json) printJson(outcome);
        else if (outcome.status === 'succeeded') printLine(`✔ ${outcome.gameId}: index rebuilt (${formatCount(outcome.rows ?? 0)} rows) in ${formatDuration(outcome.durationMs)}`);
        if (outcome.status === 'failed') throw new GamepipeError(`index of ${outcome.gameId} failed`, { detail: outcome.error });
      });
    });

  const query = funnel
    .command('query')
    .description('per-level funnel metrics for a date range and filters (several values: comma-separated; case-insensitive)')
    .requiredOption('--game <id>', 'the game')
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD, UTC)')
    .requiredOption('--to <date>', 'last day (YYYY-MM-DD, UTC)');
  for (const [, flag] of FILTER_OPTIONS) query.option(`--${flag} <values>`, `${flag} filter, e.g. a,b`);
  for (const [, flag, help] of QUERY_OPTIONS) query.option(`--${flag} <value>`, help);
  query
    .option('--method <method>', 'fast (pre-aggregates) or raw (silver events, the reference)', 'fast')
    .option('--json', 'the API JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const params: Record<string, unknown> = { from: opts.from, to: opts.to };
      for (const [name] of [...FILTER_OPTIONS, ...QUERY_OPTIONS]) if (opts[name] !== undefined) params[name] = opts[name];
      const parsed = parseFunnelQuery({ gameId: opts.game, params });
      const errors = parsed.ok ? [] : parsed.errors.map(cliError);
      const method = parseMethod(opts.method, errors);
      if (!parsed.ok || errors.length) {
        throw new GamepipeError(`invalid query: ${errors.join('; ')}`, {
          expected: '--game G --from YYYY-MM-DD --to YYYY-MM-DD [--platform a,b] [--country …] [--app-version …] [--level-funnel …] [--level-funnel-version 1,2] [--funnel live_v1:15,live_v2:16] [--install-from D] [--install-to D] [--method fast|raw]',
        });
      }
      // one question: read the Parquet snapshot, no copy into memory
      const service = await LevelFunnelService.open(resolvePaths(), { inMemory: false });
      try {
        const answer = await service.query(parsed.value, method);
        if (opts.json) return printJson(answer);
        const filters = [
          ...Object.entries(answer.filters).map(([k, v]) => `${k}=${v.join(',')}`),
          ...(answer.funnelPairs ? [`funnel=${answer.funnelPairs.map((p) => `${p.levelFunnel}:${p.levelFunnelVersion}`).join(',')}`] : []),
          ...(answer.install ? [`install=${answer.install.from ?? '…'}..${answer.install.to ?? '…'}`] : []),
        ].join(' ');
        printLine(`${answer.gameId} ${answer.from}..${answer.to}${filters ? ` ${filters}` : ''} (${answer.method}, ${answer.tookMs} ms)`);
        if (answer.missingDays.length) {
          const shown = answer.missingDays.length > 5 ? `${answer.missingDays.slice(0, 5).join(', ')} … (${answer.missingDays.length} days)` : answer.missingDays.join(', ');
          printLine(`note: no ${answer.method === 'fast' ? 'aggregates' : 'silver events'} for ${shown}`);
        }
        if (answer.levels.length === 0) return printLine('no level events');
        for (const line of formatLevels(answer)) printLine(line);
      } finally {
        await service.close();
      }
    });
}
