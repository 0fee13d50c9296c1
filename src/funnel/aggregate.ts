import fs from 'node:fs';
import path from 'node:path';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { DuckEngine } from '../engine/duckdb.js';
import type { RunContext } from '../engine/runJob.js';
import { loadPipeline } from '../pipeline/definition.js';
import type { ProgressReporter } from '../pipeline/progress.js';
import { runPipeline, type PipelineRunResult, type TaskOutcome } from '../pipeline/runPipeline.js';
import { checkGameId, FUNNEL_PIPELINE_DIR, isGameId } from './paths.js';
import { eventDays, eventsDayDir, silverFiles, tableDir } from '../lake/zones.js';
import { sqlString } from '../sql/quote.js';

/**
 * Aggregation of the level funnel: one run of the pipeline `pipelines/funnel` over every
 * (game, day): silver → gold/level_players in the lake → level_metrics_daily in WAREHOUSE, each
 * step replacing only that game's day, and the game's query index (keyed by gameId alone),
 * rebuilt from all its days once that game's day tasks have succeeded. Everything is set-based
 * SQL in DuckDB and bulk COPY into PostgreSQL; re-running any day gives the same rows; silver is
 * only read.
 */

export const FUNNEL_PIPELINE_NAME = 'funnel';
export const INDEX_JOB = 'level_funnel_index';

export interface GameLevelEvents {
  gameId: string;
  levelEvents: number;
  firstDay: string;
  lastDay: string;
}

/** Games with valid level events in silver (all days, or the given ones), biggest first. */
export async function listGamesWithLevelEvents(paths: GamepipePaths, days?: string[]): Promise<GameLevelEvents[]> {
  const files = silverFiles(paths.lake, days ?? eventDays(paths.lake, 'silver'));
  if (files.length === 0) return [];
  const engine = await DuckEngine.open(paths.tmp);
  try {
    const rows = await engine.rows<{ game_id: string; level_events: number; first_day: string; last_day: string }>(
      `SELECT game_id, count(*)::BIGINT AS level_events, CAST(min(ds) AS VARCHAR) AS first_day, CAST(max(ds) AS VARCHAR) AS last_day
       FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = true, union_by_name = true)
       WHERE is_valid AND NOT is_duplicate AND event_name IN ('level_start', 'level_complete', 'level_failed')
         AND game_id IS NOT NULL AND user_id IS NOT NULL AND level_id IS NOT NULL
       GROUP BY game_id
       ORDER BY level_events DESC, game_id`,
    );
    return rows.map((r) => ({ gameId: r.game_id, levelEvents: Number(r.level_events), firstDay: r.first_day, lastDay: r.last_day }));
  } finally {
    engine.close();
  }
}

export interface AggregateOptions {
  /** Games to aggregate; default: every game with level events on those days. */
  games?: string[];
  dates: string[];
  concurrency?: number;
  reporter?: ProgressReporter;
  /** Skip (game, day) jobs whose latest run succeeded (resume a failed backfill). */
  resume?: boolean;
}

export interface IndexOutcome {
  gameId: string;
  /** skipped: a day task of the game failed (the index keeps its previous snapshot). */
  status: 'succeeded' | 'failed' | 'skipped';
  rows?: number;
  durationMs: number;
  error?: string;
}

export interface AggregateResult {
  ok: boolean;
  games: string[];
  dates: string[];
  pipeline: PipelineRunResult | null;
  indexes: IndexOutcome[];
  durationMs: number;
}

/** Games with per-player rows in the lake for any of the days. */
function aggregatedGames(paths: GamepipePaths, dates: string[]): string[] {
  const root = tableDir(paths.lake, 'gold', 'level_players');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(root);
  } catch {
    return [];
  }
  return dirs
    .map((d) => /^game_id=(.+)$/.exec(d)?.[1])
    .filter((g): g is string => g !== undefined && isGameId(g))
    .filter((g) => dates.some((d) => fs.existsSync(path.join(root, `game_id=${g}`, `ds=${d}`))))
    .sort();
}

/** Silver must exist for every day: a missing day is an error naming it, before anything runs. */
function checkSilver(paths: GamepipePaths, dates: string[]): void {
  const missing = dates.filter((d) => !fs.existsSync(eventsDayDir(paths.lake, 'silver', d)));
  if (missing.length) {
    const shown = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} … (${missing.length} days)` : missing.join(', ');
    throw new GamepipeError(`no silver events for ${shown}`, {
      file: eventsDayDir(paths.lake, 'silver', missing[0]!),
      expected: 'silver built for every day first (pipelines/daily/silver/silver_events.json); the funnel reads only silver',
    });
  }
}

export async function aggregateLevelFunnel(ctx: RunContext, options: AggregateOptions): Promise<AggregateResult> {
  const started = Date.now();
  const dates = [...new Set(options.dates)].sort();
  if (dates.length === 0) throw new GamepipeError('no dates to aggregate', { expected: 'one or more days YYYY-MM-DD' });
  checkSilver(ctx.paths, dates);
  // Every game: those with level events in silver on these days, and those aggregated for them
  // before (a silver rebuild may have removed all of a game's events: its old rows must go too).
  const games = options.games?.length
    ? [...new Set(options.games.map((g) => checkGameId(g)))]
    : [...new Set([...(await listGamesWithLevelEvents(ctx.paths, dates)).map((g) => g.gameId), ...aggregatedGames(ctx.paths, dates)])];
  if (games.length === 0) {
    return { ok: true, games, dates, pipeline: null, indexes: [], durationMs: Date.now() - started };
  }
  const varSets = games.flatMap((gameId) => dates.map((logDate) => ({ gameId, logDate })));
  const pipeline = await runPipeline(loadPipeline(FUNNEL_PIPELINE_DIR), ctx, {
    varSets,
    dateVar: 'logDate',
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.reporter ? { reporter: options.reporter } : {}),
    ...(options.resume ? { fromFailure: true } : {}),
  });
  const indexes = pipeline.tasks.filter((t) => t.job === INDEX_JOB).map(indexOutcome);
  return { ok: pipeline.ok, games, dates, pipeline, indexes, durationMs: Date.now() - started };
}

function indexOutcome(task: TaskOutcome): IndexOutcome {
  return {
    gameId: task.vars.gameId!,
    status: task.status,
    ...(task.result ? { rows: task.result.rowsWritten } : {}),
    durationMs: task.result?.durationMs ?? 0,
    ...(task.error ? { error: task.error } : {}),
  };
}

/** Rebuilds one game's query index from every day of its per-player rows: the index job alone, through the runner. */
export async function rebuildFunnelIndex(ctx: RunContext, gameId: string): Promise<IndexOutcome> {
  checkGameId(gameId);
  const pipeline = await runPipeline(loadPipeline(FUNNEL_PIPELINE_DIR), ctx, { varSets: [{ gameId }], only: [INDEX_JOB], concurrency: 1 });
  return indexOutcome(pipeline.tasks[0]!);
}
