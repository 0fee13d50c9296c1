import { GamepipeError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { GamepipePaths } from '../core/paths.js';
import { sqlString } from '../engine/duckdb.js';
import type { DuckPool } from './duckPool.js';
import { DIMENSIONS, FILTER_NAMES, filteredBits, type FilterName, type FunnelQuery } from './params.js';
import { levelFunnelIndexDir, parquetFiles } from './paths.js';

/**
 * The fast path over a game's index (layouts/funnel/level_funnel_index.json: one Parquet
 * snapshot, sorted, rebuilt after each aggregation; the template explains its parts).
 *
 * A new snapshot (noticed with one directory listing per question) is queried at once straight
 * from its Parquet file — DuckDB skips row groups by their min/max, tens of milliseconds — while
 * it is copied in the background into in-memory tables of the service's long-lived DuckDB, which
 * then answer in a few milliseconds. So answers are never stale and a rebuild never stalls the
 * API. The previous snapshot's tables are dropped once the new ones are in.
 *
 * A question on dimensions S reads the smallest rollup keeping S (rollupFor):
 *   counts   sums per level over the days in range (events, durations, entries)
 *   links    entries in range whose previous entry of the same player and level is in range too
 *   pairs    players whose dimensions vary: the ones a filter matches only after their first entry
 * players = entries − links (+ pairs), exact: docs/metrics.md#level-funnel.
 */

export interface LoadedIndex {
  gameId: string;
  /** The snapshot's file names: a rebuild writes new ones. */
  key: string;
  /** Where the parts are read: in-memory tables, or the Parquet snapshot itself. */
  storage: 'memory' | 'parquet';
  /** Relations (table names or parenthesized subqueries) of the three parts. */
  tables: { counts: string; links: string; pairs: string };
  /** Days the index was built from (aggregated days, empty ones included). */
  days: Set<string>;
  /** Stored values of each dimension (NULL left out), to resolve case-insensitive filters. */
  values: Record<FilterName, string[]>;
  /** Milliseconds to open (parquet) or to copy into memory (memory). */
  loadMs: number;
}

interface GameState {
  current: LoadedIndex;
  /** The in-memory copy of `current` being made. */
  loading?: Promise<LoadedIndex | null>;
}

const DIMS = 'platform, country_code, app_version, level_funnel, level_funnel_version';
const PART_COLUMNS = {
  counts: `set_id, level_id, ds, ${DIMS}, starts, completes, fails, started_entries, completed_entries,
           booster_events, egp_events, completion_duration_us, completions_with_duration, fail_duration_us, fails_with_duration`,
  links: `set_id, kind, level_id, ds, prev_ds, ${DIMS}, n`,
  pairs: `kind, level_id, ds, prev_ds, ${DIMS}, pair_id, mask`,
} as const;

export class FunnelIndexCache {
  private readonly games = new Map<string, GameState>();
  private readonly opening = new Map<string, Promise<LoadedIndex>>();
  private generation = 0;

  /** `inMemory: false` (one-shot CLI queries) reads the Parquet snapshot only. */
  constructor(
    private readonly pool: DuckPool,
    private readonly paths: GamepipePaths,
    private readonly inMemory = true,
  ) {}

  /** The game's current index; null when the game was never aggregated. */
  async get(gameId: string): Promise<LoadedIndex | null> {
    const files = parquetFiles(levelFunnelIndexDir(this.paths, gameId));
    const state = this.games.get(gameId);
    // A rebuild swaps the folder by two renames; between them keep the snapshot in hand.
    if (files.length === 0) return state?.current ?? null;
    const key = files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(',');
    if (state && state.current.key === key) return state.current;
    const pendingKey = `${gameId}\0${key}`;
    let opening = this.opening.get(pendingKey);
    if (!opening) {
      opening = this.open(gameId, files, key).finally(() => this.opening.delete(pendingKey));
      this.opening.set(pendingKey, opening);
    }
    return opening;
  }

  /** The game's index once it is in memory (tests and the benchmark wait for it). */
  async ready(gameId: string): Promise<LoadedIndex | null> {
    const index = await this.get(gameId);
    if (!index) return null;
    const state = this.games.get(gameId);
    if (state?.loading) await state.loading;
    return this.games.get(gameId)?.current ?? index;
  }

  private async open(gameId: string, files: string[], key: string): Promise<LoadedIndex> {
    const started = performance.now();
    const source = `read_parquet([${files.map(sqlString).join(', ')}])`;
    const tables = {
      counts: `(SELECT ${PART_COLUMNS.counts} FROM ${source} WHERE part = 'counts')`,
      links: `(SELECT ${PART_COLUMNS.links} FROM ${source} WHERE part = 'links')`,
      pairs: `(SELECT ${PART_COLUMNS.pairs} FROM ${source} WHERE part = 'pairs')`,
    };
    let days: { ds: string }[];
    let values: Record<FilterName, string[]>;
    try {
      days = await this.pool.rows<{ ds: string }>(`SELECT CAST(ds AS VARCHAR) AS ds FROM ${source} WHERE part = 'days'`);
      values = await this.dimensionValues(tables.counts);
    } catch (err) {
      throw new GamepipeError(`cannot read the level funnel index of game ${gameId}: ${(err as Error).message}`, {
        file: levelFunnelIndexDir(this.paths, gameId),
        expected: 'a snapshot written by layouts/funnel/level_funnel_index.json (gamepipe funnel aggregate rebuilds it)',
      }, { cause: err });
    }
    const index: LoadedIndex = {
      gameId, key, storage: 'parquet', tables, days: new Set(days.map((d) => d.ds)), values, loadMs: performance.now() - started,
    };
    const previous = this.games.get(gameId);
    const state: GameState = { current: index };
    this.games.set(gameId, state);
    if (previous?.current.storage === 'memory') await this.drop(previous.current);
    if (this.inMemory) {
      state.loading = this.copyToMemory(index, source).then(
        (copied) => {
          if (this.games.get(gameId) === state) state.current = copied;
          else void this.drop(copied);
          delete state.loading;
          return copied;
        },
        (err: unknown) => {
          // Queries keep reading the Parquet snapshot; the next snapshot tries again.
          logger.warn({ gameId, error: (err as Error).message }, 'level funnel index stays on Parquet: copy into memory failed');
          delete state.loading;
          return null;
        },
      );
    }
    return index;
  }

  private async dimensionValues(counts: string): Promise<Record<FilterName, string[]>> {
    const values = {} as Record<FilterName, string[]>;
    for (const name of FILTER_NAMES) {
      const { column, bit } = DIMENSIONS[name];
      const rows = await this.pool.rows<{ v: string }>(
        `SELECT DISTINCT CAST(${column} AS VARCHAR) AS v FROM ${counts} WHERE set_id = ${bit} AND ${column} IS NOT NULL`,
      );
      values[name] = rows.map((r) => r.v);
    }
    return values;
  }

  private async copyToMemory(index: LoadedIndex, source: string): Promise<LoadedIndex> {
    const started = performance.now();
    const g = ++this.generation;
    const tables = { counts: `funnel_counts_${g}`, links: `funnel_links_${g}`, pairs: `funnel_pairs_${g}` };
    const copied: LoadedIndex = { ...index, storage: 'memory', tables, loadMs: 0 };
    try {
      await this.pool.with(async (c) => {
        // The snapshot is sorted (part, set_id, dimensions, day) and the copies keep that order,
        // so the tables' row-group min/max let the scans skip what a question does not need.
        for (const part of ['counts', 'links', 'pairs'] as const) {
          await c.run(`CREATE TABLE ${tables[part]} AS SELECT ${PART_COLUMNS[part]} FROM ${source} WHERE part = '${part}'`);
        }
      });
    } catch (err) {
      await this.drop(copied);
      throw err;
    }
    copied.loadMs = performance.now() - started;
    return copied;
  }

  private async drop(index: LoadedIndex): Promise<void> {
    if (index.storage !== 'memory') return;
    // Queries already running on these tables finish on their own snapshot (DuckDB MVCC).
    for (const t of Object.values(index.tables)) await this.pool.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  }

  /** Rows per part of the game's current index. */
  async rowCounts(gameId: string): Promise<{ counts: number; links: number; pairs: number } | null> {
    const index = await this.get(gameId);
    if (!index) return null;
    const count = async (relation: string) => Number((await this.pool.rows<{ n: number }>(`SELECT count(*) AS n FROM ${relation}`))[0]!.n);
    return { counts: await count(index.tables.counts), links: await count(index.tables.links), pairs: await count(index.tables.pairs) };
  }

  /** Forgets every index (in-memory copies are dropped once their copy finished). */
  async clear(): Promise<void> {
    const states = [...this.games.values()];
    this.games.clear();
    for (const state of states) {
      const copied = await state.loading;
      if (copied) await this.drop(copied);
      await this.drop(state.current);
    }
  }
}

/**
 * Filters as exact stored values (`ios` → 'iOS'; `live_v1` → 'live_v1', 'LIVE_V1'), so the scans
 * compare plain columns and DuckDB can skip row groups. Null when a filter matches no stored
 * value: the answer is then empty.
 */
export function resolveFilters(index: LoadedIndex, q: FunnelQuery): Partial<Record<FilterName, string[]>> | null {
  const resolved: Partial<Record<FilterName, string[]>> = {};
  for (const name of FILTER_NAMES) {
    const wanted = q.filters[name];
    if (!wanted) continue;
    const set = new Set(wanted);
    const matches = DIMENSIONS[name].integer
      ? index.values[name].filter((v) => set.has(v))
      : index.values[name].filter((v) => set.has(v.toLowerCase()));
    if (matches.length === 0) return null;
    resolved[name] = matches;
  }
  return resolved;
}

function exactFilterSql(resolved: Partial<Record<FilterName, string[]>>): string {
  const parts: string[] = [];
  for (const name of FILTER_NAMES) {
    const values = resolved[name];
    if (!values) continue;
    const { column, integer } = DIMENSIONS[name];
    parts.push(`${column} IN (${(integer ? values : values.map(sqlString)).join(', ')})`);
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** Rollups in the index (set_id = bits of the dimensions kept); see level_funnel_index.sql.j2. */
export const ROLLUPS = [0, 16, 8, 4, 2, 1, 7, 31] as const;

/** The smallest rollup keeping every filtered dimension. */
export function rollupFor(bits: number): number {
  if (bits === 0 || (bits & (bits - 1)) === 0) return bits;
  return (bits & ~7) === 0 ? 7 : 31;
}

/** The per-level base numbers from a loaded index (columns as in rawQuerySql). */
export function fastQuerySql(index: LoadedIndex, q: FunnelQuery, resolved: Partial<Record<FilterName, string[]>>): string {
  const bits = filteredBits(q.filters);
  const setId = rollupFor(bits);
  const where = exactFilterSql(resolved);
  const from = `DATE ${sqlString(q.from)}`;
  const range = `ds BETWEEN ${from} AND DATE ${sqlString(q.to)}`;
  const { counts, links, pairs } = index.tables;
  // Pairs whose filtered dimensions vary may match F on a later entry but not on their first in
  // range: add (distinct such pairs with an entry in F) − (those whose first entry is in F).
  // Without filters every pair counts through its first entry, so there is nothing to add.
  const extra = bits === 0
    ? `SELECT NULL::INTEGER AS level_id, 0 AS started_extra, 0 AS completed_extra WHERE false`
    : `SELECT level_id,
              count(DISTINCT pair_id) FILTER (WHERE kind = 's') - count(*) FILTER (WHERE kind = 's' AND first_in_range) AS started_extra,
              count(DISTINCT pair_id) FILTER (WHERE kind = 'c') - count(*) FILTER (WHERE kind = 'c' AND first_in_range) AS completed_extra
       FROM (SELECT kind, level_id, pair_id, coalesce(prev_ds < ${from}, true) AS first_in_range
             FROM ${pairs} WHERE ${range} AND (mask & ${bits}) <> 0 AND ${where})
       GROUP BY level_id`;
  return `
WITH c AS (
  SELECT level_id,
         sum(starts) AS starts, sum(completes) AS completes, sum(fails) AS fails,
         sum(started_entries) AS started_entries, sum(completed_entries) AS completed_entries,
         sum(booster_events) AS booster_events, sum(egp_events) AS egp_events,
         sum(completion_duration_us) AS completion_duration_us, sum(completions_with_duration) AS completions_with_duration,
         sum(fail_duration_us) AS fail_duration_us, sum(fails_with_duration) AS fails_with_duration
  FROM ${counts}
  WHERE set_id = ${setId} AND ${range} AND ${where}
  GROUP BY level_id
),
l AS (
  SELECT level_id,
         sum(n) FILTER (WHERE kind = 's') AS started_links,
         sum(n) FILTER (WHERE kind = 'c') AS completed_links
  FROM ${links}
  WHERE set_id = ${setId} AND ${range} AND prev_ds >= ${from} AND ${where}
  GROUP BY level_id
),
x AS (${extra})
SELECT c.level_id,
       c.starts::BIGINT AS starts, c.completes::BIGINT AS completes, c.fails::BIGINT AS fails,
       (c.started_entries - coalesce(l.started_links, 0) + coalesce(x.started_extra, 0))::BIGINT AS started_players,
       (c.completed_entries - coalesce(l.completed_links, 0) + coalesce(x.completed_extra, 0))::BIGINT AS completed_players,
       c.booster_events::BIGINT AS booster_events, c.egp_events::BIGINT AS egp_events,
       c.completion_duration_us::BIGINT AS completion_duration_us, c.completions_with_duration::BIGINT AS completions_with_duration,
       c.fail_duration_us::BIGINT AS fail_duration_us, c.fails_with_duration::BIGINT AS fails_with_duration
FROM c LEFT JOIN l USING (level_id) LEFT JOIN x USING (level_id)
ORDER BY c.level_id`;
}
