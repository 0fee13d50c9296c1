import fs from 'node:fs';
import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { foldFilters, foldPairs } from './caseFold.js';
import { FunnelIndexCache, fastQuerySql, resolveFilters } from './fastIndex.js';
import { baseFromRow, levelMetrics, type LevelBase, type LevelMetrics } from './metrics.js';
import { DEFAULT_LEVEL_LIMIT, normalizeFilters, type FunnelFilters, type FunnelMethod, type FunnelPair, type FunnelQuery, type InstallRange } from './params.js';
import { installDaysSql } from './installs.js';
import { rawHorizonSql, rawQuerySql } from './rawQuery.js';
import { eventDays, eventsDayDir, silverFiles } from '../lake/zones.js';
import { DuckPool } from '../engine/duckdb.js';
import { dateRange } from '../core/dates.js';

/**
 * The level-funnel query service: one long-lived DuckDB (DuckPool) shared by every request, the
 * fast path over each game's loaded index, and the raw path over silver. Both paths return the
 * same shape; `levelMetrics` derives every ratio from the same base numbers.
 */
export interface FunnelAnswer {
  gameId: string;
  from: string;
  to: string;
  method: FunnelMethod;
  filters: FunnelFilters;
  /** The funnel pairs asked for (names folded), when any. */
  funnelPairs?: FunnelPair[];
  /** The install-date cohort asked for, when any. */
  install?: InstallRange;
  /** Days of the range the path has no data for: not aggregated yet (fast), no silver partition (raw). */
  missingDays: string[];
  /** The lowest `levelLimit` levels are listed, of `totalLevels`. */
  levelLimit: number;
  totalLevels: number;
  levels: LevelMetrics[];
  tookMs: number;
}

export class FunnelNotAggregatedError extends GamepipeError {}

export class LevelFunnelService {
  readonly indexes: FunnelIndexCache;

  private constructor(
    private readonly paths: GamepipePaths,
    private readonly pool: DuckPool,
    inMemory: boolean,
  ) {
    this.indexes = new FunnelIndexCache(pool, paths, inMemory);
  }

  /**
   * `inMemory` (default true) copies each game's index into memory in the background for
   * millisecond answers; a one-shot caller (the CLI) sets it false and reads the Parquet snapshot.
   */
  static async open(
    paths: GamepipePaths,
    options: { threads?: number; connections?: number; inMemory?: boolean } = {},
  ): Promise<LevelFunnelService> {
    const { inMemory = true, ...pool } = options;
    return new LevelFunnelService(paths, await DuckPool.open(paths.tmp, pool), inMemory);
  }

  async query(question: FunnelQuery, method: FunnelMethod): Promise<FunnelAnswer> {
    const started = performance.now();
    const q = await this.folded(question);
    const { bases, missingDays } = method === 'fast' ? await this.fastFolded(q) : await this.rawFolded(q);
    const levels = levelMetrics(bases);
    const levelLimit = q.levelLimit ?? DEFAULT_LEVEL_LIMIT;
    return {
      gameId: q.gameId,
      from: q.from,
      to: q.to,
      method,
      filters: q.filters,
      ...(q.funnelPairs ? { funnelPairs: q.funnelPairs } : {}),
      ...(q.install ? { install: q.install } : {}),
      missingDays,
      levelLimit,
      totalLevels: levels.length,
      levels: levels.slice(0, levelLimit),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    };
  }

  /** The question with its filters as both paths compare them: deduplicated, text folded (caseFold.ts). */
  private async folded(question: FunnelQuery): Promise<FunnelQuery> {
    const q: FunnelQuery = { ...question, filters: await foldFilters(this.pool, normalizeFilters(question.filters)) };
    if (question.funnelPairs) q.funnelPairs = await foldPairs(this.pool, question.funnelPairs);
    return q;
  }

  /** Per-level base numbers from the pre-aggregates. */
  async fastBases(question: FunnelQuery): Promise<{ bases: LevelBase[]; missingDays: string[] }> {
    return this.fastFolded(await this.folded(question));
  }

  private async fastFolded(q: FunnelQuery): Promise<{ bases: LevelBase[]; missingDays: string[] }> {
    for (let attempt = 1; ; attempt++) {
      const index = await this.indexes.get(q.gameId);
      if (!index) {
        throw new FunnelNotAggregatedError(`no level funnel aggregates for game ${q.gameId}`, {
          expected: `gamepipe funnel backfill --game ${q.gameId} --from ${q.from} --to ${q.to} (or --method raw)`,
        });
      }
      const missingDays = dateRange(q.from, q.to).filter((d) => !index.days.has(d));
      const resolved = resolveFilters(index, q);
      if (!resolved) return { bases: [], missingDays };
      try {
        const rows = await this.pool.rows(fastQuerySql(index, q, resolved));
        return { bases: rows.map(baseFromRow), missingDays };
      } catch (err) {
        // A rebuild replaced the snapshot (its file or tables are gone) between get() and the
        // query: ask again, once, for the new one.
        const now = await this.indexes.get(q.gameId).catch(() => null);
        if (attempt > 1 || !now || now === index) throw err;
      }
    }
  }

  /** Per-level base numbers straight from silver (the reference). */
  async rawBases(question: FunnelQuery): Promise<{ bases: LevelBase[]; missingDays: string[] }> {
    return this.rawFolded(await this.folded(question));
  }

  private async rawFolded(q: FunnelQuery): Promise<{ bases: LevelBase[]; missingDays: string[] }> {
    const days = dateRange(q.from, q.to);
    const missingDays = days.filter((d) => !fs.existsSync(eventsDayDir(this.paths.lake, 'silver', d)));
    const files = silverFiles(this.paths.lake, days);
    if (files.length === 0) return { bases: [], missingDays };
    const installs = q.install ? installDaysSql(this.paths, q.gameId) : undefined;
    const rows = await this.pool.rows(rawQuerySql(files, q, installs));
    // horizon churn reads every day: first starts before the range, completes after it
    const horizon = new Map(
      (await this.pool.rows<Record<string, unknown>>(rawHorizonSql(silverFiles(this.paths.lake, eventDays(this.paths.lake, 'silver')), q, installs))).map((r) => [Number(r.level_id), r]),
    );
    return { bases: rows.map((r) => baseFromRow({ ...r, ...horizon.get(Number(r.level_id)) })), missingDays };
  }

  async close(): Promise<void> {
    await this.indexes.clear().catch(() => undefined);
    this.pool.close();
  }
}
